"""suspect_labels: labeled items ranked by how likely their label is wrong."""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np
import pandas as pd

from alwidgets._multilabel import is_indicator
from alwidgets._validation import check_estimator, is_dataframe, n_rows
from alwidgets.exceptions import InvalidInputError
from alwidgets.review._multilabel import suspect_multilabel
from alwidgets.review._oof import check_folds, out_of_fold_proba
from alwidgets.review._scores import (
    AUTO_CANDIDATES,
    SCORES,
    check_score_name,
    check_scores,
    choose_score,
    class_thresholds,
    label_scores,
)

__all__ = ["SCORES", "class_thresholds", "label_scores", "likely_wrong", "suspect_labels"]

#: At most this share of the items is set aside before the second round.
MAX_SET_ASIDE = 0.3


def likely_wrong(proba: np.ndarray, given: np.ndarray) -> np.ndarray:
    """Mask of the items confident learning counts as mislabeled (capped at 30 %).

    An item is counted in another class ``j`` when ``p(j)`` reaches that class's
    threshold ``t(j)`` (:func:`class_thresholds`) and ``j`` is the most probable of
    the classes that do (the confident joint of Northcutt et al. 2021); it is likely
    wrong when that class is not its label. An item the model is merely unsure about
    (no class reaches its threshold) is not. Beyond 30 % of the items, the most
    suspect (class-normalised score) are kept.

    Examples
    --------
    >>> import numpy as np
    >>> proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.6, 0.4], [0.8, 0.2]])
    >>> likely_wrong(proba, np.array([0, 0, 1, 0])).tolist()
    [False, True, False, False]
    """
    t = class_thresholds(proba, given)
    confident = proba >= t
    counted = np.where(confident, proba, -np.inf).argmax(axis=1)
    mask = confident.any(axis=1) & (counted != given)
    cap = int(MAX_SET_ASIDE * len(given))
    if mask.sum() > cap:
        top = np.argsort(-label_scores(proba, given, "class_normalized"), kind="stable")[:cap]
        mask = np.zeros(len(given), dtype=bool)
        mask[top] = True
    return mask


def _every_class_kept(given: np.ndarray, keep: np.ndarray, folds: int) -> bool:
    """Whether every class keeps enough items that each training part still has one."""
    counts = np.bincount(given[keep], minlength=int(given.max()) + 1)
    return bool(counts.min() >= folds)


def _ids(X: Any, labels: Any, n: int) -> pd.Index:
    if is_dataframe(X):
        return pd.Index(X.index)
    if isinstance(labels, pd.Series):
        return pd.Index(labels.index)
    return pd.RangeIndex(n)


def suspect_labels(
    estimator: Any,
    X: Any,
    labels: Any,
    *,
    cv: int = 5,
    random_state: int | None = None,
    n_repeats: int = 3,
    score: str = "auto",
    set_aside: bool = True,
) -> pd.DataFrame:
    """Rank labeled items by how likely their label is wrong (most suspect first).

    Every item is judged from **out-of-fold** probabilities: ``estimator`` is fit on
    the other folds, so a model never judges a label it was trained on. Three things
    on top of that plain recipe, each measured on planted wrong labels
    (``benchmarks/bench_review.py``):

    1. the folds are drawn ``n_repeats`` times and the probabilities averaged (less
       luck of one split);
    2. two rounds: the items the first round counts as mislabeled (confident
       learning's confident joint, :func:`likely_wrong`; at most 30 %) are **set
       aside** from every training part of the second round, so wrong labels stop
       teaching the judges; every item is still judged;
    3. the score is **chosen by the data** (``score="auto"``): each candidate score is
       checked on made-up wrong labels — every item paired with the other classes,
       which to the out-of-fold judges look exactly like labels flipped at random —
       and the one that best tells them from the given labels (AUROC,
       :func:`~alwidgets.review.check_scores`) ranks the items. Candidates:
       ``self_confidence`` (the plain baseline's score), ``class_normalized`` (wins
       when some classes are always predicted with low confidence, e.g. a rare
       class) and ``confidence_margin`` (wins with many classes and items the
       model finds ambiguous between several). No label has to be known wrong.

    Parameters
    ----------
    estimator : classifier
        An unfitted scikit-learn classifier with ``predict_proba`` (a ``Pipeline`` is
        fine, e.g. ``TextFeatures`` + ``LogisticRegression`` on raw texts). Cloned per fold.
    X : array-like, sparse matrix, DataFrame or Series
        The labeled items, one row each.
    labels : array-like
        The given label of each row of ``X``. A 2-D 0/1 indicator (multi-label) gives
        one row per suspect (item, class) bit instead: see
        :func:`alwidgets.review._multilabel.suspect_multilabel`.
    cv : int, default 5
        Folds. When the smallest class has fewer labels than ``cv``, that many folds
        are used instead (at least 2); a class with a single label is an error.
    random_state : int or None
        Seed of the fold splits (and of the check's sample on very large sets).
    n_repeats : int, default 3
        Fold splits averaged (``cv * n_repeats`` fits).
    score : {"auto", "self_confidence", "class_normalized", "margin", "confidence_margin"}
        How probabilities become a score (:func:`~alwidgets.review.label_scores`);
        ``"auto"`` chooses among ``self_confidence``, ``class_normalized`` and
        ``confidence_margin`` as above (the check costs no extra fit). Multi-label
        ``labels``: ``"auto"`` means ``class_normalized``, and only that and
        ``self_confidence`` exist there.
    set_aside : bool, default True
        Run the second round without the first round's likely-wrong items
        (``2 * cv * n_repeats`` fits instead of ``cv * n_repeats``).

    Returns
    -------
    pandas.DataFrame
        One row per item, sorted by ``score`` (descending). Index: the ids (the index
        of a DataFrame/Series ``X``, else of a Series ``labels``, else positions).
        Columns ``label`` (given), ``guess`` (the most probable class out of fold),
        ``score`` (higher = more likely wrong), ``p_label`` and ``p_guess``.
        ``frame.attrs``: ``folds``; ``score`` (the score used); with ``score="auto"``
        also ``check`` (each candidate's AUROC on the made-up wrong labels) and
        ``candidates`` (each candidate's scores, a Series by id, in item order);
        ``set_aside`` (items kept out of the second round's training).

    Raises
    ------
    InvalidInputError
        Lengths differ, missing labels, fewer than two classes, or a class with one label.

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> y = y.copy(); y[[0, 60]] = [2, 0]            # two wrong labels
    >>> ranked = suspect_labels(LogisticRegression(max_iter=500), X, y, random_state=0)
    >>> sorted(ranked.index[:2].tolist())
    [0, 60]
    >>> list(ranked.columns)
    ['label', 'guess', 'score', 'p_label', 'p_guess']
    >>> ranked.attrs["score"] in ("self_confidence", "class_normalized", "confidence_margin")
    True
    """
    check_estimator(estimator)
    if is_indicator(labels):  # multi-label: one row per suspect (item, class) bit
        # the check that chooses a score is single-label; multi-label keeps its default
        return suspect_multilabel(
            estimator, X, labels, cv=cv, random_state=random_state, n_repeats=n_repeats,
            score="class_normalized" if score == "auto" else score, set_aside=set_aside,
        )  # fmt: skip
    n = n_rows(X)
    y_frame = labels.to_numpy() if hasattr(labels, "to_numpy") else np.asarray(labels)
    if y_frame.ndim != 1 or len(y_frame) != n:
        raise InvalidInputError(
            f"labels must be one label per row of X: X has {n} rows, labels has shape "
            f"{y_frame.shape}."
        )
    missing = pd.isna(pd.Series(y_frame, dtype=object)).to_numpy()
    if missing.any():
        where = np.flatnonzero(missing)[:10].tolist()
        raise InvalidInputError(
            f"labels are missing at rows {where}; pass only labeled items (drop the unlabeled rows)."
        )
    if y_frame.dtype == object:  # e.g. ints in an object Series: give them their own dtype
        y_frame = np.asarray(y_frame.tolist())
    if isinstance(n_repeats, bool) or not isinstance(n_repeats, numbers.Integral) or n_repeats < 1:
        raise InvalidInputError(f"n_repeats must be an integer >= 1, got {n_repeats!r}.")
    check_score_name(score)
    if random_state is not None and (
        isinstance(random_state, bool) or not isinstance(random_state, numbers.Integral)
    ):
        raise InvalidInputError(f"random_state must be None or an int, got {random_state!r}.")
    folds = check_folds(y_frame, cv)
    seed = int(np.random.SeedSequence(random_state).generate_state(1)[0])
    X_in = X.to_numpy() if isinstance(X, pd.Series) and X.dtype != object else X
    proba, classes = out_of_fold_proba(
        estimator, X_in, y_frame, cv=folds, n_repeats=n_repeats, seed=seed
    )
    given = np.searchsorted(classes, y_frame)
    aside = 0
    if set_aside:
        keep = ~likely_wrong(proba, given)
        if _every_class_kept(given, keep, folds):
            aside = int((~keep).sum())
            proba, _ = out_of_fold_proba(
                estimator,
                X_in,
                y_frame,
                cv=folds,
                n_repeats=n_repeats,
                seed=seed + 1,
                train_mask=keep,
            )
    ids = _ids(X, labels, n)
    checked: dict[str, float] = {}
    candidates: dict[str, pd.Series] = {}
    if score == "auto":
        checked = check_scores(proba, given, AUTO_CANDIDATES, random_state=seed)
        candidates = {c: pd.Series(label_scores(proba, given, c), index=ids) for c in checked}
        score = choose_score(checked)
    scores = candidates[score].to_numpy() if candidates else label_scores(proba, given, score)
    guess = proba.argmax(axis=1)
    rows = np.arange(n)
    frame = pd.DataFrame(
        {
            "label": y_frame,
            "guess": classes[guess],
            "score": scores,
            "p_label": proba[rows, given],
            "p_guess": proba[rows, guess],
        },
        index=ids,
    )
    frame.attrs.update(
        folds=folds, score=score, check=checked, candidates=candidates, set_aside=aside
    )
    return frame.sort_values("score", ascending=False, kind="stable")

"""Suspect labels of a multi-label data set: one row per (item, class) bit that looks wrong.

An item's label is a set of classes (a row of a 0/1 indicator). A *bit* is one class of
one item: given (1) or not given (0). Each bit is judged from out-of-fold
probabilities (:func:`out_of_fold_multilabel`: every item's classes predicted by models
fit without it, binary relevance with constant priors for classes a training part lacks);
a bit is **suspect** when the out-of-fold prediction disagrees with it (``p >= 0.5`` for
a class not given, ``p < 0.5`` for one given). :func:`suspect_multilabel` ranks them.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(120, 3))
>>> Y = np.column_stack([X[:, 0] > 0, X[:, 1] > 0, X[:, 0] + X[:, 2] > 0]).astype(int)
>>> Y[5, 0] = 1 - Y[5, 0]                       # one wrong bit: item 5, class 0
>>> table = suspect_multilabel(LogisticRegression(), X, Y, random_state=0)
>>> int(table.index[0]), int(table["class"].iloc[0]), bool(table["given"].iloc[0] == Y[5, 0])
(5, 0, True)
>>> list(table.columns)
['label', 'guess', 'class', 'given', 'score', 'p']
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.model_selection import KFold

from alwidgets._multilabel import as_multilabel, check_classes_occur, check_indicator
from alwidgets._utils import take_rows
from alwidgets._validation import is_dataframe, n_rows
from alwidgets.exceptions import InvalidInputError

__all__ = ["bit_scores", "out_of_fold_multilabel", "suspect_multilabel"]

#: At most this share of the items is set aside before the second round.
MAX_SET_ASIDE = 0.3


def out_of_fold_multilabel(
    estimator: Any,
    X: Any,
    Y: np.ndarray,
    *,
    cv: int,
    n_repeats: int,
    seed: int,
    train_mask: np.ndarray | None = None,
) -> np.ndarray:
    """Mean out-of-fold per-class probabilities over ``n_repeats`` shuffled ``cv``-fold splits.

    ``train_mask`` (boolean, optional) keeps items out of every training part (they are
    still judged). Shape (n_items, n_classes).
    """
    total = np.zeros(Y.shape, dtype=np.float64)
    model = as_multilabel(estimator)
    for repeat_seed in np.random.SeedSequence(seed).generate_state(n_repeats):
        folds = KFold(n_splits=cv, shuffle=True, random_state=int(repeat_seed))
        for train, test in folds.split(np.zeros(len(Y))):
            if train_mask is not None:
                train = train[train_mask[train]]
            fitted = clone(model).fit(take_rows(X, train), Y[train])
            total[test] += fitted.predict_proba(take_rows(X, test))
    return total / n_repeats


def bit_scores(proba: np.ndarray, Y: np.ndarray, method: str = "class_normalized") -> np.ndarray:
    """Score per (item, class) bit, higher = more likely wrong.

    ``p_given`` is the out-of-fold probability of the given bit (``p`` for a given class,
    ``1 - p`` for one not given).

    * ``self_confidence``: ``1 - p_given``.
    * ``class_normalized``: ``1 - p_given / t`` where ``t`` is the mean ``p_given`` of the
      class's bits with the same value (confident learning's per-class threshold, per
      bit value): a rare class, whose positives the model is seldom sure of, does not
      fill the queue just by being rare.

    Examples
    --------
    >>> proba = np.array([[0.9, 0.2], [0.4, 0.1], [0.2, 0.6]])
    >>> Y = np.array([[1, 0], [1, 0], [0, 0]])
    >>> bit_scores(proba, Y, "self_confidence").round(2).tolist()
    [[0.1, 0.2], [0.6, 0.1], [0.2, 0.6]]
    """
    p_given = np.where(Y == 1, proba, 1.0 - proba)
    if method == "self_confidence":
        return 1.0 - p_given
    if method != "class_normalized":
        raise InvalidInputError(
            f"unknown score {method!r}; choose 'class_normalized' or 'self_confidence'."
        )
    thresholds = np.ones_like(proba)
    for value in (0, 1):
        mine: np.ndarray = np.asarray(Y) == value
        count = mine.sum(axis=0)
        mean = np.where(count > 0, (p_given * mine).sum(axis=0) / np.maximum(count, 1), 1.0)
        thresholds = np.where(mine, np.maximum(mean, 1e-6)[None, :], thresholds)
    return 1.0 - p_given / thresholds


def _set_aside(proba: np.ndarray, Y: np.ndarray, scores: np.ndarray) -> np.ndarray:
    """Items kept for training in round two: all but those with a disagreeing bit (≤ 30 %)."""
    disagree = (proba >= 0.5) != (Y == 1)
    worst = np.where(disagree, scores, -np.inf).max(axis=1)
    flagged = np.flatnonzero(np.isfinite(worst))
    cap = int(MAX_SET_ASIDE * len(Y))
    if len(flagged) > cap:
        flagged = flagged[np.argsort(-worst[flagged], kind="stable")[:cap]]
    keep = np.ones(len(Y), dtype=bool)
    keep[flagged] = False
    return keep


def _sets(Y: np.ndarray, classes: np.ndarray) -> list[tuple[Any, ...]]:
    plain = [c.item() if hasattr(c, "item") else c for c in classes]
    return [tuple(plain[j] for j in np.flatnonzero(row)) for row in Y]


def suspect_multilabel(
    estimator: Any,
    X: Any,
    labels: Any,
    *,
    cv: int = 5,
    random_state: int | None = None,
    n_repeats: int = 3,
    score: str = "class_normalized",
    set_aside: bool = True,
) -> pd.DataFrame:
    """The suspect bits of a multi-label indicator, most suspect first.

    Called by :func:`~alwidgets.review.suspect_labels` for a 2-D 0/1 ``labels``; the
    parameters are its parameters. Folds are shuffled ``KFold`` splits (``min(cv,
    smallest class count)`` of them, where a class count is its number of positives or
    of negatives, whichever is smaller); with ``set_aside`` a second round trains without
    the items the first round found a disagreeing bit on (at most 30 %).

    Returns
    -------
    pandas.DataFrame
        One row per suspect bit, sorted by ``score`` (descending); index: the item ids
        (repeated when several classes of an item are suspect). Columns ``label`` (the
        given set, a tuple in class order), ``guess`` (the out-of-fold predicted set),
        ``class`` (whose bit is suspect), ``given`` (1 = the class was given, 0 = not),
        ``score`` (higher = more likely wrong) and ``p`` (out-of-fold probability that
        the class applies). ``attrs["folds"]`` is the number of folds used.

    Raises
    ------
    InvalidInputError
        ``labels`` not 0/1, rows not matching ``X``, a class that never occurs, or a
        class with only one positive (or one negative): it cannot be judged out of fold.
    """
    n = n_rows(X)
    Y, classes = check_indicator(labels, n, name="labels")
    check_classes_occur(Y, classes, name="labels")
    positives = Y.sum(axis=0).astype(np.int64)
    smallest = np.minimum(positives, n - positives)
    if isinstance(cv, bool) or not isinstance(cv, int | np.integer) or cv < 2:
        raise InvalidInputError(f"cv must be an integer >= 2 (number of folds), got {cv!r}.")
    if smallest.min() < 2:
        j = int(np.argmin(smallest))
        which = "positive" if positives[j] < 2 else "negative"
        name = classes[j].item() if hasattr(classes[j], "item") else classes[j]
        raise InvalidInputError(
            f"class {name!r} has only {int(smallest[j])} {which} label(s); out-of-fold review "
            "needs at least 2 items with and 2 without each class. Label more items, or "
            "leave that class's column out."
        )
    folds = int(min(cv, smallest.min()))
    seed = int(np.random.SeedSequence(random_state).generate_state(1)[0])
    X_in = X.to_numpy() if isinstance(X, pd.Series) and X.dtype != object else X
    proba = out_of_fold_multilabel(estimator, X_in, Y, cv=folds, n_repeats=n_repeats, seed=seed)
    scores = bit_scores(proba, Y, score)
    if set_aside:
        keep = _set_aside(proba, Y, scores)
        kept = Y[keep].sum(axis=0)
        if keep.sum() >= folds and (kept >= folds).all() and (keep.sum() - kept >= folds).all():
            proba = out_of_fold_multilabel(
                estimator, X_in, Y, cv=folds, n_repeats=n_repeats, seed=seed + 1, train_mask=keep
            )
            scores = bit_scores(proba, Y, score)
    guess = (proba >= 0.5).astype(np.uint8)
    items, cols = np.nonzero(guess != Y)
    ids = pd.Index(X.index) if is_dataframe(X) else None
    if ids is None and isinstance(labels, pd.DataFrame | pd.Series):
        ids = pd.Index(labels.index)
    ids = pd.RangeIndex(n) if ids is None else ids
    given_sets, guess_sets = _sets(Y, classes), _sets(guess, classes)
    frame = pd.DataFrame(
        {
            "label": [given_sets[i] for i in items],
            "guess": [guess_sets[i] for i in items],
            "class": classes[cols],
            "given": Y[items, cols].astype(np.int64),
            "score": scores[items, cols],
            "p": proba[items, cols],
        },
        index=ids[items],
    )
    frame.attrs["folds"] = folds
    return frame.sort_values("score", ascending=False, kind="stable")

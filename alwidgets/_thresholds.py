"""Per-class decision thresholds for binary relevance, chosen out of fold (SCut).

A probabilistic classifier fit on few, unevenly sampled labels is rarely calibrated
at 0.5 for a rare class: it predicts the class too seldom, which costs macro-F1 most.
SCut (Yang 2001, "A study of thresholding strategies for text categorization", SIGIR;
Fan & Lin 2007, "A study on threshold selection for multi-label classification")
picks, per class, the threshold that maximises that class's F1 on held-out
predictions. Here the held-out predictions are out of fold on the labeled items, so
no labels are set aside.

Examples
--------
>>> import numpy as np
>>> round(best_f1_threshold(np.array([0.9, 0.4, 0.3, 0.1]), np.array([1, 1, 0, 0])), 6)
0.35
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone

from alwidgets._utils import take_rows
from alwidgets.exceptions import InvalidInputError

__all__ = [
    "DEFAULT_THRESHOLD",
    "best_f1_threshold",
    "check_threshold",
    "cv_thresholds",
    "micro_macro_f1",
]

#: The decision threshold of a class without enough labels for cross-validation.
DEFAULT_THRESHOLD = 0.5


def check_threshold(threshold: Any) -> float | str:
    """A fixed threshold in ``(0, 1)`` or ``"cv"``; anything else is an error naming both.

    Examples
    --------
    >>> check_threshold("cv"), check_threshold(0.3)
    ('cv', 0.3)
    >>> check_threshold(1.5)
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: threshold must be a probability in (0, 1) or 'cv' ...
    """
    if isinstance(threshold, str) and threshold == "cv":
        return "cv"
    if (
        not isinstance(threshold, bool)
        and isinstance(threshold, int | float | np.floating)
        and 0.0 < float(threshold) < 1.0
    ):
        return float(threshold)
    raise InvalidInputError(
        f"threshold must be a probability in (0, 1) or 'cv' (per-class thresholds chosen "
        f"out of fold), got {threshold!r}."
    )


def best_f1_threshold(proba: np.ndarray, y: np.ndarray) -> float:
    """The threshold that maximises F1 of ``proba >= t`` against 0/1 ``y``.

    Cuts fall halfway between two distinct probabilities (below the lowest: half of
    it); among equally good cuts the highest wins (fewest positives).

    Examples
    --------
    >>> round(best_f1_threshold(np.array([0.8, 0.6, 0.2]), np.array([1, 0, 0])), 6)
    0.7
    """
    p = np.asarray(proba, dtype=np.float64)
    t = np.asarray(y).astype(bool)
    order = np.argsort(-p, kind="stable")
    ps, ts = p[order], t[order]
    tp = np.cumsum(ts)
    f1 = 2.0 * tp / (np.arange(1, len(ps) + 1) + t.sum())
    distinct = np.r_[ps[1:] < ps[:-1], True]  # a cut only between different values
    f1 = np.where(distinct, f1, -1.0)
    i = int(np.argmax(f1))  # the first maximum: the highest cut
    below = ps[i + 1] if i + 1 < len(ps) else 0.0
    return float(ps[i] / 2.0 + below / 2.0)


def cv_thresholds(
    estimator: Any, X: Any, Y: np.ndarray, columns: np.ndarray, *, cv: int = 3, seed: int = 0
) -> np.ndarray:
    """Per-class F1-best thresholds from out-of-fold probabilities (SCut), shape (n_classes,).

    ``columns`` are the classes that have a model; each gets stratified ``cv``-fold
    out-of-fold probabilities from clones of the binary ``estimator`` (fewer folds when
    the class has fewer positives or negatives), and the threshold that maximises its
    F1 on them. A class with fewer than 2 positives or 2 negatives, or without a model,
    keeps :data:`DEFAULT_THRESHOLD`.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.arange(30.0).reshape(-1, 1)
    >>> Y = np.c_[X[:, 0] > 24, X[:, 0] > 4].astype(np.uint8)   # a rare and a common class
    >>> cv_thresholds(LogisticRegression(), X, Y, np.array([0, 1])).round(2).tolist()
    [0.6, 0.48]
    """
    from sklearn.model_selection import StratifiedKFold

    out = np.full(Y.shape[1], DEFAULT_THRESHOLD)
    for j in columns:
        y = Y[:, j]
        folds = min(int(cv), int(y.sum()), int(len(y) - y.sum()))
        if folds < 2:
            continue
        split = StratifiedKFold(folds, shuffle=True, random_state=seed)
        held = np.empty(len(y))
        for train, test in split.split(np.zeros(len(y)), y):
            model = clone(estimator).fit(take_rows(X, train), y[train])
            held[test] = np.asarray(model.predict_proba(take_rows(X, test)))[:, 1]
        out[j] = best_f1_threshold(held, y)
    return out


def micro_macro_f1(Y_true: np.ndarray, Y_pred: np.ndarray) -> tuple[float, float]:
    """Micro- and macro-averaged F1 of indicator predictions (0 where undefined).

    Examples
    --------
    >>> micro_macro_f1(np.array([[1, 0], [0, 1]]), np.array([[1, 0], [0, 0]]))
    (0.6666666666666666, 0.5)
    """
    from sklearn.metrics import f1_score

    micro = f1_score(Y_true, Y_pred, average="micro", zero_division=0)
    macro = f1_score(Y_true, Y_pred, average="macro", zero_division=0)
    return float(micro), float(macro)

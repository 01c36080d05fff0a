"""Out-of-fold class probabilities: every item judged by models that never saw its label."""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone
from sklearn.model_selection import StratifiedKFold

from alwidgets._utils import take_rows
from alwidgets.exceptions import InvalidInputError

__all__ = ["check_folds", "out_of_fold_proba"]


def check_folds(y: np.ndarray, cv: int) -> int:
    """The number of folds to use: ``cv``, or fewer when a class has fewer labels.

    With ``m`` labels in the smallest class, ``min(cv, m)`` folds keep one label of
    every class in every training part. A class with a single label cannot be
    judged out of fold (the model that judges it would never have seen the class).

    Examples
    --------
    >>> import numpy as np
    >>> check_folds(np.array([0, 0, 0, 1, 1, 1, 1]), 5)
    3
    >>> check_folds(np.array(["a", "a", "b"]), 5)
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: class 'b' has only 1 label; out-of-fold review needs at least 2 per class ...
    """
    if isinstance(cv, bool) or not isinstance(cv, int | np.integer) or cv < 2:
        raise InvalidInputError(f"cv must be an integer >= 2 (number of folds), got {cv!r}.")
    classes, counts = np.unique(y, return_counts=True)
    if len(classes) < 2:
        raise InvalidInputError(
            f"review needs labels of at least two classes, got only {classes.tolist()}; label more items first."
        )
    lonely = [
        c.item() if hasattr(c, "item") else c for c, n in zip(classes, counts, strict=True) if n < 2
    ]
    if lonely:
        raise InvalidInputError(
            f"class {lonely[0]!r} has only 1 label; out-of-fold review needs at least 2 per class "
            f"(classes with one label: {lonely}). Label more items of those classes first."
        )
    return int(min(cv, counts.min()))


def out_of_fold_proba(
    estimator: Any,
    X: Any,
    y: np.ndarray,
    *,
    cv: int,
    n_repeats: int,
    seed: int,
    train_mask: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Mean out-of-fold ``predict_proba`` over ``n_repeats`` stratified splits; and the classes.

    Each repeat splits the items into ``cv`` stratified folds with its own seed; an
    item's probabilities come from the model fit on the other folds. Averaging over
    repeats removes most of the luck of one split. ``train_mask`` (boolean, optional)
    keeps items out of every training part (they are still judged).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> proba, classes = out_of_fold_proba(LogisticRegression(max_iter=500), X, y, cv=5,
    ...                                    n_repeats=1, seed=0)
    >>> proba.shape, classes.tolist()
    ((150, 3), [0, 1, 2])
    """
    classes = np.unique(y)
    total = np.zeros((len(y), len(classes)), dtype=np.float64)
    seeds = np.random.SeedSequence(seed).generate_state(n_repeats)
    for repeat_seed in seeds:
        folds = StratifiedKFold(n_splits=cv, shuffle=True, random_state=int(repeat_seed))
        for train, test in folds.split(np.zeros(len(y)), y):
            if train_mask is not None:
                train = train[train_mask[train]]
            model = clone(estimator).fit(take_rows(X, train), y[train])
            proba = model.predict_proba(take_rows(X, test))
            cols = np.searchsorted(classes, np.asarray(model.classes_))
            total[np.ix_(test, cols)] += proba
    return total / n_repeats, classes

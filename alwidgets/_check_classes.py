"""Checks of a session's classes and of labels against them (answers, eval set, oracle).

The classes are what the store records and what the cards offer, so they must be
unique ints or strs; every label that comes later (an answer, the true labels of an
eval set or of an oracle) must be one of them. numpy scalars become Python scalars
(:func:`alwidgets._utils.plain`), so ``np.int64(1)`` and ``1`` are the same class.

Examples
--------
>>> check_classes(["cat", "dog"])
['cat', 'dog']
>>> check_classes(["cat"])
Traceback (most recent call last):
...
alwidgets.exceptions.InvalidInputError: classes has 1 label(s); pass at least 2, e.g. classes=['no', 'yes'].
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from alwidgets._check_x import check_X
from alwidgets._utils import n_rows, plain
from alwidgets._validation import check_y
from alwidgets.exceptions import InvalidInputError, UnknownLabelError

__all__ = [
    "check_classes",
    "check_eval_set",
    "check_label",
    "check_oracle",
    "check_oracle_noise",
]


def check_classes(classes: Any) -> list[Any]:
    """At least two unique int or str labels, as a list of Python scalars.

    Parameters
    ----------
    classes : list, tuple, ndarray or pandas.Index
        The labels a person can choose from, in the order the cards show them.

    Returns
    -------
    list

    Raises
    ------
    InvalidInputError
        Not a sequence (a bare string included), fewer than two labels, a duplicate,
        or a label that is neither an int nor a str.

    Examples
    --------
    >>> check_classes(np.array([0, 1]))
    [0, 1]
    >>> check_classes(["a", "a"])
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: classes must be unique; 'a' appears twice.
    """
    import pandas as pd

    if isinstance(classes, str) or not isinstance(classes, Sequence | np.ndarray | pd.Index):
        raise InvalidInputError(
            f"classes must be a list of labels, e.g. ['cat', 'dog'], got {classes!r}."
        )
    out = [plain(c) for c in classes]
    if len(out) < 2:
        raise InvalidInputError(
            f"classes has {len(out)} label(s); pass at least 2, e.g. classes=['no', 'yes']."
        )
    if len(set(out)) != len(out):
        dup = next(c for c in out if out.count(c) > 1)
        raise InvalidInputError(f"classes must be unique; {dup!r} appears twice.")
    for c in out:
        if isinstance(c, bool) or not isinstance(c, int | str):
            raise InvalidInputError(
                f"each class must be an int or a str (they are stored), got {c!r}."
            )
    return out


def check_label(label: Any, classes: list[Any]) -> Any:
    """``label`` as a Python scalar, or :class:`~alwidgets.exceptions.UnknownLabelError`.

    Examples
    --------
    >>> check_label(np.int64(1), [0, 1])
    1
    >>> check_label("cow", ["cat", "dog"])
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.UnknownLabelError: 'cow' is not one of the classes ['cat', 'dog']; pass one of them.
    """
    label = plain(label)
    if label not in classes:
        raise UnknownLabelError(
            f"{label!r} is not one of the classes {classes!r}; pass one of them."
        )
    return label


def check_eval_set(eval_set: Any, classes: list[Any]) -> tuple[Any, np.ndarray]:
    """``(X_test, y_test)`` with matching lengths and labels among ``classes``.

    Examples
    --------
    >>> X_eval, y_eval = check_eval_set((np.zeros((2, 3)), [0, 1]), [0, 1])
    >>> X_eval.shape, y_eval.tolist()
    ((2, 3), [0, 1])
    >>> check_eval_set((np.zeros((2, 3)), [0, 2]), [0, 1])
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.UnknownLabelError: eval_set y has labels [2] that are not in classes [0, 1]; ...
    """
    if not isinstance(eval_set, tuple | list) or len(eval_set) != 2:
        raise InvalidInputError("eval_set must be a pair (X_test, y_test).")
    X_eval = check_X(eval_set[0], name="eval_set X", allow_text=True)
    y_eval = check_y(eval_set[1], n_rows(X_eval), name="eval_set y")
    unknown = sorted({plain(v) for v in y_eval} - set(classes), key=str)
    if unknown:
        raise UnknownLabelError(
            f"eval_set y has labels {unknown!r} that are not in classes {classes!r}; "
            "add them to classes or drop those rows."
        )
    return X_eval, y_eval


def check_oracle(oracle: Any, ids: Sequence[Any], classes: list[Any]) -> np.ndarray:
    """True labels aligned with the pool, from an array or a function ``item_id -> label``.

    An integer array of the pool's length is checked per distinct value and returned
    as it is (a 10,000,000-item pool's int8 oracle stays 10 MB instead of becoming a
    list of Python ints); anything else becomes an array of Python scalars.

    Examples
    --------
    >>> check_oracle(lambda item: item % 2, [10, 11, 12], [0, 1]).tolist()
    [0, 1, 0]
    >>> check_oracle([0, 1], [10, 11, 12], [0, 1])
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: oracle has 2 labels but the pool has 3 items; ...
    """
    if not callable(oracle) and not isinstance(oracle, list):
        arr = np.asarray(oracle)
        if arr.ndim == 1 and arr.dtype.kind in "biu" and len(arr) == len(ids):
            unknown = sorted({plain(v) for v in np.unique(arr)} - set(classes), key=str)
            if unknown:
                raise UnknownLabelError(
                    f"oracle has labels {unknown[:5]!r} that are not in classes {classes!r}."
                )
            return arr
    if callable(oracle):
        values = [oracle(i) for i in ids]
    else:
        values = oracle if isinstance(oracle, list) else list(np.asarray(oracle).tolist())
    if len(values) != len(ids):
        raise InvalidInputError(
            f"oracle has {len(values)} labels but the pool has {len(ids)} items; "
            "pass one true label per row of X, or a function item_id -> label."
        )
    values = [plain(v) for v in values]
    unknown = sorted(set(values) - set(classes), key=str)
    if unknown:
        raise UnknownLabelError(
            f"oracle has labels {unknown[:5]!r} that are not in classes {classes!r}."
        )
    return np.asarray(values)


def check_oracle_noise(noise: Any, oracle: Any) -> float:
    """The share of wrong oracle answers: a number in [0, 1), and only with an oracle.

    Examples
    --------
    >>> check_oracle_noise(0.1, [0, 1])
    0.1
    >>> check_oracle_noise(0.1, None)
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: oracle_noise makes the oracle answer wrong on purpose; ...
    """
    ok = isinstance(noise, int | float | np.floating) and not isinstance(noise, bool)
    if not ok or not 0 <= float(noise) < 1:
        raise InvalidInputError(
            f"oracle_noise must be a share in [0, 1), e.g. 0.1 for one wrong answer in ten; got {noise!r}."
        )
    if noise and oracle is None:
        raise InvalidInputError(
            "oracle_noise makes the oracle answer wrong on purpose; pass oracle=y (true labels) too."
        )
    return float(noise)

"""Shared input checks: one place for the messages users see when input is wrong.

Every check raises a subclass of :class:`~alwidgets.exceptions.ALWidgetsError`
whose message names the problem *and* the fix. The checks never copy large
inputs: finiteness is tested chunk by chunk, so validating a million-row pool
costs a few megabytes at most.

* :func:`check_X` — feature matrices (ndarray, scipy.sparse, DataFrame; raw text on request),
  :func:`nonfinite_block` — its NaN/inf test of one block; defined in :mod:`alwidgets._check_x`.
* :func:`check_y` — labels for a classifier.
* :func:`check_n` — a positive batch size; :func:`check_int` — an integer with a minimum;
  :func:`resolve_seed` — one integer seed from ``None``, an int or a numpy Generator;
  :func:`check_team` — ``overlap`` and ``lease_seconds``; defined in :mod:`alwidgets._check_args`.
* :func:`check_exclude` — positions (or a boolean mask) to leave out of a pool.
* :func:`check_estimator` — a classifier with ``fit`` and ``predict_proba``.
* :func:`check_ids` — unique item ids.

Elsewhere, one home each: the session's classes and labels checked against them
(answers, eval set, oracle) in :mod:`alwidgets._check_classes`; strategy names in
:func:`alwidgets.strategies.get_strategy`; Dask pools in :mod:`alwidgets.pools`.

Examples
--------
>>> import numpy as np
>>> from alwidgets._validation import check_X, check_n
>>> check_X(np.zeros((3, 2))).shape
(3, 2)
>>> check_n(0)
Traceback (most recent call last):
...
alwidgets.exceptions.InvalidInputError: n must be a positive integer (how many items to return), got 0.
"""

from __future__ import annotations

import warnings
from collections.abc import Hashable
from typing import Any

import numpy as np
from sklearn.exceptions import DataConversionWarning

from alwidgets._check_args import check_int, check_n, check_team, resolve_seed
from alwidgets._check_x import check_X, is_dask_collection, is_dataframe, nonfinite_block
from alwidgets._utils import n_rows  # the one definition; re-exported for the app modules
from alwidgets.exceptions import (
    DuplicateIdError,
    EstimatorError,
    InvalidInputError,
)

__all__ = [
    "allows_nan",
    "check_X",
    "check_estimator",
    "check_exclude",
    "check_ids",
    "check_int",
    "check_n",
    "check_team",
    "check_y",
    "is_dask_collection",
    "is_dataframe",
    "n_rows",
    "nonfinite_block",
    "resolve_seed",
]


def check_y(y: Any, n_samples: int | None = None, *, name: str = "y") -> np.ndarray:
    """Validate classification labels.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Class labels: integers, strings or booleans, one type, at least two classes.
    n_samples : int, optional
        Expected length (the number of rows of ``X``).
    name : str, default="y"
        Name used in messages.

    Returns
    -------
    ndarray of shape (n_samples,)

    Raises
    ------
    InvalidInputError
        Wrong length or shape, missing labels, mixed or continuous label types,
        or fewer than two classes.

    Examples
    --------
    >>> check_y(["cat", "dog", "cat"], 3)
    array(['cat', 'dog', 'cat'], dtype='<U3')
    >>> check_y([1, 1, 1], 3)
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: y has only one class (1); label at least one item of another class before fitting.
    """
    if y is None:
        raise InvalidInputError(
            f"{name} is None: fitting requires y to be passed, but the target y is None; "
            "pass one label per row of X."
        )
    try:
        arr = y.to_numpy() if is_dataframe(y) else np.asarray(y)
    except ValueError as err:  # ragged: e.g. label sets of different sizes
        raise InvalidInputError(
            f"{name} could not be read as one label per item ({err}); for several classes "
            f"per item pass a 0/1 indicator, e.g. MultiLabelBinarizer().fit_transform({name})."
        ) from err
    if arr.ndim == 2 and arr.shape[1] == 1:  # as scikit-learn does: warn and ravel
        warnings.warn(
            "A column-vector y was passed when a 1d array was expected. Please change the "
            "shape of y to (n_samples,), for example using ravel().",
            DataConversionWarning,
            stacklevel=3,
        )
        arr = arr.ravel()
    if arr.ndim != 1:
        raise InvalidInputError(
            f"{name} must be 1-D (one label per item) or a 2-D 0/1 indicator (multi-label: "
            f"one column per class), got shape {arr.shape}."
        )
    if n_samples is not None and len(arr) != n_samples:
        raise InvalidInputError(
            f"X has {n_samples} rows but {name} has {len(arr)} labels; pass one label per row."
        )
    if arr.dtype == object:
        missing = [i for i, v in enumerate(arr) if v is None or (isinstance(v, float) and v != v)]
        if missing:
            raise InvalidInputError(
                f"{name} has {len(missing)} missing label(s) (None/NaN), first at position "
                f"{missing[0]}; drop unlabeled rows before fitting."
            )
        kinds = {type(v).__name__ for v in arr.tolist()}  # tolist: numpy scalars -> Python
        odd = kinds - {"str", "int", "bool"}
        if odd:
            sets = odd & {"list", "tuple", "set", "frozenset"}
            hint = (
                f"; for several classes per item pass a 0/1 indicator, e.g. "
                f"MultiLabelBinarizer().fit_transform({name})"
                if sets
                else ""
            )
            raise InvalidInputError(
                f"{name} holds labels of type {sorted(odd)}; class labels must be integers, "
                f"strings or booleans{hint}."
            )
        if len(kinds) > 1:
            raise InvalidInputError(
                f"{name} mixes label types {sorted(kinds)}; use one type, e.g. all strings."
            )
    elif arr.dtype.kind == "f":
        if np.isnan(arr).any():
            raise InvalidInputError(
                f"{name} has {int(np.isnan(arr).sum())} missing label(s) (NaN); drop unlabeled "
                "rows before fitting."
            )
        if not np.all(arr == np.round(arr)):
            raise InvalidInputError(
                f"{name} holds non-integer floats (continuous targets); active learning here "
                "needs class labels, e.g. integers or strings."
            )
    elif arr.dtype.kind not in "biuUS":
        raise InvalidInputError(
            f"{name} has dtype {arr.dtype}; class labels must be integers, strings or booleans."
        )
    classes = np.unique(arr)
    if len(classes) < 2:
        only = classes[0] if len(classes) else "none"
        raise InvalidInputError(
            f"{name} has only one class ({only}); label at least one item of another class "
            "before fitting."
        )
    return arr


def check_exclude(exclude: Any, n_samples: int, *, name: str = "exclude") -> np.ndarray | None:
    """Turn positions or a boolean mask into a boolean mask of excluded rows.

    Parameters
    ----------
    exclude : None, array-like of int, or array-like of bool of length ``n_samples``
        Positional indices (0-based) or a mask of rows that must not be returned.
    n_samples : int
        Number of rows in the pool.

    Returns
    -------
    ndarray of bool of shape (n_samples,), or None when nothing is excluded.

    Examples
    --------
    >>> check_exclude([0, 2], 4)
    array([ True, False,  True, False])
    >>> check_exclude([5], 4)
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: exclude holds position 5, outside the pool of 4 items; pass 0-based positions below 4.
    """
    if exclude is None:
        return None
    arr = np.asarray(exclude)
    if arr.ndim != 1:
        raise InvalidInputError(f"{name} must be 1-D (positions or a mask), got shape {arr.shape}.")
    if arr.dtype == bool:
        if len(arr) != n_samples:
            raise InvalidInputError(
                f"{name} is a boolean mask of length {len(arr)} but the pool has {n_samples} "
                "items; pass one flag per item or a list of positions."
            )
        return arr.copy() if arr.any() else None
    if arr.size == 0:
        return None
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise InvalidInputError(
                f"{name} has dtype {arr.dtype}; pass integer positions or a boolean mask "
                "(item ids must be mapped to positions first)."
            )
    lo, hi = int(arr.min()), int(arr.max())
    if lo < 0 or hi >= n_samples:
        bad = lo if lo < 0 else hi
        raise InvalidInputError(
            f"{name} holds position {bad}, outside the pool of {n_samples} items; pass 0-based "
            f"positions below {n_samples}."
        )
    mask = np.zeros(n_samples, dtype=bool)
    mask[arr] = True
    return mask


def allows_nan(estimator: Any) -> bool:
    """Whether an estimator accepts NaN input (a Pipeline asks its first step)."""
    from sklearn.utils import get_tags

    first = estimator.steps[0][1] if hasattr(estimator, "steps") and estimator.steps else estimator
    try:
        return bool(get_tags(first).input_tags.allow_nan)
    except (AttributeError, TypeError):
        return False


def check_estimator(estimator: Any) -> Any:
    """Check that ``estimator`` is a classifier instance with ``fit`` and ``predict_proba``.

    Pipelines are fine when their last step has ``predict_proba``.

    Raises
    ------
    EstimatorError
        A class instead of an instance, a regressor, or no ``predict_proba``.

    Examples
    --------
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.svm import SVC
    >>> check_estimator(LogisticRegression())
    LogisticRegression()
    >>> check_estimator(SVC())
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.EstimatorError: SVC has no predict_proba, which active learning needs to score items; wrap it as CalibratedClassifierCV(SVC(), ensemble=False) ...
    """
    if isinstance(estimator, type):
        raise EstimatorError(
            f"got the class {estimator.__name__}, not an instance; pass {estimator.__name__}()."
        )
    kind = type(estimator).__name__
    if not hasattr(estimator, "fit"):
        raise EstimatorError(
            f"{kind} has no fit method; pass a scikit-learn classifier such as "
            "LogisticRegression() or a Pipeline ending in one."
        )
    from sklearn.base import is_regressor

    if is_regressor(estimator):
        raise EstimatorError(f"{kind} is a regressor; active learning here needs a classifier.")
    if not hasattr(estimator, "predict_proba"):
        name = kind
        if hasattr(estimator, "steps") and estimator.steps:
            name = type(estimator.steps[-1][1]).__name__
        fix = f"wrap it as CalibratedClassifierCV({name}(), ensemble=False) to get probabilities"
        if name == "SVC":
            fix += " (SVC(probability=True) also works, but scikit-learn 1.9 deprecates it)"
        raise EstimatorError(
            f"{kind} has no predict_proba, which active learning needs to score items; {fix}."
        )
    return estimator


def check_ids(ids: Any, n_samples: int | None = None, *, name: str = "ids") -> list[Hashable]:
    """Validate item ids: hashable, unique, one per item; numpy scalars become Python scalars.

    Examples
    --------
    >>> check_ids(np.array([3, 1, 2]))
    [3, 1, 2]
    >>> check_ids(["a", "b", "a"])
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.DuplicateIdError: ids must be unique; 'a' appears 2 times. Use a unique index, e.g. df.reset_index().
    """
    values = ids.tolist() if hasattr(ids, "tolist") else list(ids)
    if n_samples is not None and len(values) != n_samples:
        raise InvalidInputError(
            f"{name} has {len(values)} entries but there are {n_samples} items; pass one id per item."
        )
    seen: dict[Hashable, int] = {}
    for v in values:
        try:
            seen[v] = seen.get(v, 0) + 1
        except TypeError as err:
            raise InvalidInputError(
                f"{name} must be hashable (int or str); got {type(v).__name__}."
            ) from err
    if len(seen) != len(values):
        dup = next(k for k, c in seen.items() if c > 1)
        raise DuplicateIdError(
            f"{name} must be unique; {dup!r} appears {seen[dup]} times. Use a unique index, "
            "e.g. df.reset_index()."
        )
    return values

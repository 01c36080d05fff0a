"""Small helpers shared by every layer: row taking, sizes, plain scalars, strategy names, kappa.

One home each, so that two callers can never disagree (e.g. on what kappa is when it
is undefined). Nothing here imports beyond numpy and :mod:`alwidgets.exceptions`.

Examples
--------
>>> import numpy as np
>>> from alwidgets._utils import n_rows, take_rows
>>> take_rows(["a", "b", "c"], np.array([2, 0]))
['c', 'a']
>>> n_rows(np.zeros((4, 2)))
4
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from alwidgets.exceptions import InvalidInputError

__all__ = ["IDLE_SECONDS", "cohen_kappa", "n_rows", "plain", "strategy_name", "take_rows"]

#: A gap between two actions longer than this is a break, not labeling time.
IDLE_SECONDS = 300.0


def take_rows(X: Any, positions: Any) -> Any:
    """Rows of ``X`` at ``positions`` (or a slice), keeping the container type.

    Works for numpy arrays, scipy sparse matrices (CSR/CSC/COO are converted to CSR
    first, which can be indexed by rows), pandas DataFrames and Series (by position,
    never by label) and plain sequences (lists and tuples give a list).

    Parameters
    ----------
    X : ndarray, sparse matrix, DataFrame, Series, list or tuple
    positions : array-like of int, or slice

    Returns
    -------
    Same kind of container as ``X`` (a list for a tuple).

    Examples
    --------
    >>> import numpy as np, pandas as pd, scipy.sparse as sp
    >>> take_rows(np.arange(6).reshape(3, 2), [2, 0]).tolist()
    [[4, 5], [0, 1]]
    >>> take_rows(pd.Series([10, 20, 30], index=[7, 8, 9]), np.array([1])).tolist()
    [20]
    >>> take_rows(sp.coo_matrix(np.eye(3)), [1]).toarray().tolist()
    [[0.0, 1.0, 0.0]]
    >>> take_rows(("x", "y", "z"), slice(1, None))
    ['y', 'z']
    """
    if hasattr(X, "iloc"):
        return X.iloc[positions]
    if isinstance(X, list | tuple):
        if isinstance(positions, slice):
            return list(X[positions])
        return [X[int(i)] for i in np.asarray(positions).ravel()]
    if hasattr(X, "tocsr") and not hasattr(X, "indptr"):  # COO, DOK, ...: no row indexing
        X = X.tocsr()
    return X[positions]


def n_rows(X: Any) -> int:
    """Number of rows (items) of an array, sparse matrix, DataFrame or sequence.

    Examples
    --------
    >>> n_rows([[1, 2], [3, 4], [5, 6]])
    3
    """
    shape = getattr(X, "shape", None)
    return int(shape[0]) if shape is not None else len(X)


def plain(value: Any) -> Any:
    """A numpy scalar as the Python scalar it holds; anything else unchanged.

    For values that go to JSON, the store or a ``dict`` key: ``np.int64(3)`` and ``3``
    must compare, hash and serialize alike.

    Parameters
    ----------
    value : object

    Returns
    -------
    object
        ``value.item()`` for a numpy scalar (``np.generic``), else ``value`` itself.

    Examples
    --------
    >>> type(plain(np.int64(3))), type(plain(np.str_("a"))), plain([1, 2])
    (<class 'int'>, <class 'str'>, [1, 2])
    """
    return value.item() if isinstance(value, np.generic) else value


def strategy_name(strategy: Any) -> str:
    """The name a strategy is reported under: the string, its ``name``, or its type.

    Examples
    --------
    >>> strategy_name("margin")
    'margin'
    >>> def my_utility(proba): return proba.max(axis=1)
    >>> strategy_name(my_utility)
    'my_utility'
    """
    if isinstance(strategy, str):
        return strategy
    name = getattr(strategy, "name", None) or getattr(strategy, "__name__", None)
    return str(name) if name else type(strategy).__name__


def cohen_kappa(a: Sequence[Any] | np.ndarray, b: Sequence[Any] | np.ndarray) -> float:
    """Cohen's kappa between two label vectors of the same items.

    ``(p_o - p_e) / (1 - p_e)``: 1 = identical, 0 = agreement at chance level.
    Labels are compared by value *and* type (``1`` and ``"1"`` differ).

    Kappa is **undefined** (NaN is returned) when chance agreement is 1, that is
    when both vectors hold one and the same label throughout, and for empty vectors:
    there is no variation to agree on, so neither "perfect" nor "chance" is true.
    Callers decide what an undefined kappa means for them (the stopping criterion
    does not count it as stable; the store's agreement table shows it as missing).
    scikit-learn's ``cohen_kappa_score`` also returns NaN there (with a warning).

    Parameters
    ----------
    a, b : sequence or 1-D array of the same length

    Returns
    -------
    float

    Raises
    ------
    InvalidInputError
        The two vectors are not 1-D or differ in length.

    Examples
    --------
    >>> cohen_kappa([0, 1, 1, 0], [0, 1, 1, 0])
    1.0
    >>> round(cohen_kappa([0, 1, 1, 0], [0, 1, 0, 0]), 3)
    0.5
    >>> cohen_kappa(["x", "x"], ["x", "x"])
    nan
    """
    x, y = np.asarray(a, dtype=object), np.asarray(b, dtype=object)
    if x.ndim != 1 or y.ndim != 1 or len(x) != len(y):
        raise InvalidInputError(
            f"kappa needs two 1-D label vectors of equal length (the same items), got shapes "
            f"{x.shape} and {y.shape}."
        )
    if len(x) == 0:
        return float("nan")
    keys = np.asarray([f"{type(v).__name__}:{v}" for v in map(plain, np.concatenate([x, y]))])
    cats, codes = np.unique(keys, return_inverse=True)
    ca, cb = codes[: len(x)], codes[len(x) :]
    p_o = float(np.mean(ca == cb))
    k = len(cats)
    p_e = float(np.dot(np.bincount(ca, minlength=k), np.bincount(cb, minlength=k))) / len(x) ** 2
    if p_e >= 1.0:
        return float("nan")
    return (p_o - p_e) / (1.0 - p_e)

"""Checking feature matrices: shape, dtype and NaN/inf, without copying large inputs.

Finiteness is tested block by block, so validating a million-row pool costs a few
megabytes at most. Public through :mod:`alwidgets._validation`.

Examples
--------
>>> import numpy as np
>>> check_X(np.zeros((3, 2))).shape
(3, 2)
>>> check_X(np.ones((2, 2)) + 1j)
Traceback (most recent call last):
...
alwidgets.exceptions.InvalidInputError: Complex data not supported: X has dtype complex128; ...
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from alwidgets._utils import n_rows
from alwidgets.exceptions import InvalidDtypeError, InvalidInputError

__all__ = ["check_X", "is_dask_collection", "is_dataframe", "nonfinite_block"]

#: Rows per block when scanning a large matrix for NaN/inf (bounded extra memory).
_SCAN_ROWS = 65536

_IMPUTE_HINT = (
    "impute them first, e.g. put sklearn.impute.SimpleImputer in a Pipeline before the "
    "classifier, or drop those rows"
)


def is_dask_collection(X: Any) -> bool:
    """True for Dask arrays, DataFrames and Series (checked without importing dask)."""
    return type(X).__module__.split(".")[0] == "dask" and hasattr(X, "__dask_graph__")


def is_dataframe(X: Any) -> bool:
    """True for pandas DataFrames and Series (checked without importing pandas)."""
    return hasattr(X, "iloc") and hasattr(X, "to_numpy")


def _is_text_1d(X: Any) -> bool:
    """1-D sequence of strings (raw documents for a Pipeline that starts with a vectorizer)."""
    arr = X.to_numpy() if is_dataframe(X) else X
    if not isinstance(arr, np.ndarray) or arr.ndim != 1:
        return False
    if arr.dtype.kind in "US":
        return True
    return arr.dtype == object and (len(arr) == 0 or isinstance(arr[0], str))


def nonfinite_block(block: np.ndarray, allow_nan: bool) -> bool:
    """Whether a numeric block holds a value a model cannot take: NaN or inf (only inf
    when ``allow_nan``).

    The fast test first (the sum of a block is finite when no value is NaN or inf,
    barring overflow), the exact one only when the sum is not finite, so a clean
    block costs one pass and no copy. Integer and boolean blocks are always clean.
    Used by :func:`check_X` and, on a Dask worker, for each block of a pool.

    Parameters
    ----------
    block : ndarray
        Any shape.
    allow_nan : bool
        Accept NaN (an estimator that handles missing values); inf is still refused.

    Returns
    -------
    bool
        True when the block holds a refused value.

    Examples
    --------
    >>> import numpy as np
    >>> nonfinite_block(np.array([[1.0, np.nan]]), allow_nan=False)
    True
    >>> nonfinite_block(np.array([[1.0, np.nan]]), allow_nan=True)
    False
    >>> nonfinite_block(np.array([1e308, 1e308]), allow_nan=False)  # the sum overflows
    False
    """
    if block.dtype.kind not in "fc":
        return False
    if not allow_nan:
        with np.errstate(over="ignore", invalid="ignore"):
            if np.isfinite(block.sum()):
                return False
        return not bool(np.isfinite(block).all())
    return bool(np.isinf(block).any())


def _report_nonfinite(
    values: np.ndarray, allow_nan: bool, columns: Sequence[Any] | None, offset: int = 0
) -> str:
    """Describe where the bad values are, for the error message."""
    bad = np.isinf(values) if allow_nan else ~np.isfinite(values)
    rows, cols = np.nonzero(bad.reshape(len(values), -1))
    what = "inf" if allow_nan else "NaN/inf"
    col = cols[0] if columns is None else repr(columns[cols[0]])
    return (
        f"{int(bad.sum())} {what} value(s) in {len(np.unique(rows))} row(s) "
        f"(first at row {offset + rows[0]}, column {col})"
    )


def _check_finite(X: Any, name: str, allow_nan: bool) -> None:
    if sp.issparse(X):
        if nonfinite_block(np.asarray(X.data), allow_nan):
            bad = ~np.isfinite(X.data) if not allow_nan else np.isinf(X.data)
            row_of = np.repeat(np.arange(X.shape[0]), np.diff(X.indptr))
            rows = np.unique(row_of[bad])
            raise InvalidInputError(
                f"{name} contains {int(bad.sum())} NaN/inf stored value(s) in {len(rows)} row(s) "
                f"(first at row {rows[0]}); {_IMPUTE_HINT}."
            )
        return
    if is_dataframe(X):
        if not hasattr(X, "columns"):  # Series
            vals = X.to_numpy()
            if vals.dtype.kind in "fc" and nonfinite_block(vals, allow_nan):
                msg = _report_nonfinite(vals.reshape(-1, 1), allow_nan, [X.name])
                raise InvalidInputError(f"{name} contains {msg}; {_IMPUTE_HINT}.")
            return
        numeric = [c for c, dt in X.dtypes.items() if getattr(dt, "kind", "O") in "fcbiu"]
        for start in range(0, len(X), _SCAN_ROWS):
            block = X.iloc[start : start + _SCAN_ROWS][numeric].to_numpy(
                dtype=float, na_value=np.nan
            )
            if nonfinite_block(block, allow_nan):
                msg = _report_nonfinite(block, allow_nan, numeric, start)
                raise InvalidInputError(f"{name} contains {msg}; {_IMPUTE_HINT}.")
        return
    for start in range(0, X.shape[0], _SCAN_ROWS):
        block = X[start : start + _SCAN_ROWS]
        if nonfinite_block(block, allow_nan):
            msg = _report_nonfinite(block, allow_nan, None, start)
            raise InvalidInputError(f"{name} contains {msg}; {_IMPUTE_HINT}.")


_ENCODE_HINT = (
    "encode the features as numbers (e.g. a Pipeline with a OneHotEncoder/TfidfVectorizer) "
    "or pass a DataFrame to a Pipeline that handles its columns"
)


def _object_as_float(X: np.ndarray, name: str) -> np.ndarray:
    """An object array of numbers as float64; a clear error for anything else."""
    try:
        return X.astype(np.float64)
    except TypeError as err:  # e.g. a dict: the message says what scikit-learn would say
        raise InvalidDtypeError(
            f"{name} has dtype object holding non-numeric values ({err}); {_ENCODE_HINT}."
        ) from err
    except ValueError as err:  # strings that are not numbers
        raise InvalidInputError(
            f"{name} has dtype object, not numbers ({err}); {_ENCODE_HINT}."
        ) from err


def check_X(
    X: Any,
    *,
    name: str = "X",
    allow_nan: bool = False,
    allow_text: bool = False,
    check_finite: bool = True,
    min_rows: int = 1,
) -> Any:
    """Validate a feature matrix without copying it.

    Parameters
    ----------
    X : array-like, scipy.sparse matrix or pandas.DataFrame
        Items as rows. Lists are converted to an ndarray; sparse matrices to CSR
        (so rows can be sliced); ndarrays and DataFrames are returned as they are.
    name : str, default="X"
        Name used in messages.
    allow_nan : bool, default=False
        Accept NaN (for estimators that handle missing values); inf is still rejected.
    allow_text : bool, default=False
        Accept a 1-D sequence of strings (raw documents for a Pipeline that starts
        with a vectorizer such as ``TfidfVectorizer``).
    check_finite : bool, default=True
        Scan numeric values for NaN/inf (block by block, bounded memory).
    min_rows : int, default=1
        Fewest rows accepted.

    Returns
    -------
    ndarray, scipy.sparse matrix, DataFrame or Series
        ``X`` in a row-sliceable form.

    Raises
    ------
    InvalidInputError
        Wrong dimensionality, no rows, non-numeric data, or NaN/inf values.

    Examples
    --------
    >>> import numpy as np
    >>> check_X([[1.0, 2.0], [3.0, 4.0]]).shape
    (2, 2)
    >>> check_X(np.array([[1.0, np.nan]]))
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: X contains 1 NaN/inf value(s) in 1 row(s) (first at row 0, column 1); impute them first, ...
    """
    if X is None:
        raise InvalidInputError(f"{name} is None; pass a 2-D array, sparse matrix or DataFrame.")
    if sp.issparse(X):
        X = X.tocsr() if X.format != "csr" else X
    elif not is_dataframe(X) and not isinstance(X, np.ndarray):
        try:
            X = np.asarray(X)
        except ValueError as err:
            raise InvalidInputError(
                f"{name} could not be read as an array ({err}); pass a 2-D array with one row per item."
            ) from err
    if allow_text and _is_text_1d(X):
        if n_rows(X) < min_rows:
            raise InvalidInputError(f"{name} has no rows; pass at least {min_rows} item(s).")
        return X
    ndim = 1 if is_dataframe(X) and not hasattr(X, "columns") else len(X.shape)
    if ndim != 2:
        fix = (
            "use X.reshape(-1, 1) for a single feature or X.reshape(1, -1) for a single item"
            if ndim == 1
            else "flatten each item, e.g. images.reshape(len(images), -1)"
        )
        if allow_text:
            fix += "; raw text must be a 1-D sequence of strings"
        raise InvalidInputError(f"{name} must be 2-D (items × features), got {ndim}-D; {fix}.")
    if X.shape[0] < min_rows:
        raise InvalidInputError(
            f"{name} has {X.shape[0]} row(s); pass at least {min_rows} item(s)."
        )
    if isinstance(X, np.ndarray) and X.dtype.kind == "c":
        raise InvalidInputError(
            f"Complex data not supported: {name} has dtype {X.dtype}; pass real numbers "
            "(e.g. np.abs(X) or the real and imaginary parts as separate columns)."
        )
    if isinstance(X, np.ndarray) and X.dtype == object:
        X = _object_as_float(X, name)  # numbers stored as objects: read them as floats
    if isinstance(X, np.ndarray) and X.dtype.kind not in "fbiu":
        raise InvalidInputError(f"{name} has dtype {X.dtype}, not numbers; {_ENCODE_HINT}.")
    if check_finite:
        _check_finite(X, name, allow_nan)
    return X

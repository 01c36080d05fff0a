"""Checks of a Dask pool before anything is computed on it (no data is read).

Examples
--------
>>> import numpy as np
>>> is_dask_array(np.zeros((2, 2)))
False
>>> exclude_positions(np.array([True, False, True]), 3).tolist()
[0, 2]
>>> exclude_positions([5, 1, 1], 6).tolist()
[1, 5]
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp

from alwidgets._check_x import is_dask_collection
from alwidgets.exceptions import InvalidInputError

__all__ = ["check_dask_pool", "exclude_positions", "is_dask_array", "is_dask_collection"]


def is_dask_array(X: Any) -> bool:
    """True for a ``dask.array.Array`` (checked without importing dask)."""
    return is_dask_collection(X) and hasattr(X, "chunks") and hasattr(X, "to_delayed")


def check_dask_pool(X: Any, *, n_features: int | None = None, name: str = "X_pool") -> Any:
    """A 2-D, dense, numeric Dask array with known row chunks and one column chunk.

    Columns split over several chunks are rechunked into one (with a warning that
    says how to avoid it); everything else that cannot be scored blockwise is refused
    with the fix.

    Returns
    -------
    dask.array.Array
        ``X`` itself, or ``X.rechunk({1: -1})``.
    """
    if is_dask_collection(X) and not is_dask_array(X):
        raise InvalidInputError(
            f"{name} is a Dask {type(X).__name__}; pass a Dask array of the feature columns, "
            "e.g. df[columns].to_dask_array(lengths=True)."
        )
    if X.ndim != 2:
        raise InvalidInputError(
            f"{name} must be a 2-D Dask array (rows × features), got {X.ndim} dimension(s); "
            "reshape it, e.g. X.reshape(len(X), -1)."
        )
    if any(np.isnan(c) for c in X.chunks[0]):
        raise InvalidInputError(
            f"{name} has unknown chunk sizes (NaN), so row positions are unknown; call "
            f"{name} = {name}.compute_chunk_sizes() first (or build it with known lengths, "
            "e.g. df.to_dask_array(lengths=True))."
        )
    meta = getattr(X, "_meta", None)
    if sp.issparse(meta) or type(meta).__module__.split(".")[0] == "sparse":
        raise InvalidInputError(
            f"{name} holds sparse blocks, which alwidgets does not score on a cluster; make "
            f"the blocks dense ({name}.map_blocks(lambda b: b.toarray())) or reduce the "
            "columns (e.g. TruncatedSVD) before querying."
        )
    if X.dtype.kind not in "biuf":
        raise InvalidInputError(
            f"{name} has dtype {X.dtype}, but the model needs numbers; convert it with "
            f"{name}.astype('float32') (encode text or categories into numeric features first)."
        )
    if n_features is not None and X.shape[1] != n_features:
        raise InvalidInputError(
            f"{name} has {X.shape[1]} features but the model was fitted on "
            f"{n_features}; pass the pool with the same columns as X in fit."
        )
    if len(X.chunks[1]) > 1:
        warnings.warn(
            f"{name} splits its {X.shape[1]} columns over {len(X.chunks[1])} chunks; "
            "alwidgets scores whole rows, so it rechunks to one column chunk. Build the "
            "array with chunks=(rows, -1) to skip this step.",
            UserWarning,
            stacklevel=3,
        )
        X = X.rechunk({1: -1})
    return X


def exclude_positions(exclude: Any, n_pool: int, *, name: str = "exclude") -> np.ndarray:
    """Sorted unique int64 positions from positions or a boolean mask (never a pool-sized mask)."""
    if exclude is None:
        return np.empty(0, dtype=np.int64)
    arr = np.asarray(exclude)
    if arr.dtype == bool:
        if arr.shape != (n_pool,):
            raise InvalidInputError(
                f"{name} as a boolean mask must have one entry per pool row ({n_pool}), "
                f"got shape {arr.shape}; or pass positions."
            )
        return np.flatnonzero(arr).astype(np.int64)
    if arr.size == 0:
        return np.empty(0, dtype=np.int64)
    if arr.dtype.kind not in "iu" or arr.ndim != 1:
        raise InvalidInputError(
            f"{name} must be a 1-D array of integer positions or a boolean mask, got "
            f"dtype {arr.dtype} with shape {arr.shape}."
        )
    pos = np.unique(arr.astype(np.int64))
    if pos[0] < 0 or pos[-1] >= n_pool:
        raise InvalidInputError(
            f"{name} holds positions outside [0, {n_pool}) (e.g. {int(pos[0] if pos[0] < 0 else pos[-1])}); "
            "pass positions into the pool."
        )
    return pos

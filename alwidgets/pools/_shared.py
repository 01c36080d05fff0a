"""One copy of an in-memory pool for the kernel and a retrain worker process.

A worker process that receives the pool by pickling holds a second copy of it (a
1,000,000 × 50 float32 pool: 191 MB more). :func:`share_read_only` writes the array
once to a temporary ``.npy`` file; what is sent to the worker is only the file's path,
and the worker maps it read-only (``numpy.load(mmap_mode="r")``), so its pages are the
operating system's page cache, shared, never a private copy. The file is deleted when
the :class:`SharedPool` is closed or garbage-collected (and at interpreter exit).

Examples
--------
>>> import pickle
>>> import numpy as np
>>> X = np.arange(12, dtype=np.float32).reshape(4, 3)
>>> shared = share_read_only(X)
>>> in_worker = pickle.loads(pickle.dumps(shared))   # what a worker process receives
>>> type(in_worker).__name__, in_worker.flags.writeable, bool((in_worker == X).all())
('memmap', False, True)
>>> len(pickle.dumps(shared)) < 300                   # the path, not the rows
True
>>> shared.close()
"""

from __future__ import annotations

import contextlib
import os
import tempfile
import weakref
from typing import Any

import numpy as np

__all__ = ["SharedPool", "can_share", "share_read_only"]


def _open_mapped(path: str) -> np.ndarray:
    return np.load(path, mmap_mode="r")


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


class SharedPool:
    """A dense array written once to a file; pickles as its path, unpickles as a read-only map."""

    def __init__(self, path: str, shape: tuple[int, ...], dtype: np.dtype[Any]) -> None:
        self.path, self.shape, self.dtype = path, shape, dtype
        self._finalizer = weakref.finalize(self, _remove, path)

    def __reduce__(self) -> tuple[Any, tuple[str]]:
        return _open_mapped, (self.path,)

    def open(self) -> np.ndarray:
        """The read-only memory map (in this process)."""
        return _open_mapped(self.path)

    def close(self) -> None:
        """Delete the file (maps already open stay valid until they are dropped)."""
        self._finalizer()


def can_share(X: Any) -> bool:
    """Dense numeric ndarrays (not object arrays, sparse matrices or DataFrames) can be shared."""
    return isinstance(X, np.ndarray) and X.dtype.kind in "biufc" and X.ndim >= 1


def share_read_only(X: np.ndarray, directory: str | None = None) -> SharedPool:
    """Write ``X`` once to a temporary file for worker processes to map read-only.

    The file is written through ``ndarray.tofile`` after the ``.npy`` header, so the
    kernel never maps it (its pages do not count in the kernel's memory).
    """
    fd, path = tempfile.mkstemp(prefix="alwidgets-pool-", suffix=".npy", dir=directory)
    try:
        with os.fdopen(fd, "wb") as fh:
            arr = np.ascontiguousarray(X)
            np.lib.format.write_array_header_1_0(fh, np.lib.format.header_data_from_array_1_0(arr))
            arr.tofile(fh)
    except BaseException:
        _remove(path)
        raise
    return SharedPool(path, tuple(X.shape), X.dtype)

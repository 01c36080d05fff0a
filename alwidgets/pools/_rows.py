"""Rows of a Dask pool: fetched by position, and kept once the app has them.

:func:`fetch_rows` computes the rows at some positions (reading only their blocks).

A retrain on a Dask pool needs the labeled rows (to fit), the candidates' rows (the
model's guesses on the cards), a stop set and the cards on screen. Fetching them by
position means reading (or, for a generated pool, producing) every block that holds
one, which is a pass over the cluster. :class:`RowCache` keeps the rows it has seen:
stage two of every query gathered its candidates' rows anyway (the batch's rows among
them), so when those items are labeled their rows are already here and a fit needs no
cluster work. The cache is bounded; labeled rows are kept first.

:class:`SparseScores` is the app's score vector for a Dask pool: as long as the pool,
NaN except at the candidates, without a pool-sized array.

Examples
--------
>>> import numpy as np, dask.array as da
>>> X = da.from_array(np.arange(20.0).reshape(10, 2), chunks=(4, 2))
>>> cache = RowCache(X)
>>> cache.remember(np.array([7, 1]), np.array([[14.0, 15.0], [2.0, 3.0]]))
>>> cache.take([1, 3]).tolist()             # 1 is cached, 3 is fetched (and kept)
[[2.0, 3.0], [6.0, 7.0]]
>>> sorted(cache.positions)
[1, 3, 7]
>>> s = SparseScores(10, np.array([7, 2]), np.array([0.9, 0.4]))
>>> len(s), s[7], bool(np.isnan(s[0]))
(10, 0.9, True)
"""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from alwidgets.exceptions import InvalidInputError
from alwidgets.pools._compute import run_graph

__all__ = ["RowCache", "SparseScores", "fetch_rows"]


def fetch_rows(X: Any, positions: Any) -> np.ndarray:
    """Rows of a Dask array at ``positions`` (any order, repeats allowed), computed, in that order.

    Only the blocks holding those rows are read: the positions are sorted and made
    unique for Dask, and the original order is restored in memory. The graph runs
    through :func:`run_graph` (cluster timeout, Ctrl-C, progress). For rows of an
    in-memory pool (no compute) use :func:`alwidgets._utils.take_rows`.

    Examples
    --------
    >>> import numpy as np, dask.array as da
    >>> X = da.from_array(np.arange(20).reshape(10, 2), chunks=(3, 2))
    >>> fetch_rows(X, [7, 0, 7]).tolist()
    [[14, 15], [0, 1], [14, 15]]
    """
    pos = np.asarray(positions, dtype=np.int64).ravel()
    if pos.size and (pos.min() < 0 or pos.max() >= X.shape[0]):
        raise InvalidInputError(
            f"row positions must lie in [0, {X.shape[0]}), got {int(pos.min())}..{int(pos.max())}."
        )
    uniq, inverse = np.unique(pos, return_inverse=True)
    if uniq.size == 0:
        return np.empty((0, *X.shape[1:]), dtype=X.dtype)
    got = np.asarray(run_graph([], X[uniq]))
    return got[inverse]


class RowCache:
    """Rows of a Dask array by position, fetched at most once (bounded, thread-safe).

    Parameters
    ----------
    X : dask.array.Array
    max_rows : int, default=100_000
        Rows kept; beyond it the oldest rows not marked ``keep`` are dropped.
    """

    def __init__(self, X: Any, max_rows: int = 100_000) -> None:
        self.X, self.max_rows = X, int(max_rows)
        self._rows: dict[int, np.ndarray] = {}
        self._keep: set[int] = set()
        self._lock = threading.Lock()

    @property
    def positions(self) -> list[int]:
        """Positions whose rows are held."""
        with self._lock:
            return list(self._rows)

    def remember(self, positions: Any, rows: np.ndarray) -> None:
        """Hold ``rows`` (aligned with ``positions``) for later :meth:`take` calls."""
        with self._lock:
            for p, row in zip(np.asarray(positions).tolist(), rows, strict=True):
                self._rows[int(p)] = np.array(row)  # a copy: no view of a big buffer
            self._trim()

    def _trim(self) -> None:
        extra = len(self._rows) - self.max_rows
        if extra > 0:
            drop = [p for p in self._rows if p not in self._keep][:extra]
            for p in drop:
                del self._rows[p]

    def take(self, positions: Any, *, keep: bool = False) -> np.ndarray:
        """Rows at ``positions`` (in that order); missing ones are fetched from the cluster.

        ``keep=True`` marks them as not to be dropped (the labeled rows).
        """
        pos = np.asarray(positions, dtype=np.int64).ravel()
        with self._lock:
            missing = np.unique([p for p in pos.tolist() if p not in self._rows])
        if len(missing):
            fetched = fetch_rows(self.X, missing)  # outside the lock: it may take a while
            self.remember(missing, fetched)
        with self._lock:
            if keep:
                self._keep.update(pos.tolist())
            if len(pos) == 0:
                return np.empty((0, *self.X.shape[1:]), dtype=self.X.dtype)
            return np.stack([self._rows[p] for p in pos.tolist()])


class SparseScores:
    """A pool-long score vector that is NaN except at a few positions (no pool-sized array).

    Supports ``len()`` and ``scores[pos]`` for an int or an array of positions.
    """

    def __init__(self, n: int, positions: np.ndarray, values: np.ndarray) -> None:
        order = np.argsort(positions, kind="stable")
        self.n = int(n)
        self.positions = np.asarray(positions, dtype=np.int64)[order]
        self.values = np.asarray(values, dtype=np.float64)[order]

    def __len__(self) -> int:
        return self.n

    def __getitem__(self, pos: Any) -> Any:
        p = np.asarray(pos, dtype=np.int64)
        if len(self.positions) == 0:
            out = np.full(p.shape, np.nan)
        else:
            i = np.minimum(np.searchsorted(self.positions, p), len(self.positions) - 1)
            out = np.where(self.positions[i] == p, self.values[i], np.nan)
        return float(out) if out.ndim == 0 else out

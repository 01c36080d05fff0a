"""Selectors: turn one score per item into a batch of positions, best first.

:class:`RunningTopK` keeps the best ``k`` of a stream of score chunks in memory
that does not grow with the stream, which is how :class:`~alwidgets.ActiveLearner`
scores a million-row pool. Ties are broken by a seeded hash of the position, so
the result does not depend on the chunk size.

Examples
--------
>>> import numpy as np
>>> top_k(np.array([0.1, 0.9, 0.5, 0.9]), 3, random_state=0).tolist()
[1, 3, 2]
>>> top_k(np.array([0.1, 0.9, 0.5, 0.9]), 3, exclude=[1], random_state=0).tolist()
[3, 2, 0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from alwidgets._validation import check_exclude, check_n
from alwidgets.exceptions import InvalidInputError

__all__ = ["RunningTopK", "resolve_rng", "top_k"]

_MASK64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def resolve_rng(random_state: Any) -> np.random.Generator:
    """``None``/int/SeedSequence/Generator/RandomState → a ``numpy.random.Generator``.

    Examples
    --------
    >>> resolve_rng(0).integers(10) == resolve_rng(0).integers(10)
    np.True_
    """
    if isinstance(random_state, np.random.Generator):
        return random_state
    if isinstance(random_state, np.random.RandomState):
        return np.random.default_rng(random_state.randint(0, 2**31 - 1))
    if random_state is not None and not isinstance(
        random_state, int | np.integer | np.random.SeedSequence
    ):
        raise InvalidInputError(
            f"random_state must be None, an int or a numpy Generator, got {random_state!r}."
        )
    return np.random.default_rng(random_state)


def tie_keys(positions: np.ndarray, seed: int) -> np.ndarray:
    """A seeded pseudo-random uint64 per position (splitmix64), independent of chunking.

    The tie-break of :class:`RunningTopK` and of Dask blocks: equal scores rank by
    this key, which depends only on the global position and the seed, so any split of
    the pool into chunks or blocks ranks ties the same way.

    Examples
    --------
    >>> keys = tie_keys(np.arange(5), seed=3)
    >>> keys.dtype.name, bool(np.array_equal(tie_keys(np.arange(2, 5), seed=3), keys[2:]))
    ('uint64', True)
    """
    with np.errstate(over="ignore"):
        z = positions.astype(np.uint64) + np.uint64(seed) * np.uint64(0x9E3779B97F4A7C15)
        z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
        z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
        return (z ^ (z >> np.uint64(31))) & _MASK64


class RunningTopK:
    """The best ``k`` positions of a stream of score chunks (higher score = better).

    NaN scores rank below every number (they are still returned when nothing else
    is left); rows flagged in ``skip`` are never returned. Memory is ``O(k + chunk)``.

    Parameters
    ----------
    k : int
        How many positions to keep.
    seed : int
        Seed of the tie-breaking hash.

    Examples
    --------
    >>> run = RunningTopK(2, seed=0)
    >>> run.push(np.array([0.2, 0.8]), offset=0)
    >>> run.push(np.array([0.9, 0.1]), offset=2)
    >>> run.result().tolist()
    [2, 1]
    """

    def __init__(self, k: int, seed: int) -> None:
        self.k = k
        self.seed = seed
        self._scores = np.empty(0)
        self._pos = np.empty(0, dtype=np.int64)

    def _order(self, scores: np.ndarray, pos: np.ndarray) -> np.ndarray:
        """Indices sorting (score desc, tie key desc)."""
        return np.lexsort((tie_keys(pos, self.seed), scores))[::-1]

    def push(self, scores: np.ndarray, offset: int, skip: np.ndarray | None = None) -> None:
        """Offer a chunk whose first row is at position ``offset`` of the stream."""
        s = np.asarray(scores, dtype=np.float64)
        local = None
        if skip is not None:
            local = np.flatnonzero(~skip)
            s = s[local]
        if np.isnan(s).any():
            s = np.where(np.isnan(s), -np.inf, s)
        k = self.k
        if len(s) > k:
            part = np.argpartition(s, len(s) - k)[len(s) - k :]
            thr = s[part].min()
            above = np.flatnonzero(s > thr)
            tied = np.flatnonzero(s == thr)
            if len(above) + len(tied) > k:  # pick the tied rows by their seeded key
                keys = tie_keys(tied + offset if local is None else local[tied] + offset, self.seed)
                tied = tied[np.argsort(keys, kind="stable")[::-1][: k - len(above)]]
            idx = np.concatenate([above, tied])
        else:
            idx = np.arange(len(s))
        pos = (idx if local is None else local[idx]).astype(np.int64) + offset
        all_s = np.concatenate([self._scores, s[idx]])
        all_p = np.concatenate([self._pos, pos])
        keep = self._order(all_s, all_p)[:k]
        self._scores, self._pos = all_s[keep], all_p[keep]

    def result(self) -> np.ndarray:
        """Positions kept so far, best first."""
        return self._pos.copy()


def top_k(
    scores: Any,
    k: int,
    *,
    exclude: Any = None,
    random_state: Any = None,
) -> np.ndarray:
    """Positions of the ``k`` highest scores, best first, ties broken at random (seeded).

    Parameters
    ----------
    scores : array-like of shape (n_items,)
    k : int
        Batch size; fewer are returned when fewer items remain.
    exclude : array-like of int or bool mask, optional
        Positions that must not be returned.
    random_state : None, int or numpy Generator
        Seeds the tie-breaking.

    Returns
    -------
    ndarray of int64, unique positions, length ``min(k, n_items - n_excluded)``

    Examples
    --------
    >>> top_k([3.0, 1.0, 2.0], 5).tolist()
    [0, 2, 1]
    """
    k = check_n(k, name="k")
    arr = np.asarray(scores, dtype=np.float64)
    if arr.ndim != 1:
        raise InvalidInputError(f"scores must be 1-D (one per item), got shape {arr.shape}.")
    skip = check_exclude(exclude, len(arr))
    seed = int(resolve_rng(random_state).integers(2**63))
    run = RunningTopK(k, seed)
    if len(arr):
        run.push(arr, 0, skip)
    return run.result()

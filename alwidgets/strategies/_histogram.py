"""Fixed histogram bins for utility scores, so that block counts add up exactly.

The bins depend only on the strategy's declared score range, never on the data:
a pool scored in blocks (on a Dask cluster) sums its per-block counts and gets
exactly what one histogram of the whole score vector gives. A bounded range gets
``bins`` equal bins; an unbounded one a fixed logarithmic grid (16 bins per decade
from 1e-6 to 1e6, both signs), trimmed to the occupied bins at the end.

Examples
--------
>>> import numpy as np
>>> edges = score_edges((0.0, 1.0), bins=4)
>>> edges.tolist()
[0.0, 0.25, 0.5, 0.75, 1.0]
>>> counts = histogram_counts(np.array([0.1, 0.3, np.nan, 1.0]), edges)
>>> counts.tolist()
[1, 1, 0, 1]
>>> c, e = trim_histogram(histogram_counts(np.array([0.5, 2.0]), score_edges((0.0, np.inf))),
...                       score_edges((0.0, np.inf)))
>>> int(c.sum()), len(e) == len(c) + 1, bool(e[0] <= 0.5 and e[-1] >= 2.0)
(2, True, True)
"""

from __future__ import annotations

import numpy as np

__all__ = ["histogram_counts", "score_edges", "score_histogram", "trim_histogram"]

_BIG = float(np.finfo(np.float64).max)


def _wide_edges(lo: float) -> np.ndarray:
    pos = np.geomspace(1e-6, 1e6, 12 * 16 + 1)
    edges = np.concatenate([[-_BIG], -pos[::-1], [0.0], pos, [_BIG]])
    if np.isfinite(lo):
        edges = np.concatenate([[lo], edges[edges > lo]])
    return edges


def score_edges(bounds: tuple[float, float], bins: int = 50) -> np.ndarray:
    """Bin edges for scores declared to lie within ``bounds`` (a strategy's ``bounds``).

    Parameters
    ----------
    bounds : (float, float)
        The lowest and highest score a strategy can give (``Strategy.bounds``); either
        may be infinite.
    bins : int, default=50
        Equal bins for a finite range; an infinite range gets the fixed logarithmic grid.

    Returns
    -------
    ndarray of float64
        Edges that depend only on ``bounds`` and ``bins``, never on the data.

    Examples
    --------
    >>> score_edges((0.0, 2.0), bins=2).tolist()
    [0.0, 1.0, 2.0]
    >>> edges = score_edges((0.0, np.inf))
    >>> float(edges[0]), bool(np.all(np.diff(edges) > 0))
    (0.0, True)
    """
    lo, hi = float(bounds[0]), float(bounds[1])
    if np.isfinite(lo) and np.isfinite(hi) and hi > lo:
        return np.linspace(lo, hi, int(bins) + 1)
    return _wide_edges(lo)


def histogram_counts(scores: np.ndarray, edges: np.ndarray, chunk: int = 65536) -> np.ndarray:
    """Counts of the finite ``scores`` per bin (last bin closed; values outside are dropped).

    Counted ``chunk`` scores at a time, so the extra memory does not grow with the pool.
    Counts of parts of a score vector add up to the counts of the whole vector.

    Examples
    --------
    >>> edges = score_edges((0.0, 1.0), bins=2)
    >>> histogram_counts(np.array([0.2, 0.5, 1.0, np.nan, 7.0]), edges).tolist()
    [1, 2]
    """
    s = np.asarray(scores).ravel()
    width = np.diff(edges)
    equal = len(edges) > 1 and bool(np.allclose(width, width[0]))
    counts = np.zeros(len(edges) - 1, dtype=np.int64)
    for start in range(0, len(s), chunk):
        part = s[start : start + chunk].astype(np.float64, copy=False)
        part = part[np.isfinite(part)]
        if equal:  # numpy's fast path for equal bins
            got, _ = np.histogram(part, bins=len(edges) - 1, range=(edges[0], edges[-1]))
        else:
            got, _ = np.histogram(part, bins=edges)
        counts += got
    return counts


def trim_histogram(counts: np.ndarray, edges: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Drop empty bins at both ends of a wide (unbounded) grid; equal bins are kept as they are.

    Examples
    --------
    >>> edges = score_edges((0.0, np.inf))
    >>> counts, kept = trim_histogram(histogram_counts(np.array([0.5, 0.51]), edges), edges)
    >>> counts.tolist(), len(kept), len(edges) - 1   # one occupied bin of many
    ([2], 2, 194)
    """
    width = np.diff(edges)
    if len(edges) > 1 and np.allclose(width, width[0]):
        return counts, edges
    full = np.flatnonzero(counts)
    if len(full) == 0:
        return counts[:0], edges[:1]
    first, last = int(full[0]), int(full[-1])
    return counts[first : last + 1], edges[first : last + 2]


def score_histogram(
    scores: np.ndarray, bounds: tuple[float, float], bins: int = 50
) -> tuple[np.ndarray, np.ndarray]:
    """``(counts, edges)`` of the finite scores of one query, over :func:`score_edges` bins.

    Examples
    --------
    >>> counts, edges = score_histogram(np.array([0.1, 0.9, 0.95]), (0.0, 1.0), bins=2)
    >>> counts.tolist(), edges.tolist()
    ([1, 2], [0.0, 0.5, 1.0])
    """
    edges = score_edges(bounds, bins)
    return trim_histogram(histogram_counts(scores, edges), edges)

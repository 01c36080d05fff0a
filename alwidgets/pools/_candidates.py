"""Stage two of a Dask query: the strategy's own ``select``, in memory, on the gathered candidates.

Stage one (:mod:`alwidgets.pools._blocks`) leaves the ``m`` best rows of the pool by
the strategy's uncertainty part — the same ``m`` the in-memory strategy filters to —
with their features. :class:`CandidateContext` is an in-memory
:class:`~alwidgets.strategies.QueryContext` over those rows that answers the
strategy's first ``stream`` call with the stage-one scores, ranked by the same
seeded tie key of the **global** position. Hence utility strategies (margin,
entropy, least confidence, qbc, your ``fn(proba)``) return exactly the in-memory
batch. Diversity strategies differ from memory only where they look at the pool
beyond those candidates (the approximation, see :mod:`alwidgets.pools`).

Examples
--------
>>> import numpy as np
>>> rows = np.zeros((3, 2))
>>> ctx = CandidateContext(rows, positions=np.array([7, 3, 9]), first_scores=np.array([.1, .9, .5]))
>>> top, _ = ctx.stream(lambda sl: None, 2, np.random.default_rng(0))
>>> ctx.positions[top].tolist()
[3, 9]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from alwidgets.pools._blocks import best_rows
from alwidgets.strategies import QueryContext

__all__ = ["CandidateContext"]


class CandidateContext(QueryContext):
    """A query context over gathered candidate rows that remembers their global positions.

    Parameters
    ----------
    X : ndarray
        The candidate rows (in memory).
    positions : ndarray of int64
        Their positions in the Dask pool.
    first_scores : ndarray of float64, optional
        Stage-one scores, served to the strategy's first ``stream`` call.
    **kw
        As :class:`~alwidgets.strategies.QueryContext`.
    """

    def __init__(
        self,
        X: Any,
        *,
        positions: np.ndarray,
        first_scores: np.ndarray | None = None,
        **kw: Any,
    ) -> None:
        super().__init__(X, **kw)
        self.positions = np.asarray(positions, dtype=np.int64)
        self._first = first_scores

    def stream(
        self,
        score_fn: Any,
        k: int,
        rng: np.random.Generator,
        *,
        chunk_size: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        seed = int(rng.integers(2**63))  # the draw the in-memory stream makes
        if self._first is not None:
            scores, self._first = np.asarray(self._first, dtype=np.float64), None
        else:
            scores = np.asarray(score_fn(slice(0, self.n_pool)), dtype=np.float64).ravel()
        top = best_rows(scores, self.positions, k, seed)
        return top.astype(np.int64), scores.copy()

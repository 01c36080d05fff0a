"""``query_blockwise``: one query over a Dask pool.

Stage one runs on the cluster: the model (strategy, fitted estimator, committee)
is sent once, every block returns its best candidates with their rows and its
histogram counts, and a tree reduction (fan-in 8) keeps the best candidates of
the whole pool. Stage two runs the strategy in memory on those candidates
(:class:`~alwidgets.pools._candidates.CandidateContext`).
"""

from __future__ import annotations

import copy
import uuid
from dataclasses import dataclass
from typing import Any

import numpy as np

from alwidgets.pools._blocks import Model, as_part, merge_parts, score_chunk
from alwidgets.pools._candidates import CandidateContext
from alwidgets.pools._check import exclude_positions
from alwidgets.pools._compute import _dask, run_graph, scatter_once
from alwidgets.pools._rows import fetch_rows
from alwidgets.strategies import histogram_counts, score_edges, trim_histogram

__all__ = ["BlockwiseResult", "query_blockwise"]

_FAN_IN = 8


@dataclass
class BlockwiseResult:
    """What a Dask query returns to the learner (nothing pool-sized).

    Attributes
    ----------
    indices : ndarray of int64
        The batch: global positions, best first.
    positions, scores : ndarray
        The candidates of stage two and their scores (the strategy's ``scores`` there).
    rows : ndarray
        The candidates' pool rows (gathered by stage one anyway).
    histogram : tuple of ndarray
        ``(counts, edges)`` of the uncertainty scores of every non-excluded row (or of
        the candidates, for strategies that start from a random sample).
    """

    indices: np.ndarray
    positions: np.ndarray
    scores: np.ndarray
    histogram: tuple[np.ndarray, np.ndarray]
    rows: np.ndarray


def _tree(parts: list[Any], seed: int) -> Any:
    delayed = _dask().delayed
    while len(parts) > 1:
        parts = [
            delayed(merge_parts, pure=True)(seed, *parts[i : i + _FAN_IN])
            for i in range(0, len(parts), _FAN_IN)
        ]
    return parts[0]


def query_blockwise(
    X: Any,
    n: int,
    *,
    strategy: Any,
    rng: np.random.Generator,
    exclude: Any = None,
    estimator: Any = None,
    classes: np.ndarray | None = None,
    committee: list[Any] | None = None,
    X_labeled: Any = None,
    transform: Any = None,
    preprocessor: Any = None,
    allow_nan: bool = False,
    bins: int = 50,
    multi_label: bool = False,
    y_labeled: np.ndarray | None = None,
) -> BlockwiseResult:
    """Run ``strategy`` over a Dask array ``X`` (validated by :func:`check_dask_pool`).

    Parameters mirror :class:`~alwidgets.strategies.QueryContext`; ``exclude`` is
    positions or a mask, turned into sorted positions split per block. A strategy whose
    ``needs`` hold ``"labels"`` (``lci``, ``mmc``) gets the labeled rows and their
    labels on every block too (sent once per query with the model).
    """
    n_pool = int(X.shape[0])
    excl = exclude_positions(exclude, n_pool)
    n_remaining = n_pool - len(excl)
    edges = score_edges(strategy.bounds, bins)
    if n_remaining == 0:
        empty = np.empty(0, dtype=np.int64)
        counts = np.zeros(len(edges) - 1, np.int64)
        no_rows = np.empty((0, *X.shape[1:]), dtype=X.dtype)
        return BlockwiseResult(empty, empty, np.empty(0), trim_histogram(counts, edges), no_rows)
    # the tie-break seed the in-memory stream would draw next; stage two draws it for real
    seed = int(copy.deepcopy(rng).integers(2**63))
    labels = "labels" in getattr(strategy, "needs", ())
    model = scatter_once(
        Model(
            strategy,
            estimator,
            classes,
            committee,
            allow_nan,
            multi_label,
            X_labeled if labels else None,
            y_labeled if labels else None,
        )
    )
    n_blocks = len(X.chunks[0])
    # one map_blocks task per block: Dask fuses it with the task that makes the block
    # (generate, read from storage ...), so a block is scored where it is produced
    parts = X.map_blocks(
        score_chunk,
        model,
        n,
        n_pool,
        n_remaining,
        seed,
        edges,
        _dask().delayed(excl, name=f"alwidgets-exclude-{uuid.uuid4().hex}", traverse=False),
        dtype=object,
        chunks=((1,) * n_blocks, (1,)),
        meta=np.empty((0, 0), dtype=object),
    )
    leaves = list(parts.to_delayed().ravel())
    part = as_part(run_graph(leaves, _tree(leaves, seed)))
    if part.kind != "stream":
        rng.integers(2**63)  # keep the stage-two draws apart from the sampling seed
    if X_labeled is None and estimator is None and len(excl) and part.kind != "stream":
        # before the first fit, a cold start treats clusters of handled rows as covered
        handled = excl if len(excl) <= 1000 else np.sort(rng.choice(excl, 1000, replace=False))
        X_labeled = fetch_rows(X, handled)
    ctx = CandidateContext(
        part.rows,
        positions=part.positions,
        first_scores=part.scores if part.kind == "stream" else None,
        estimator=estimator,
        classes=classes,
        committee=committee,
        X_labeled=X_labeled,
        transform=transform,
        preprocessor=preprocessor,
        multi_label=multi_label,
        y_labeled=y_labeled,
    )
    from sklearn import config_context

    with config_context(assume_finite=not allow_nan):
        idx, scores = strategy.select(ctx, n, rng)
    idx = np.asarray(idx, dtype=np.int64)
    if part.kind == "stream":
        histogram = trim_histogram(part.counts, edges)
    else:
        histogram = trim_histogram(histogram_counts(scores, edges), edges)
    return BlockwiseResult(
        part.positions[idx], part.positions, np.asarray(scores), histogram, part.rows
    )

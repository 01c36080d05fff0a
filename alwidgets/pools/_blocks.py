"""What runs on a Dask worker: score one block, keep its best rows, count its histogram.

A strategy's first call to ``ctx.stream(score_fn, m, rng)`` is its *uncertainty
part* (margin for cluster-margin and density, the gradient norm for BADGE, the
utility itself for margin/entropy/qbc ...). :class:`BlockContext` runs the strategy's
own ``select`` on one block and captures that call: it evaluates ``score_fn`` on the
block and stops the strategy there. Strategies that start from a random sample
(``ctx.sample``: coreset, cold start) get a seeded uniform score per position
instead, so the blocks' best rows are a uniform sample of the pool. So nothing is
duplicated per strategy, and a user's own :class:`~alwidgets.strategies.Strategy`
that starts with ``ctx.stream`` runs blockwise too.

Rows are ranked by ``(score, tie key)``, both descending, where the tie key is
the seeded hash of the *global* position that :class:`~alwidgets.strategies.RunningTopK`
uses in memory; NaN ranks last. That order is strict, so the best ``k`` of the
union of the blocks' best ``k`` is the best ``k`` of the pool, whatever the chunking.

Examples
--------
>>> import numpy as np
>>> part = best_rows(np.array([0.2, 0.9, 0.9, np.nan]), np.arange(10, 14), 2, seed=0)
>>> sorted(part.tolist())
[1, 2]
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from alwidgets._validation import nonfinite_block
from alwidgets.exceptions import InvalidInputError
from alwidgets.strategies import QueryContext, histogram_counts, tie_keys

__all__ = [
    "BlockContext",
    "Model",
    "Part",
    "best_rows",
    "merge_parts",
    "score_block",
    "score_chunk",
]

_SAMPLE = "sample"
_STREAM = "stream"


class Model(NamedTuple):
    """Everything a worker needs to score a block; sent to the cluster once per query."""

    strategy: Any
    estimator: Any
    classes: np.ndarray | None
    committee: list[Any] | None
    allow_nan: bool
    multi_label: bool = False
    X_labeled: Any = None  # only for strategies that need the labels (e.g. mmc)
    y_labeled: np.ndarray | None = None


class Part(NamedTuple):
    """A block's (or a merge's) best rows, their features, and the histogram counts."""

    scores: np.ndarray  # float64, best first
    positions: np.ndarray  # int64 global positions
    rows: np.ndarray  # the pool rows at those positions
    counts: np.ndarray  # int64 histogram counts over the query's fixed edges
    k: int  # how many rows the strategy asked for
    kind: str  # "stream" (scores are the uncertainty part) or "sample" (uniform draws)


class _Captured(Exception):  # control flow inside score_block, never seen by a user
    def __init__(self, kind: str, k: int, scores: np.ndarray | None = None) -> None:
        super().__init__(kind)
        self.kind, self.k, self.scores = kind, k, scores


class BlockContext(QueryContext):
    """A :class:`QueryContext` over one block that reports the pool's global sizes.

    ``stream`` and ``sample`` do not select anything: they hand the block's scores (or
    the request for a sample) back to :func:`score_block` and end the strategy's run.
    """

    def __init__(self, X: Any, *, n_pool: int, n_remaining: int, **kw: Any) -> None:
        super().__init__(X, **kw)
        self.block_rows = self.n_pool
        self.n_pool, self.n_remaining = n_pool, n_remaining

    def chunks(self, size: int | None = None) -> Any:
        yield slice(0, self.block_rows)

    def stream(self, score_fn: Any, k: int, rng: Any, *, chunk_size: int | None = None) -> Any:
        s = np.asarray(score_fn(slice(0, self.block_rows)), dtype=np.float64).ravel()
        if len(s) != self.block_rows:
            raise InvalidInputError(
                f"the score function returned {len(s)} scores for {self.block_rows} rows; "
                "return one score per row"
            )
        raise _Captured(_STREAM, int(k), s)

    def sample(self, m: int, rng: Any) -> Any:
        raise _Captured(_SAMPLE, int(m))


def best_rows(scores: np.ndarray, positions: np.ndarray, k: int, seed: int) -> np.ndarray:
    """Indices (into ``scores``) of the best ``k`` by (score, tie key of the position), best first."""
    s = np.where(np.isnan(scores), -np.inf, scores)
    idx = np.arange(len(s))
    if len(s) > k:
        thr = np.partition(s, len(s) - k)[len(s) - k]
        idx = np.flatnonzero(s >= thr)  # every row tied at the threshold stays in the race
    order = np.lexsort((tie_keys(positions[idx], seed), s[idx]))[::-1][:k]
    return idx[order]


def score_block(
    block: np.ndarray,
    model: Model,
    n: int,
    offset: int,
    skip: np.ndarray,
    n_pool: int,
    n_remaining: int,
    seed: int,
    edges: np.ndarray,
) -> Part:
    """Score one block of the pool (rows ``offset:offset+len(block)``); runs on a worker.

    ``n`` is the batch size of the query (the strategy derives its candidate count from
    it), ``skip`` the block-local positions that are excluded.
    """
    block = np.asarray(block)
    if nonfinite_block(block, model.allow_nan):
        bad = ~np.isfinite(block).all(axis=1) if not model.allow_nan else np.isinf(block).any(1)
        raise InvalidInputError(
            f"X_pool contains NaN/inf values (first at row {offset + int(np.argmax(bad))}); "
            "impute them first, e.g. put sklearn.impute.SimpleImputer in a Pipeline before "
            "the classifier, or drop those rows."
        )
    est = model.estimator
    steps = getattr(est, "steps", None)
    ctx = BlockContext(
        block,
        n_pool=n_pool,
        n_remaining=n_remaining,
        estimator=est,
        classes=model.classes,
        committee=model.committee,
        transform=est[:-1].transform if steps is not None and len(steps) > 1 else None,
        chunk_size=max(1, len(block)),
        multi_label=model.multi_label,
        X_labeled=model.X_labeled,
        y_labeled=model.y_labeled,
    )
    keep = np.ones(len(block), dtype=bool)
    keep[skip] = False
    local = np.flatnonzero(keep)
    positions = local.astype(np.int64) + offset
    from sklearn import config_context

    try:
        with config_context(assume_finite=not model.allow_nan):  # checked just above
            model.strategy.select(ctx, n, np.random.default_rng([seed, offset]))
    except _Captured as got:
        captured = got
    else:
        raise InvalidInputError(
            f"strategy {getattr(model.strategy, 'name', model.strategy)!r} chooses from the "
            "whole pool at once, so it cannot run blockwise on a Dask pool; use a utility "
            "(fn(proba) -> scores) or a registered strategy, or pass an in-memory pool."
        )
    if captured.kind == _STREAM:
        assert captured.scores is not None
        scores = captured.scores[local]
        counts = histogram_counts(scores, edges)
    else:  # a uniform random sample: seeded uniform scores of the global positions
        scores = tie_keys(positions, seed ^ 0x5EED).astype(np.float64) / 2.0**64
        counts = np.zeros(len(edges) - 1, dtype=np.int64)
    top = best_rows(scores, positions, captured.k, seed)
    return Part(scores[top], positions[top], block[local[top]], counts, captured.k, captured.kind)


def _empty_part(block: np.ndarray, n_bins: int) -> Part:
    return Part(
        np.empty(0), np.empty(0, dtype=np.int64), block[:0], np.zeros(n_bins, np.int64), 0, ""
    )


def score_chunk(
    block: np.ndarray,
    model: Model,
    n: int,
    n_pool: int,
    n_remaining: int,
    seed: int,
    edges: np.ndarray,
    exclude: np.ndarray,
    block_info: Any = None,
) -> np.ndarray:
    """:func:`score_block` as a ``dask.array.map_blocks`` function (fused with the block's own task).

    ``exclude`` holds the pool's sorted excluded positions (one graph key shared by all
    blocks); the block finds its slice with a binary search. Returns the :class:`Part`
    in a 1 × 1 object array, as ``map_blocks`` wants an array.
    """
    start, stop = block_info[0]["array-location"][0]
    lo, hi = np.searchsorted(exclude, [start, stop])
    out = np.empty((1, 1), dtype=object)
    if hi - lo == stop - start:  # every row of the block is excluded
        out[0, 0] = _empty_part(np.asarray(block), len(edges) - 1)
    else:
        out[0, 0] = score_block(
            block, model, n, int(start), exclude[lo:hi] - start, n_pool, n_remaining, seed, edges
        )
    return out


def as_part(value: Any) -> Part:
    """A :class:`Part` from what a block task returned (a 1 × 1 object array) or a merge."""
    return value[0, 0] if isinstance(value, np.ndarray) else value


def merge_parts(seed: int, *values: Any) -> Part:
    """The best rows of several parts (a step of the tree reduction on the cluster)."""
    parts = [as_part(v) for v in values]
    scores = np.concatenate([p.scores for p in parts])
    positions = np.concatenate([p.positions for p in parts])
    rows = np.concatenate([p.rows for p in parts])
    counts = np.sum([p.counts for p in parts], axis=0)
    k = max(p.k for p in parts)
    top = best_rows(scores, positions, k, seed)
    kind = next((p.kind for p in parts if p.kind), "")
    return Part(scores[top], positions[top], rows[top], counts, k, kind)

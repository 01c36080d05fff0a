"""Pools beyond memory: score a pool held as a Dask array, blockwise, where the data lives.

``ActiveLearner.query(X, n)`` with a ``dask.array.Array`` ``X`` (rows chunked, one
column chunk) calls :func:`query_blockwise`. Nothing pool-sized reaches the kernel:

1. **Stage one, on the cluster.** The strategy, the fitted model and its committee
   are sent to the workers once per query (``Client.scatter(broadcast=True)``, or a
   single graph key on the local scheduler). Every block runs the strategy's own
   uncertainty part (see :mod:`alwidgets.pools._blocks`) and returns only its best
   ``m`` rows (positions, scores, feature rows) and its counts over fixed histogram
   bins; a tree reduction on the cluster keeps the best ``m`` of the pool.
   Excluded positions travel as a sorted array, split per block.
2. **Stage two, in memory.** The strategy's ``select`` runs on those ``m`` rows.

**Exact and approximate.** For the uncertainty strategies (``margin``,
``least_confidence``, ``entropy``, ``qbc``, ``QueryByCommittee('kl_max')``, a utility function) ``m = n``
and the batch is *exactly* the in-memory one, whatever the chunking: ties are broken
by the same seeded hash of the global position. The diversity strategies are
two-stage: ``badge``, ``density`` and ``cluster_margin`` get the same ``m``
candidates as in memory (the top of their uncertainty part), but whatever they
compute over the *pool* they compute over the candidates: cluster-margin clusters a
sample of the candidates (not of the pool), density estimates against a reference
sample of the candidates; ``coreset`` and ``cold_start`` start, as in memory, from a
uniform random sample of ``m`` rows (drawn blockwise by a seeded hash). The label
efficiency of the two-stage forms is measured against the in-memory ones in
``benchmarks/bench_dask.py``. ``random`` is uniform but draws differently from memory.

For the app: :class:`LazyItems` fetches only the items of cards on screen (from a Dask
DataFrame/Series or a function ``item_id -> item``), and :func:`share_read_only` gives
a retrain worker *process* a read-only memory map of an in-memory pool instead of a
pickled second copy.

Whatever scheduler is active is used (a default ``distributed.Client``, else Dask's
default); alwidgets never starts a cluster. Dask config keys:
``alwidgets.cluster-timeout`` (seconds a lost cluster may take before
:class:`~alwidgets.exceptions.ClusterError`, default 30) and ``alwidgets.progress``
(progress bar after two seconds, default True).

Examples
--------
>>> import numpy as np, dask.array as da
>>> from sklearn.linear_model import LogisticRegression
>>> from alwidgets import ActiveLearner
>>> X = np.random.default_rng(0).normal(size=(1000, 3)).astype(np.float32)
>>> y = (X[:, 0] > 0).astype(int)
>>> learner = ActiveLearner(LogisticRegression(), "margin", random_state=0).fit(X[:20], y[:20])
>>> on_dask = learner.query(da.from_array(X, chunks=(128, 3)), 5, exclude=np.arange(20))
>>> learner2 = ActiveLearner(LogisticRegression(), "margin", random_state=0).fit(X[:20], y[:20])
>>> in_memory = learner2.query(X, 5, exclude=np.arange(20))
>>> bool((on_dask == in_memory).all())
True
>>> counts, edges = learner.score_histogram_
>>> int(counts.sum())                          # every non-excluded row, counted on the blocks
980
"""

from __future__ import annotations

from alwidgets.pools._check import (
    check_dask_pool,
    exclude_positions,
    is_dask_array,
    is_dask_collection,
)
from alwidgets.pools._compute import active_client, run_graph
from alwidgets.pools._items import LazyItems, dask_ids, dask_pool_features
from alwidgets.pools._query import BlockwiseResult, query_blockwise
from alwidgets.pools._rows import RowCache, SparseScores, fetch_rows
from alwidgets.pools._shared import SharedPool, can_share, share_read_only

__all__ = [
    "BlockwiseResult",
    "LazyItems",
    "RowCache",
    "SharedPool",
    "SparseScores",
    "active_client",
    "can_share",
    "check_dask_pool",
    "dask_ids",
    "dask_pool_features",
    "exclude_positions",
    "fetch_rows",
    "is_dask_array",
    "is_dask_collection",
    "query_blockwise",
    "run_graph",
    "share_read_only",
]

"""ActiveLabeler on a Dask pool, on a real LocalCluster: labeling, items, histogram, cluster loss."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from pool_helpers import make_pool, require_dask, slow_block

from alwidgets import ActiveLabeler
from alwidgets.exceptions import InvalidInputError

da = require_dask()
import dask  # noqa: E402
import dask.dataframe as dd  # noqa: E402
import pandas as pd  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

X, Y = make_pool(3000, seed=2)


def labeler(pool: Any, tmp_path: Path, **kw: Any) -> ActiveLabeler:
    args: dict[str, Any] = {
        "classes": [0, 1, 2],
        "oracle": Y,
        "compare_with": [],
        "batch_size": 5,
        "store": tmp_path / "s.alw",
        "random_state": 0,
    }
    args.update(kw)
    return ActiveLabeler(pool, **args)


def test_labels_a_dask_array_with_items_fetched_per_card(client: Any, tmp_path: Path) -> None:
    fetched: list[int] = []

    def item(item_id: int) -> str:
        fetched.append(item_id)
        return f"row {item_id}"

    app = labeler(da.from_array(X, chunks=(500, 6)), tmp_path, items=item, display="text")
    try:
        assert app.retrain_mode == "thread" and isinstance(app.ids, range)
        shown = set(app.batch)
        for _ in range(3):
            app.step()
            shown |= set(app.batch)
        assert len(app.labels) == 15 and app.model_version >= 1 and app.last_error is None
        # only the items of cards that were built (current + prefetched batches)
        assert 0 < len(set(fetched)) <= 15 + 3 * 5 + 10 and set(fetched) >= set(app.batch)
        snap = app.snapshot
        assert type(snap.scores).__name__ == "SparseScores" and len(snap.scores) == len(X)
        counts, _ = snap.histogram
        assert app.histogram.n_scores == counts.sum() > 0
        held = set(app._data.rows.positions)
        assert set(app.labels.index) <= held  # the labeled rows are in the kernel's cache
        np.testing.assert_array_equal(
            app._data.rows.take(list(app.labels.index)), X[list(app.labels.index)]
        )
    finally:
        app.close()


def test_dask_dataframe_ids_and_a_dask_series_of_items(client: Any, tmp_path: Path) -> None:
    index = pd.Index([f"id{i}" for i in range(600)], name="item")
    frame = pd.DataFrame(X[:600], index=index, columns=[f"f{j}" for j in range(6)])
    texts = pd.Series([f"text {i}" for i in range(600)], index=index)
    app = labeler(
        dd.from_pandas(frame, npartitions=4),
        tmp_path,
        items=dd.from_pandas(texts, npartitions=4),
        display="text",
        oracle=Y[:600],
    )
    try:
        first = app.batch
        assert all(i.startswith("id") for i in first)
        card_item = app._ctl.queue.cards.item(app.ids.index(first[0]))
        assert card_item == "text " + first[0][2:]
        app.step()
        assert set(first) <= set(app.labels.index)
    finally:
        app.close()


def test_process_retrains_are_refused_for_a_dask_pool(client: Any, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="retrain_in='auto' or 'thread'"):
        labeler(da.from_array(X, chunks=(500, 6)), tmp_path, retrain_in="process")


def _slow(n_blocks: int) -> Any:
    return da.map_blocks(
        slow_block,
        rows=100,
        d=6,
        pause=0.1,
        dtype=np.float32,
        chunks=((100,) * n_blocks, (6,)),
        meta=np.empty((0, 6), np.float32),
    )


def _cluster() -> Any:
    return LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0")


def test_cluster_lost_mid_retrain_keeps_labels_and_ranking_then_recovers(tmp_path: Path) -> None:
    pool = _slow(30)
    truth = (np.arange(3000) % 3).astype(int)
    cluster = _cluster()
    client = Client(cluster)
    with dask.config.set({"alwidgets.cluster-timeout": 3, "alwidgets.progress": False}):
        app = labeler(pool, tmp_path, oracle=truth)
        try:
            app.step()
            assert app.last_error is None
            version, order = app.model_version, app.snapshot.order.copy()
            labels = app.labels.copy()
            for item_id in app.batch:
                app.label(item_id, int(truth[item_id]))
            threading.Timer(0.5, cluster.close).start()
            app.retrain(wait=True, timeout=60)
            assert app.last_error is not None and "ClusterError" in app.last_error
            assert app.model_version == version  # the previous ranking stays in use
            np.testing.assert_array_equal(app.snapshot.order, order)
            assert len(app.labels) == len(labels) + 5  # nothing lost
            client.close()
            # the cluster is back (a new one here) with a Client: the next retrain works
            with _cluster() as again, Client(again):
                app.retrain(wait=True, timeout=60, force=True)
                assert app.last_error is None and app.model_version > version
        finally:
            app.close()
            client.close()

"""A pool shared read-only with a worker process; items fetched one row at a time."""

from __future__ import annotations

import os
import pickle
from concurrent.futures import ProcessPoolExecutor
from typing import Any

import numpy as np
import pandas as pd
import pytest
from pool_helpers import require_dask

from alwidgets.exceptions import InvalidInputError
from alwidgets.pools import LazyItems, can_share, dask_ids, dask_pool_features, share_read_only

da = require_dask()
import dask.dataframe as dd  # noqa: E402


def _worker_view(X: Any) -> tuple[str, bool, float, int]:
    """Runs in another process: what it received, and its private (anonymous) memory."""
    total = float(np.asarray(X, dtype=np.float64).sum())
    with open("/proc/self/status") as fh:
        anon = next(int(line.split()[1]) for line in fh if line.startswith("RssAnon:"))
    return type(X).__name__, bool(X.flags.writeable), total, anon


def test_worker_process_maps_the_pool_instead_of_copying_it() -> None:
    X = np.random.default_rng(0).random((800_000, 25), dtype=np.float32)  # 80 MB
    shared = share_read_only(X)
    try:
        assert len(pickle.dumps(shared)) < 300
        with ProcessPoolExecutor(1) as pool:
            kind, writeable, total, anon_shared = pool.submit(_worker_view, shared).result()
            _, _, total_copy, anon_copy = pool.submit(_worker_view, X).result()
        assert kind == "memmap" and not writeable
        assert total == pytest.approx(float(X.sum(dtype=np.float64)))
        assert total == total_copy
        # the pickled copy lives in the worker's private memory; the map does not (half
        # of the copy's size as the bar: the worker frees other memory between the calls)
        assert anon_copy - anon_shared > X.nbytes // 2 // 1024, (anon_copy, anon_shared)
    finally:
        shared.close()
    assert not os.path.exists(shared.path)


def test_what_can_be_shared() -> None:
    assert can_share(np.zeros((2, 2))) and not can_share(np.array(["a"], dtype=object))
    assert not can_share(pd.DataFrame({"a": [1]}))


def test_items_from_a_dask_series_and_a_function() -> None:
    frame = pd.DataFrame({"x": np.arange(10.0), "text": [f"t{i}" for i in range(10)]})
    ddf = dd.from_pandas(frame, npartitions=3)
    items = LazyItems(ddf["text"], ids=range(10))
    assert [items[i] for i in (0, 4, 9)] == ["t0", "t4", "t9"]
    row = LazyItems(ddf, ids=range(10))[7]
    assert row["text"] == "t7" and row["x"] == 7.0
    calls: list[Any] = []
    fn_items = LazyItems(lambda i: calls.append(i) or f"item {i}", ids=["a", "b"])
    assert fn_items[1] == "item b" and calls == ["b"]  # fetched only when asked
    with pytest.raises(InvalidInputError, match="function item_id -> item"):
        LazyItems([1, 2], ids=range(2))
    with pytest.raises(InvalidInputError, match="one item per pool row"):
        LazyItems(ddf["text"], ids=range(11))[0]


def test_ids_and_features_of_a_dask_dataframe() -> None:
    frame = pd.DataFrame({"a": [1.0, 2.0, 3.0], "b": [0.0, 1.0, 0.0]}, index=[10, 20, 30])
    ddf = dd.from_pandas(frame, npartitions=2)
    assert dask_ids(ddf) == [10, 20, 30]
    assert dask_ids(da.zeros((4, 2), chunks=2)) == range(4)
    X = dask_pool_features(ddf)
    np.testing.assert_array_equal(X.compute(), frame.to_numpy())
    with pytest.raises(InvalidInputError, match="non-numeric columns"):
        dask_pool_features(dd.from_pandas(frame.assign(c="x"), npartitions=1))

"""A cluster that goes away, Ctrl-C, progress, and the model sent once: for real, on LocalClusters."""

from __future__ import annotations

import _thread
import gc
import signal
import threading
import time
from typing import Any

import numpy as np
import pytest
from pool_helpers import first_labels, make_pool, require_dask, slow_pool
from sklearn.linear_model import LogisticRegression

from alwidgets import ActiveLearner
from alwidgets.exceptions import ClusterError

da = require_dask()
import dask  # noqa: E402
from dask.delayed import Delayed  # noqa: E402
from distributed import Client, LocalCluster  # noqa: E402

X, Y = make_pool(600)
LABELED = first_labels(Y)


def fitted() -> ActiveLearner:
    return ActiveLearner(LogisticRegression(max_iter=300), random_state=0).fit(
        X[LABELED], Y[LABELED]
    )


def own_cluster() -> Any:
    return LocalCluster(n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0")


def close_once(cluster: Any) -> None:
    """Close a cluster unless the test's timer already did (closing twice trips distributed)."""
    from distributed.core import Status

    if cluster.status not in (Status.closed, Status.closing):
        cluster.close()


def test_cluster_closed_mid_query_raises_and_keeps_the_learner() -> None:
    lrn = fitted()
    before = lrn.query(X, 5)  # an in-memory ranking the app would keep showing
    coef = lrn.estimator_.coef_.copy()
    cluster = own_cluster()
    client = Client(cluster)
    try:
        threading.Timer(0.8, cluster.close).start()
        t0 = time.monotonic()
        with (
            dask.config.set({"alwidgets.cluster-timeout": 3}),
            pytest.raises(ClusterError, match="went away") as err,
        ):
            lrn.query(slow_pool(40), 5)
        assert time.monotonic() - t0 < 20  # bounded, not a hang
        assert isinstance(err.value, RuntimeError)
    finally:
        client.close()
        close_once(cluster)
    np.testing.assert_array_equal(lrn.estimator_.coef_, coef)
    np.testing.assert_array_equal(lrn.query(X, 5), lrn.query(X, 5))
    assert lrn.scores_ is not None and len(before) == 5


def test_fit_on_a_lost_cluster_keeps_the_fitted_model() -> None:
    lrn = fitted()
    model = lrn.estimator_
    cluster = own_cluster()
    client = Client(cluster)
    pool = slow_pool(20, pause=0.3)
    try:
        threading.Timer(0.5, cluster.close).start()
        with dask.config.set({"alwidgets.cluster-timeout": 3}), pytest.raises(ClusterError):
            lrn.fit(pool[np.arange(0, 2000, 100)], np.arange(20) % 3)
    finally:
        client.close()
        close_once(cluster)
    assert lrn.estimator_ is model


def _press_ctrl_c(after: float, stop: threading.Event) -> None:
    """Ctrl-C in the main thread after ``after`` s, again each second until ``stop``.

    One simulated Ctrl-C can be lost: when the main thread handles it inside a
    finalizer (a dask ``Future.__del__``, say) Python prints "Exception ignored" and
    drops it, as it would a person's first Ctrl-C; a person presses again.
    """
    if stop.wait(after):
        return
    while True:
        _thread.interrupt_main()
        if stop.wait(1.0):
            return


def test_ctrl_c_cancels_the_futures_and_the_learner_stays_usable(client: Any) -> None:
    lrn = fitted()
    pool = slow_pool(40, pause=0.2)  # 4 s of blocks on two workers
    stop = threading.Event()
    presser = threading.Thread(target=_press_ctrl_c, args=(0.6, stop), daemon=True)
    # Python's own Ctrl-C handler, whatever an earlier test in this process installed
    before = signal.signal(signal.SIGINT, signal.default_int_handler)
    presser.start()
    try:
        with pytest.raises(KeyboardInterrupt):
            lrn.query(pool, 5)
    finally:
        stop.set()
        presser.join()
        signal.signal(signal.SIGINT, before)
    gc.collect()
    deadline = time.monotonic() + 10
    while client.futures and time.monotonic() < deadline:  # the cancellation reaches the client
        time.sleep(0.1)
    assert not client.futures
    quick = da.from_array(X, chunks=(100, 6))
    assert len(lrn.query(quick, 5, exclude=LABELED)) == 5


def test_progress_bar_in_a_terminal(client: Any, capsys: Any) -> None:
    with dask.config.set({"alwidgets.progress": 0}):
        fitted().query(slow_pool(6, pause=0.05), 3)
    assert "scoring blocks" in capsys.readouterr().err


def test_progress_bar_on_the_local_scheduler(capsys: Any) -> None:
    with dask.config.set({"alwidgets.progress": 0, "scheduler": "threads"}):
        fitted().query(slow_pool(6, pause=0.05), 3)
    assert "Completed" in capsys.readouterr().out


def test_no_cluster_is_started_and_no_progress_when_turned_off(capsys: Any) -> None:
    from alwidgets.pools import active_client

    with dask.config.set({"alwidgets.progress": False, "scheduler": "threads"}):
        assert active_client() is None
        fitted().query(da.from_array(X, chunks=(100, 6)), 3)
    out = capsys.readouterr()
    assert "scoring" not in out.err and "Completed" not in out.out


def test_the_model_is_one_key_of_the_graph_not_copied_per_block(client: Any) -> None:
    """Each block task refers to the scattered model by key (one transfer per worker)."""
    from alwidgets.pools._blocks import Model
    from alwidgets.pools._compute import scatter_once

    lrn = fitted()
    model = scatter_once(Model(lrn.strategy_, lrn.estimator_, lrn.classes_, None, False))
    assert type(model).__name__ == "Future"
    assert client.who_has([model])[model.key] and len(client.who_has([model])[model.key]) == 2
    with dask.config.set(scheduler="synchronous"):
        local = scatter_once(Model(lrn.strategy_, lrn.estimator_, lrn.classes_, None, False))
    assert isinstance(local, Delayed) and len(local.dask) == 1

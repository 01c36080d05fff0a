"""A real in-process Dask LocalCluster (2 workers × 1 thread) per test module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from pool_helpers import require_dask


@pytest.fixture(scope="module")
def cluster() -> Iterator[Any]:
    require_dask()
    from distributed import LocalCluster

    with LocalCluster(
        n_workers=2, threads_per_worker=1, processes=False, dashboard_address=":0"
    ) as cl:
        yield cl


@pytest.fixture
def client(cluster: Any) -> Iterator[Any]:
    """A default Client on the module's cluster (what a user's ``Client(...)`` makes)."""
    from distributed import Client

    with Client(cluster) as c:
        yield c

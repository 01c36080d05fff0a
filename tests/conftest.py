"""Suite-wide settings.

Tiny scikit-learn fits on this project's 2-core CI machine run several times slower
with multi-threaded BLAS (thread start-up and contention dominate), so the whole suite
runs with BLAS/OpenMP pools limited to one thread. Results do not depend on it.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from threadpoolctl import threadpool_limits

# ``--doctest-modules`` would import every conftest.py a second time as a module named
# "conftest", and those in sibling folders clash; none of them has doctests.
collect_ignore_glob = ["conftest.py", "*/conftest.py"]


@pytest.fixture(autouse=True, scope="session")
def _single_threaded_blas() -> Iterator[None]:
    with threadpool_limits(1):
        yield

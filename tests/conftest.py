"""Suite-wide settings.

Tiny scikit-learn fits on this project's 2-core CI machine run several times slower
with multi-threaded BLAS (thread start-up and contention dominate), so the whole suite
runs with BLAS/OpenMP pools limited to one thread. Results do not depend on it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from helpers import skip_or_fail_in_ci
from threadpoolctl import threadpool_limits

# ``--doctest-modules`` would import every conftest.py a second time as a module named
# "conftest", and those in sibling folders clash; none of them has doctests.
collect_ignore_glob = ["conftest.py", "*/conftest.py"]


@pytest.fixture(autouse=True, scope="session")
def _main_is_a_script() -> Iterator[None]:
    """Under xdist (``make test``) a worker's ``__main__`` is execnet's bootstrap, which
    has no file: to the app that looks like a kernel, so ``retrain_in="auto"`` would pick
    a worker process in every app test. Give it pytest's own ``__main__.py``, as a serial
    run has (a spawned process imports it harmlessly: its code is under a main guard)."""
    main = sys.modules["__main__"]
    if getattr(main, "__file__", None):
        yield
        return
    main.__file__ = str(Path(pytest.__file__).with_name("__main__.py"))
    try:
        yield
    finally:
        del main.__file__


@pytest.fixture(autouse=True, scope="session")
def _single_threaded_blas() -> Iterator[None]:
    with threadpool_limits(1):
        yield


CHROMIUM = Path("/usr/bin/chromium")
# What headless Debian Chromium needs here (root, no GPU, no network beyond loopback).
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-background-networking"]


@pytest.fixture(scope="module")
def chromium() -> Iterator[Any]:
    """A headless Debian Chromium driven by Playwright, for tests of front-end code in a page.

    Module scope: Playwright's sync API owns an event loop while it runs, so two modules
    must not hold one at once. Missing Chromium or Playwright skips outside CI and fails
    with ``CI=true`` (the browser tests must run there). The Jupyter server tests in
    ``tests/browser`` have their own persistent-profile fixture.
    """
    reason = None
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        reason = 'Python playwright is missing; pip install -e ".[test]"'
    if reason is None and not CHROMIUM.exists():
        reason = f"{CHROMIUM} is missing; `make browser-deps` installs it"
    if reason is not None:
        skip_or_fail_in_ci(f"the browser cannot start: {reason}")
    with sync_playwright() as pw:
        browser = pw.chromium.launch(
            executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
        )
        yield browser
        browser.close()

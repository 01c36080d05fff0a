"""Fixtures for the real-browser tests: Chromium, Jupyter servers, latency probes.

The browser tests need Debian's ``/usr/bin/chromium`` (``make test`` installs it
when it runs as root) and the Python ``playwright`` package (``test`` extra); the
bundled Playwright browsers are never downloaded. Outside CI a missing Chromium
skips these tests with the reason; in CI (``CI=true``) it is a failure.
"""

from __future__ import annotations

import contextlib
import sys
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

sys.path.insert(0, str(Path(__file__).parent))

from helpers import skip_or_fail_in_ci
from jupyter_harness import (
    CHROMIUM,
    ConsoleLog,
    JupyterServer,
    Kind,
    launch_chromium,
    start_server,
)

REPO = Path(__file__).resolve().parents[2]
_REPORT = pytest.StashKey[list[str]]()
_FAILED = pytest.StashKey[bool]()

# --doctest-modules would import this file a second time as a test module named
# "conftest" and clash with the other folders' conftest.py files; it has no doctests.
collect_ignore = ["conftest.py"]


def _unavailable(reason: str) -> None:
    skip_or_fail_in_ci(f"the browser test cannot run: {reason}")


@pytest.fixture(scope="session")
def playwright_module() -> Any:
    try:
        from playwright import sync_api
    except ImportError:
        _unavailable('Python playwright is missing; pip install -e ".[test]"')
    return sync_api


@pytest.fixture(scope="module")
def browser(playwright_module: Any, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Any]:
    """A headless Chromium (persistent context, fresh profile) per test module.

    Module scope: Playwright's sync API owns an event loop while it runs, so it is
    stopped before other modules (nbval's kernel clients, other browser tests) start.
    """
    if not CHROMIUM.exists():
        _unavailable(
            f"{CHROMIUM} is missing; `make browser-deps` installs Debian chromium when run as root"
        )
    with playwright_module.sync_playwright() as pw:
        context = launch_chromium(pw, tmp_path_factory.mktemp("chromium-profile"))
        try:
            yield context
        finally:
            context.close()


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Any:
    report = yield
    if report.when == "call":
        item.stash[_FAILED] = report.failed
    return report


@pytest.fixture
def page(
    browser: Any, request: pytest.FixtureRequest, tmp_path: Path
) -> Iterator[tuple[Any, ConsoleLog]]:
    """A new tab with its console errors collected; closed after the test.

    When the test fails, the tab is photographed first (``failure.png`` in the
    test's temporary directory) and the console is printed, to see what went wrong.
    """
    tab = browser.new_page()
    log = ConsoleLog()
    log.attach(tab)
    try:
        yield tab, log
    finally:
        if request.node.stash.get(_FAILED, False):
            shot = tmp_path / "failure.png"
            with contextlib.suppress(Exception):  # a crashed page must not hide the failure
                tab.screenshot(path=str(shot), full_page=True)
                print(f"failure screenshot: {shot}")
            print("console errors:", log.errors, "allowed:", log.allowed)
        tab.close()


@pytest.fixture
def jupyter(tmp_path: Path) -> Iterator[Callable[[Kind, Path], JupyterServer]]:
    """Factory ``jupyter(kind, root)`` starting servers that are all stopped at teardown."""
    servers: list[JupyterServer] = []

    def start(kind: Kind, root: Path) -> JupyterServer:
        server = start_server(kind, root, tmp_path / f"jupyter-{kind}-{len(servers)}")
        servers.append(server)
        return server

    try:
        yield start
    finally:
        for server in servers:
            server.stop()


@pytest.fixture
def browser_report(request: pytest.FixtureRequest) -> Callable[[str], None]:
    """``browser_report(line)``: print now (with ``-s``) and in the end-of-run summary.

    The latency numbers are informational; the summary makes them visible in a
    plain ``make test`` run, where passing tests' output is captured.
    """
    lines = request.config.stash.setdefault(_REPORT, [])

    def report(line: str) -> None:
        print(line)
        lines.append(line)

    return report


def pytest_terminal_summary(terminalreporter: Any, config: pytest.Config) -> None:
    lines = config.stash.get(_REPORT, [])
    if lines:
        terminalreporter.section("alwidgets in a real browser (informational)")
        for line in lines:
            terminalreporter.write_line(line)

"""How ``make test`` spreads the suite over two xdist workers (``--dist loadgroup``).

This file sits at the top so that it also sees the notebooks' nbval items and the
package's doctests, not only ``tests/``. Tests that share something run in one group,
on one worker, in order: everything on the suite's PostgreSQL server (some tests stop
and restart it), the real-browser tests, the Binder run. Every other file is a group of
its own (a notebook's cells share one kernel, so they must stay together and in order).
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

_SERVER_MODULES = {
    "test_labeler_team.py", "test_labeler_unsaved.py", "test_multilabel_team.py",
    "test_outage.py", "test_team_processes.py", "test_team_browser.py",
    "test_store_claims_load.py", "test_store_pg.py", "test_store_team.py",
}  # fmt: skip
_BROWSER_MODULES = {"test_wheel.py", "test_make_demo.py"}


def _xdist_group(item: pytest.Item) -> str:
    path = Path(str(item.fspath))
    if path.name in _SERVER_MODULES or "postgresql" in item.nodeid:
        return "postgresql-server"
    if path.name == "test_binder.py":
        return "binder"
    if path.parent.name == "browser" or path.name in _BROWSER_MODULES:
        return "browser"
    return re.sub(r"\W", "_", path.name)  # a plain word: xdist splits node ids on "@"


#: The long groups start first (``--no-loadscope-reorder`` keeps this order), so the
#: Binder run (minutes) does not start last while the other worker is idle.
_FIRST = {"binder": 0, "postgresql-server": 1, "browser": 2}


@pytest.hookimpl(tryfirst=True)  # before xdist's own hook reads the marks
def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    groups: dict[str, str] = {}
    for item in items:
        mark = item.get_closest_marker("xdist_group")
        if mark is None:
            item.add_marker(pytest.mark.xdist_group(_xdist_group(item)))
            mark = item.get_closest_marker("xdist_group")
        groups[item.nodeid] = str(mark.args[0]) if mark and mark.args else "default"
    items.sort(key=lambda it: _FIRST.get(groups[it.nodeid], len(_FIRST)))  # stable

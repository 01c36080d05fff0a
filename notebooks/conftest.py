"""Keep ``pytest --nbval-lax notebooks`` from touching a user's session files.

nbval runs each notebook with the notebook's folder as working directory, so the
quickstart writes ``digits.alw`` and the tabular notebook its CSV export right
here. A test run must neither resume a person's real session (adding labels to
it) nor leave files behind: files of those kinds that exist before the run are
moved aside into a hidden folder next to this file, and put back afterwards;
whatever the run created is deleted.

``large_pool.ipynb`` runs here with a 2,000,000-row pool (``ALWIDGETS_POOL_ROWS``;
set the variable to run it at another size).
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
PATTERNS = ("*.alw", "*.alw-wal", "*.alw-shm", "*.alw-journal", "*.csv")
_ASIDE = pytest.StashKey[Path]()

# --doctest-modules would import this file a second time as a test module named
# "conftest" and clash with the other folders' conftest.py files; it has no doctests.
collect_ignore = ["conftest.py"]


def _session_files() -> list[Path]:
    return sorted({p for pattern in PATTERNS for p in HERE.glob(pattern) if p.is_file()})


#: The large-pool notebook's size under test (its default is 10,000,000 rows).
POOL_ROWS_UNDER_TEST = "2000000"


def pytest_sessionstart(session: pytest.Session) -> None:
    # kernels started by nbval inherit this environment
    os.environ.setdefault("ALWIDGETS_POOL_ROWS", POOL_ROWS_UNDER_TEST)
    aside = Path(tempfile.mkdtemp(prefix=".nbval-moved-aside-", dir=HERE))
    for path in _session_files():
        shutil.move(path, aside / path.name)
    session.stash[_ASIDE] = aside


def pytest_sessionfinish(session: pytest.Session) -> None:
    aside = session.stash.get(_ASIDE, None)
    if aside is None:
        return
    for path in _session_files():
        path.unlink()
    for path in aside.iterdir():
        shutil.move(path, HERE / path.name)
    aside.rmdir()

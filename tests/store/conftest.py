"""Fixtures for the session-store tests: a replay oracle, real child processes,
and a directory that is really read-only (also for root)."""

from __future__ import annotations

import shutil
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from helpers import skip_or_fail_in_ci
from store_helpers import Target

from alwidgets.store import SessionStore

WRITER = Path(__file__).with_name("store_writer.py")
BACKENDS = ["sqlite", "postgresql"]


@pytest.fixture(params=BACKENDS)
def backend(request: pytest.FixtureRequest) -> str:
    """Each store test that takes it runs on an SQLite file and on the test server."""
    return str(request.param)


@pytest.fixture
def target(backend: str, tmp_path: Path) -> Iterator[Target]:
    where = Target(backend, tmp_path)
    yield where
    where.cleanup()


@pytest.fixture
def open_store(target: Target) -> Callable[..., SessionStore]:
    """``open_store(classes=..., annotator=...)`` opens the test's session (both backends)."""
    return target.open


def _replay(events: pd.DataFrame) -> tuple[dict[Any, Any], dict[Any, tuple[Any, ...]]]:
    """Recompute (labels, state) from the event log the slow, obvious way.

    Walk the events in order; an undo removes the undone event; the current label
    of an item is its last remaining label event, its state its last remaining action.
    A conflict event is no answer: it sets neither (an undo may still remove it).
    Labels map to ``(label, annotator, time)``, states to ``(action, label, annotator,
    time)``: the fields of the event that sets them.
    """
    alive: dict[int, tuple[str, Any, Any, str, Any]] = {}
    conflicts: set[int] = set()
    for event_id, row in events.iterrows():
        if row["action"] == "undo":
            target = int(row["undoes"])
            if target in conflicts:
                conflicts.remove(target)
            else:
                del alive[target]
        elif row["action"] == "conflict":
            conflicts.add(int(event_id))
        else:
            label = row["label"]
            alive[int(event_id)] = (
                row["action"],
                row["item_id"],
                None if _missing(label) else label,
                row["annotator"],
                row["answered_at"],
            )
    labels: dict[Any, Any] = {}
    state: dict[Any, tuple[Any, ...]] = {}
    for event_id in sorted(alive):
        action, item, label, annotator, answered = alive[event_id]
        key = (type(item).__name__, item)
        if action == "label":
            labels.pop(key, None)
            labels[key] = (label, annotator, answered)
        state.pop(key, None)
        state[key] = (action, label, annotator, answered)
    return labels, state


def _missing(value: Any) -> bool:
    """NA, NaN or None; a multi-label answer (a tuple, maybe empty) is never missing."""
    return not isinstance(value, tuple) and bool(pd.isna(value))


def _keyed(frame: pd.DataFrame, columns: list[str]) -> dict[Any, Any]:
    out = {}
    for item, row in zip(frame.index.tolist(), frame[columns].itertuples(index=False), strict=True):
        values = tuple(None if _missing(v) else v for v in row)
        out[(type(item).__name__, item)] = values[0] if len(values) == 1 else values
    return out


@pytest.fixture
def check_views() -> Callable[[Any], None]:
    """Assert a store's ``labels`` and ``state`` (values *and* order) match a replay."""

    def check(store: Any) -> None:
        labels, state = _replay(store.events)
        got_labels = _keyed(store.labels, ["label", "annotator", "time"])
        got_state = _keyed(store.state, ["action", "label", "annotator", "time"])
        assert list(got_labels.items()) == list(labels.items())
        assert list(got_state.items()) == list(state.items())

    return check


class Writer:
    """A ``store_writer.py`` child process whose output is read by a thread.

    Reading in a thread (not ``readline`` + ``communicate``, which can drop lines
    the text wrapper already buffered) keeps every acknowledged line.
    """

    def __init__(self, args: list[str]) -> None:
        self.proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, bufsize=1
        )
        self.lines: list[str] = []
        self._ready = threading.Event()
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            if not line.endswith("\n"):
                break  # cut in half by a kill: never acknowledged
            if line == "READY\n":
                self._ready.set()
            else:
                self.lines.append(line.rstrip("\n"))

    def wait_ready(self, timeout: float = 60) -> None:
        if not self._ready.wait(timeout):
            self.proc.kill()
            raise AssertionError(f"writer did not start: {self.finish()[1]}")

    def finish(self, timeout: float = 120) -> tuple[list[str], str]:
        """Wait for the process to end; return its acknowledged lines and stderr."""
        self.proc.wait(timeout=timeout)
        self._reader.join(timeout=timeout)
        assert self.proc.stderr is not None
        return self.lines, self.proc.stderr.read()


@pytest.fixture
def spawn_writer() -> Iterator[Callable[..., Writer]]:
    """Start ``store_writer.py`` in a real child process; kill leftovers at the end."""
    writers: list[Writer] = []

    def spawn(mode: str, path: Path, seed: int, annotator: str, n: int = 0) -> Writer:
        args = [sys.executable, str(WRITER), mode, str(path), str(seed), annotator, str(n)]
        writers.append(Writer(args))
        return writers[-1]

    yield spawn
    for writer in writers:
        if writer.proc.poll() is None:
            writer.proc.kill()
        writer.finish(timeout=30)


def _writable(directory: Path) -> bool:
    try:
        (directory / ".probe").write_bytes(b"")
    except OSError:
        return False
    (directory / ".probe").unlink()
    return True


@pytest.fixture
def make_readonly(tmp_path: Path) -> Iterator[Callable[[Path], None]]:
    """Make a directory read-only for real: chmod, or ``chattr +i`` when running as root."""
    locked: list[tuple[Path, bool]] = []

    def lock(directory: Path) -> None:
        directory.chmod(0o555)
        locked.append((directory, False))
        if _writable(directory) and shutil.which("chattr"):
            # root ignores permission bits; the immutable attribute still applies
            done = subprocess.run(["chattr", "+i", str(directory)], capture_output=True)
            if done.returncode == 0:
                locked.append((directory, True))
        if _writable(directory):
            skip_or_fail_in_ci("cannot make a directory read-only here (root without chattr +i)")

    yield lock
    for directory, immutable in reversed(locked):
        if immutable:
            subprocess.run(["chattr", "-i", str(directory)], check=True)
        else:
            directory.chmod(0o755)

"""Durability with real processes: SIGKILL at a random moment loses nothing that was
acknowledged, and several writers at once lose and duplicate nothing."""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import threading
import time
import warnings
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from alwidgets.store import NothingToUndoWarning, SessionStore

N_CRASH_TRIALS = 24

Spawn = Callable[..., Any]


def _parse(lines: list[str]) -> tuple[dict[int, tuple[str, Any]], dict[int, int]]:
    """Acknowledged events ``{id: (action, item)}`` and undos ``{undo_id: undone_id}``."""
    events: dict[int, tuple[str, Any]] = {}
    undos: dict[int, int] = {}
    for line in lines:
        parts = line.split(" ", 3)
        if parts[0] == "E":
            events[int(parts[1])] = (parts[2], json.loads(parts[3]))
        elif parts[0] == "U":
            undos[int(parts[1])] = int(parts[2])
    return events, undos


def _integrity(path: Path) -> str:
    conn = sqlite3.connect(path)
    try:
        return str(conn.execute("PRAGMA integrity_check").fetchone()[0])
    finally:
        conn.close()


@pytest.mark.parametrize("trial", range(N_CRASH_TRIALS))
def test_sigkill_at_a_random_moment_loses_no_acknowledged_event(
    trial: int, tmp_path: Path, spawn_writer: Spawn, check_views: Callable[[Any], None]
) -> None:
    rng = np.random.default_rng(1000 + trial)
    path = tmp_path / "crash.db"
    if trial % 3 == 1:  # also crash while resuming a session with history
        with SessionStore(path, classes=["neg", "pos", 7], annotator="w") as store:
            for i in range(30):
                store.label(i, "pos")
    writer = spawn_writer("crash", path, trial, "w")
    writer.wait_ready()
    time.sleep(float(rng.uniform(0.0, 0.25)))
    os.kill(writer.proc.pid, signal.SIGKILL)
    lines, _ = writer.finish(timeout=30)
    assert writer.proc.returncode == -signal.SIGKILL
    acked, undos = _parse(lines)

    assert _integrity(path) == "ok"
    with SessionStore(path) as store:
        events = store.events
        for event_id, (action, item) in acked.items():
            assert event_id in events.index, f"acknowledged event {event_id} lost"
            assert events.loc[event_id, "action"] == action
            assert events.loc[event_id, "item_id"] == item
        for undo_id, undone in undos.items():
            assert events.loc[undo_id, "action"] == "undo"
            assert events.loc[undo_id, "undoes"] == undone
        # at most the one call in flight at the kill committed without being printed
        written = len(events) - (30 if trial % 3 == 1 else 0)
        assert written - (len(acked) + len(undos)) in {0, 1}
        check_views(store)
        # the session goes on where it stopped
        new_id = store.label("after-crash", "neg")
        assert new_id == (int(events.index.max()) if len(events) else 0) + 1
    assert _integrity(path) == "ok"


def test_two_processes_writing_at_once_lose_and_duplicate_nothing(
    tmp_path: Path, spawn_writer: Spawn, check_views: Callable[[Any], None]
) -> None:
    n = 300
    path = tmp_path / "shared.db"
    writers = {name: spawn_writer("burst", path, seed, name, n) for seed, name in enumerate("ab")}
    for writer in writers.values():
        writer.wait_ready()
    Path(f"{path}.go").touch()  # both start writing now
    outputs = {}
    for name, writer in writers.items():
        lines, err = writer.finish(timeout=120)
        assert writer.proc.returncode == 0, err
        assert lines[-1] == "DONE"
        outputs[name] = _parse(lines[:-1])

    assert _integrity(path) == "ok"
    with SessionStore(path) as store:
        events = store.events
        check_views(store)
        assert len(events) == 2 * n
        assert events.index.is_unique
        for name, (acked, undos) in outputs.items():
            mine = events[events["annotator"] == name]
            assert len(mine) == n
            assert len(acked) == n - n // 10 and len(undos) == n // 10
            assert set(mine.index) == set(acked) | set(undos)
            for event_id, (action, item) in acked.items():
                assert (events.loc[event_id, "action"], events.loc[event_id, "item_id"]) == (
                    action,
                    item,
                )
            # each undo reverted that writer's own latest live action, never the other's
            undone = events.loc[list(undos), "undoes"].astype(int)
            assert set(events.loc[undone, "annotator"]) == {name}
        items = events.loc[events["action"] != "undo", "item_id"]
        assert items.is_unique  # every action was written exactly once


def test_store_objects_in_threads_of_one_process(tmp_path: Path) -> None:
    path = tmp_path / "threads.db"
    errors: list[BaseException] = []

    def work(name: str) -> None:
        try:
            with SessionStore(path, annotator=name) as store, warnings.catch_warnings():
                warnings.simplefilter("ignore", NothingToUndoWarning)
                for i in range(150):
                    store.label(f"{name}{i}", i % 3)
                    if i % 7 == 0:
                        store.undo()
        except BaseException as err:
            errors.append(err)

    SessionStore(path).close()
    threads = [threading.Thread(target=work, args=(name,)) for name in ("x", "y", "z")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    assert not errors
    with SessionStore(path) as store:
        per_writer = store.events.groupby("annotator").size().to_dict()
        live = store.labels.groupby("annotator").size().to_dict()
    n_undo = len(range(0, 150, 7))
    assert per_writer == {name: 150 + n_undo for name in "xyz"}
    # every undo reverted the label its own thread had just written
    assert live == {name: 150 - n_undo for name in "xyz"}


def _hold_write_lock(path: Path) -> sqlite3.Connection:
    """Another writer in the middle of a transaction."""
    other = sqlite3.connect(path, isolation_level=None, check_same_thread=False)
    other.execute("BEGIN IMMEDIATE")
    return other


def test_a_writer_waits_for_another_writers_lock(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    with SessionStore(path) as store:
        other = _hold_write_lock(path)
        release = threading.Timer(0.3, lambda: other.execute("COMMIT"))
        release.start()
        t0 = time.monotonic()
        event_id = store.label(1, "x")  # waits for the commit instead of failing
        waited = time.monotonic() - t0
        release.join()
        other.close()
        assert store.labels.index.tolist() == [1] and event_id == 1
        assert waited >= 0.25
        store.label(2, "x")  # the normal busy timeout is back in place
        timeout = store._run(lambda conn: conn.execute("PRAGMA busy_timeout").fetchone()[0])
        assert timeout >= 1000


def test_a_lock_held_too_long_is_a_clear_error(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alwidgets.exceptions import StoreError
    from alwidgets.store import _backend

    path = tmp_path / "s.db"
    with SessionStore(path) as store:
        store.label(1, "x")
        monkeypatch.setattr(_backend, "BUSY_TIMEOUT_S", 0.2)
        other = _hold_write_lock(path)
        with pytest.raises(StoreError, match="stayed locked by another process"):
            store.label(2, "x")
        other.execute("ROLLBACK")
        other.close()
        assert store.labels.index.tolist() == [1]
        store.label(3, "x")
        assert store.labels.index.tolist() == [1, 3]

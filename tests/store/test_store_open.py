"""Opening files: new, resumed, foreign, mismatched, newer, migrated, unwritable."""

from __future__ import annotations

import os
import sqlite3
import subprocess
import sys
import tempfile
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_helpers import apply_ops

from alwidgets.exceptions import (
    InvalidInputError,
    LabelConflictError,
    StoreError,
    StoreMismatchError,
)
from alwidgets.store import SCHEMA_VERSION, SessionStore, _migrations, _schema


def _fingerprint(path: Path) -> tuple[bytes, int, list[str]]:
    """Bytes, mtime and sibling files: everything opening must not change."""
    return path.read_bytes(), path.stat().st_mtime_ns, sorted(os.listdir(path.parent))


def _session(path: Path, classes: list[str] | None = None) -> None:
    with SessionStore(path, classes=classes, annotator="ann") as store:
        store.label(1, "a")


def test_new_file_is_identified_as_a_session_store(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    _session(path, ["a", "b"])
    assert path.read_bytes()[:16] == b"SQLite format 3\x00"
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA application_id").fetchone()[0] == _schema.APPLICATION_ID
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    conn.close()
    assert meta["magic"] == _schema.MAGIC
    assert meta["schema_version"] == str(SCHEMA_VERSION)
    assert meta["classes"] == '["a", "b"]'
    assert len(meta["session_id"]) == 32 and meta["created_at"].endswith("+00:00")


def test_empty_file_becomes_a_new_store(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    path.touch()
    with SessionStore(path, classes=["a"]) as store:
        assert store.classes == ["a"] and len(store) == 0


def test_conflicting_classes_are_refused_and_the_file_untouched(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    _session(path, ["a", "b"])
    before = _fingerprint(path)
    with pytest.raises(StoreMismatchError) as info:
        SessionStore(path, classes=["a", "c"])
    message = str(info.value)
    assert "['a', 'b']" in message and "['a', 'c']" in message
    assert "classes=None" in message and "new file" in message
    assert _fingerprint(path) == before


def test_int_and_str_classes_conflict(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    SessionStore(path, classes=[0, 1]).close()
    with pytest.raises(StoreMismatchError, match=r"\[0, 1\]"):
        SessionStore(path, classes=["0", "1"])


def test_classes_that_miss_existing_labels_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    _session(path)  # no classes, label "a"
    with pytest.raises(StoreMismatchError, match=r"labels \['a'\].*not in classes"):
        SessionStore(path, classes=["x", "y"])
    with SessionStore(path) as store:
        assert store.classes is None


def test_text_file_is_not_a_store_and_is_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "notes.db"
    path.write_text("id,label\n1,cat\n")
    before = _fingerprint(path)
    with pytest.raises(StoreMismatchError, match=r"not an alwidgets session store.*not an SQLite"):
        SessionStore(path)
    assert _fingerprint(path) == before


def test_foreign_sqlite_database_is_left_untouched(tmp_path: Path) -> None:
    path = tmp_path / "other.sqlite"
    conn = sqlite3.connect(path)
    conn.execute("CREATE TABLE t (x)")
    conn.execute("INSERT INTO t VALUES (1)")
    conn.commit()
    conn.close()
    before = _fingerprint(path)
    with pytest.raises(StoreMismatchError, match="SQLite database with application_id 0x0"):
        SessionStore(path, classes=["a"])
    assert _fingerprint(path) == before


def test_sqlite_file_with_our_id_but_no_meta_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "fake.db"
    conn = sqlite3.connect(path)
    conn.execute(f"PRAGMA application_id = {_schema.APPLICATION_ID}")
    conn.execute("CREATE TABLE t (x)")
    conn.commit()
    conn.close()
    before = _fingerprint(path)
    with pytest.raises(StoreMismatchError, match="no alwidgets meta data"):
        SessionStore(path)
    assert _fingerprint(path)[:2] == before[:2]


def test_truncated_store_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    _session(path)
    data = path.read_bytes()
    path.write_bytes(data[:200])  # header intact, pages gone
    with pytest.raises(StoreError, match=r"s\.db"):
        SessionStore(path)
    assert path.read_bytes() == data[:200]


def test_newer_schema_asks_to_upgrade_and_touches_nothing(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    _session(path)
    conn = sqlite3.connect(path)
    conn.execute("UPDATE meta SET value = '99' WHERE key = 'schema_version'")
    conn.commit()
    conn.close()
    before = _fingerprint(path)
    with pytest.raises(StoreMismatchError, match=r"schema 99.*pip install -U alwidgets"):
        SessionStore(path)
    assert _fingerprint(path)[:2] == before[:2]


def _add_note_column(conn: sqlite3.Connection) -> None:
    conn.execute("ALTER TABLE events ADD COLUMN note TEXT")


def test_an_older_file_is_migrated_on_open(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = tmp_path / "s.db"
    _session(path)
    # pretend this alwidgets writes schema N+1, with a migration from N
    monkeypatch.setattr(_schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setattr(_schema, "MIGRATIONS", {SCHEMA_VERSION: _add_note_column})
    with SessionStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION + 1
        assert store.labels.index.tolist() == [1]
    conn = sqlite3.connect(path)
    columns = [row[1] for row in conn.execute("PRAGMA table_info(events)")]
    version = conn.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchone()[0]
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION + 1
    conn.close()
    assert "note" in columns and version == str(SCHEMA_VERSION + 1)


def test_a_failing_migration_leaves_the_file_as_it_was(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "s.db"
    _session(path)

    def half_done(conn: sqlite3.Connection) -> None:
        _add_note_column(conn)
        raise RuntimeError("migration bug")

    monkeypatch.setattr(_schema, "SCHEMA_VERSION", SCHEMA_VERSION + 1)
    monkeypatch.setattr(_schema, "MIGRATIONS", {SCHEMA_VERSION: half_done})
    with pytest.raises(RuntimeError, match="migration bug"):
        SessionStore(path)
    monkeypatch.setattr(_schema, "MIGRATIONS", {})
    with pytest.raises(
        StoreError, match=f"no migration from session-store schema {SCHEMA_VERSION}"
    ):
        SessionStore(path)
    monkeypatch.undo()
    conn = sqlite3.connect(path)
    columns = [row[1] for row in conn.execute("PRAGMA table_info(events)")]
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    conn.close()
    assert "note" not in columns
    with SessionStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION


def test_missing_directory_is_a_clear_error(tmp_path: Path) -> None:
    path = tmp_path / "no" / "such" / "dir" / "s.db"
    with pytest.raises(StoreError, match=r"does not exist\. Create it first"):
        SessionStore(path)
    assert not (tmp_path / "no").exists()


def test_directory_instead_of_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="is a directory; pass a file path"):
        SessionStore(tmp_path)


@pytest.mark.parametrize("bad", [None, 3, "", b"s.db"])
def test_path_must_be_a_path(bad: object) -> None:
    with pytest.raises(InvalidInputError, match="path must be a file path"):
        SessionStore(bad)  # type: ignore[arg-type]


def test_new_store_in_read_only_directory(
    tmp_path: Path, make_readonly: Callable[[Path], None]
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    make_readonly(folder)
    with pytest.raises(StoreError, match="is read-only"):
        SessionStore(folder / "s.db")
    assert os.listdir(folder) == []


def test_existing_store_in_read_only_directory(
    tmp_path: Path, make_readonly: Callable[[Path], None]
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    path = folder / "s.db"
    _session(path)
    before = _fingerprint(path)
    make_readonly(folder)
    with pytest.raises(StoreError, match=r"is read-only.*-wal"):
        SessionStore(path)
    assert _fingerprint(path) == before


_CREATE = """
import sys
from alwidgets.store import SessionStore
with SessionStore(sys.argv[1], classes=["a", "b"]) as store:
    print(store.session_id)
"""


def test_two_processes_creating_the_same_file_share_one_session(tmp_path: Path) -> None:
    for attempt in range(3):
        path = tmp_path / f"race{attempt}.db"
        procs = [
            subprocess.Popen(
                [sys.executable, "-c", _CREATE, str(path)],
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                text=True,
            )
            for _ in range(3)
        ]
        outs = [proc.communicate(timeout=60) for proc in procs]
        assert all(proc.returncode == 0 for proc in procs), [err for _, err in outs]
        ids = {out.strip() for out, _ in outs}
        assert len(ids) == 1
        conn = sqlite3.connect(path)
        assert conn.execute("SELECT count(*) FROM meta WHERE key = 'magic'").fetchone()[0] == 1
        conn.close()


@contextmanager
def _schema_4() -> Iterator[None]:
    """Stores opened inside are written at schema 4: what alwidgets wrote before 5."""
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(_schema, "SCHEMA_VERSION", 4)
        yield


def _as_schema(path: Path, version: int) -> None:
    """Turn a schema-4 store into the file an older alwidgets wrote (schema 1, 2 or 3).

    Drops the claims and the idempotency keys (schema 4). For schema 3 that is all;
    otherwise drops the ``current`` index and its triggers (schema 1 had none); for
    schema 2, rebuilds it with that version's own code path (migration 1 -> 2).
    """
    if version == 4:
        return
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute("BEGIN IMMEDIATE")
    conn.execute("DROP TABLE claims")
    for table in ("events", "models"):
        conn.execute(f"DROP INDEX {table}_key")
        conn.execute(f"ALTER TABLE {table} DROP COLUMN key")
    for trigger in _migrations._CURRENT_TRIGGERS if version < 3 else ():
        conn.execute(f"DROP TRIGGER {trigger}")
    if version < 3:
        conn.execute("DROP TABLE current")
    if version == 2:
        _schema.migrate(conn, 1, target=2)
    conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version),))
    conn.execute(f"PRAGMA user_version = {version}")
    conn.execute("COMMIT")
    conn.close()


def _columns(path: Path, table: str) -> list[str]:
    conn = sqlite3.connect(path)
    names = [row[1] for row in conn.execute(f"PRAGMA table_info({table})")]
    conn.close()
    return names


def _sample_session(store: SessionStore) -> None:
    for i in range(20):
        store.label(i % 7, "ab"[i % 2], annotator=("ann", "bo")[i % 3 == 0])
    store.skip("x")
    store.unsure(3)
    store.undo()
    store.undo()
    store.undo(annotator="bo")


@pytest.mark.parametrize("version", [1, 2, 3, 4])
def test_an_old_file_is_upgraded_to_the_current_schema(
    tmp_path: Path, version: int, check_views: Callable[[Any], None]
) -> None:
    """Schema 1 had no ``current`` table, schema 2 a narrow one: opening such a file
    (re)builds it from the log, and the triggers keep it current from then on. Schema
    4 knew no conflicts: the rebuilt ``events`` takes them, and the triggers skip them."""
    path = tmp_path / "s.db"
    with _schema_4(), SessionStore(path, classes=["a", "b"], annotator="ann") as store:
        assert store.schema_version == 4
        _sample_session(store)
        labels, state, events = store.labels, store.state, store.events
    _as_schema(path, version)
    if version == 2:  # the narrow schema-2 table the old code path built
        assert _columns(path, "current") == ["item_id", "label_event", "state_event"]
    if version < 4:
        assert "key" not in _columns(path, "events")
    with SessionStore(path) as store:
        assert store.schema_version == SCHEMA_VERSION == 5
        assert not store.multi_label  # an older session is single-label
        pd.testing.assert_frame_equal(store.labels, labels)
        pd.testing.assert_frame_equal(store.state, state)
        pd.testing.assert_frame_equal(store.events, events)
        check_views(store)
        store.label(0, "b", annotator="cy")
        store.skip(1)
        store.undo()  # the skip: item 1's earlier label shows again
        assert store.labels.loc[0, ["label", "annotator"]].tolist() == ["b", "cy"]
        with pytest.raises(LabelConflictError):  # the new action fits the rebuilt table
            store.label(0, "a", annotator="dee", overlap=1)
        store.undo(annotator="cy")  # rebuilds item 0's row: the conflict is no answer
        assert store.state.loc[0, "annotator"] != "dee"
        check_views(store)
        assert store.claim([0, 1, 50, 51], 1) == [50]  # the claims table is there
    assert "label_annotator" in _columns(path, "current")
    assert "key" in _columns(path, "events") and "key" in _columns(path, "models")
    conn = sqlite3.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == SCHEMA_VERSION
    meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):  # triggers rebuilt
        conn.execute("DELETE FROM events")
    conn.close()
    assert meta["multi_label"] == "false" and meta["schema_version"] == "5"


def test_old_ranks_are_kept_when_a_file_is_migrated(tmp_path: Path) -> None:
    """Before schema 5 the codec documented ``rank`` 0-based: a 0 already stored stays
    readable (the file keeps it), while new answers must give 1-based ranks."""
    path = tmp_path / "s.db"
    with _schema_4(), SessionStore(path, classes=["a", "b"]) as store:
        store.label(1, "a")
    conn = sqlite3.connect(path, isolation_level=None)
    conn.execute(
        "INSERT INTO events (action, item_id, label, annotator, answered_at, rank) "
        "VALUES ('label', 2, 'b', 'old', 1.0, 0)"
    )
    conn.close()
    with SessionStore(path) as store:
        assert store.events["rank"].tolist() == [pd.NA, 0]
        with pytest.raises(InvalidInputError, match="rank must be a positive int"):
            store.label(3, "a", rank=0)


_MIGRATION_OPS = st.lists(
    st.tuples(
        st.sampled_from(["label", "label", "skip", "unsure", "undo"]),
        st.one_of(st.integers(0, 4), st.sampled_from(["0", "a"])),
        st.sampled_from(["neg", "pos"]),
        st.sampled_from(["ann", "bo"]),
    ),
    max_size=30,
)


@settings(
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(ops=_MIGRATION_OPS)
def test_migrating_schema_2_gives_the_views_of_a_replay(
    check_views: Callable[[Any], None], ops: list[tuple[str, Any, str, str]]
) -> None:
    """Any log written under schema 2, migrated to 3, reads like a replay of the log."""
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "s.db"
        with _schema_4(), SessionStore(path, classes=["neg", "pos"]) as store:
            apply_ops(store, ops)
        _as_schema(path, 2)
        with SessionStore(path) as store:
            assert store.schema_version == SCHEMA_VERSION
            check_views(store)

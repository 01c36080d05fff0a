"""The on-disk format of a session store: identification, opening, creating.

A session store is an SQLite file in WAL mode. It identifies itself twice: the
SQLite header field ``application_id`` (readable from the raw bytes, so a
foreign file is recognised without opening it for writing) and a ``meta`` table
holding a magic string, the schema version, the session id, the classes, the
session kind (``multi_label``: ``true``/``false``, from schema 5) and the creation time. ``PRAGMA user_version`` mirrors the schema version.

The ``events`` and ``models`` tables are append-only: triggers abort any
``UPDATE`` or ``DELETE``. So event ids (rowids) only grow, in commit order, and
a reader catches up with ``WHERE id > last_seen``.

The tables of every schema version and the migrations between them are in
:mod:`alwidgets.store._migrations`.

Examples
--------
>>> import os, tempfile
>>> from pathlib import Path
>>> tmp = tempfile.mkdtemp()
>>> conn, meta = open_store(Path(tmp) / "s.db", classes=["a", "b"])
>>> meta.classes, meta.schema_version == SCHEMA_VERSION, meta.multi_label
(['a', 'b'], True, False)
>>> conn.close()
>>> import shutil; shutil.rmtree(tmp)
"""

from __future__ import annotations

import datetime as dt
import json
import os
import sqlite3
import tempfile
import uuid
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from alwidgets._version import __version__
from alwidgets.exceptions import InvalidInputError, StoreError, StoreMismatchError
from alwidgets.store._codec import Value
from alwidgets.store._migrations import (
    _CURRENT_DDL,
    _DDL,
    _V4_DDL,
    CREATED_AT,
    MIGRATIONS,
    SCHEMA_VERSION,
    _statements,
    migrate,
)

__all__ = [
    "APPLICATION_ID",
    "BUSY_TIMEOUT_S",
    "MAGIC",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Meta",
    "migrate",
    "open_store",
    "reconcile_kind",
]

#: ``PRAGMA application_id`` of every session store: the bytes ``b"alwS"``.
APPLICATION_ID = int.from_bytes(b"alwS", "big")
#: Value of the ``magic`` row in the ``meta`` table.
MAGIC = "alwidgets-session-store"

_SQLITE_MAGIC = b"SQLite format 3\x00"
#: How long a writer waits for another writer's lock before giving up.
BUSY_TIMEOUT_S = 30.0


@dataclass(frozen=True)
class Meta:
    """What the ``meta`` table says about a session."""

    session_id: str
    classes: list[Value] | None
    created_at: str
    schema_version: int
    #: Whether an answer is a set of classes (schema 5; older sessions are single-label).
    multi_label: bool = False


def connect(path: Path) -> sqlite3.Connection:
    """Open ``path`` with the settings every store connection uses.

    Autocommit mode (transactions are explicit ``BEGIN IMMEDIATE``), a busy
    timeout so concurrent writers wait instead of failing, and usable from any
    thread (the store serialises access with its own lock).
    """
    conn = sqlite3.connect(
        path, timeout=BUSY_TIMEOUT_S, isolation_level=None, check_same_thread=False
    )
    conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")
    return conn


def _diagnose(path: Path, err: Exception) -> StoreError:
    """Turn an SQLite open/write failure into an error that says what to do."""
    parent = path.parent
    try:
        with tempfile.TemporaryFile(dir=parent):
            writable = True
    except OSError:
        writable = False
    if not writable:
        return StoreError(
            f"cannot write the session store {str(path)!r}: the directory {str(parent)!r} is "
            "read-only (SQLite needs to create its -wal and -shm files next to the store). "
            "Choose a writable directory, or copy the file to one."
        )
    if path.exists() and not os.access(path, os.W_OK):
        return StoreError(
            f"cannot write the session store {str(path)!r}: the file is read-only. "
            "Make it writable (chmod u+w) or copy it."
        )
    return StoreError(f"cannot open the session store {str(path)!r}: {err}.")


def _check_path(path: Path) -> bool:
    """Check ``path`` before SQLite sees it; return whether it holds a store already."""
    if path.is_dir():
        raise StoreError(
            f"{str(path)!r} is a directory; pass a file path such as {str(path / 'session.db')!r}."
        )
    if not path.parent.is_dir():
        raise StoreError(
            f"cannot create the session store {str(path)!r}: the directory "
            f"{str(path.parent)!r} does not exist. Create it first "
            "(os.makedirs(..., exist_ok=True)) or choose another path."
        )
    try:
        with open(path, "rb") as fh:
            header = fh.read(100)
    except FileNotFoundError:
        return False
    except OSError as err:
        raise StoreError(f"cannot read {str(path)!r}: {err}; check its permissions.") from err
    if not header:
        return False  # an empty file (e.g. from tempfile) becomes a new store
    if not header.startswith(_SQLITE_MAGIC) or len(header) < 72:
        raise StoreMismatchError(
            f"{str(path)!r} is not an alwidgets session store (it is not an SQLite file); "
            "it was left untouched. Pass a new file name to start a session."
        )
    app_id = int.from_bytes(header[68:72], "big")
    if app_id != APPLICATION_ID:
        raise StoreMismatchError(
            f"{str(path)!r} is not an alwidgets session store (an SQLite database with "
            f"application_id {app_id:#x}, not {APPLICATION_ID:#x}); it was left untouched. "
            "Pass a new file name to start a session."
        )
    return True


def _read_meta(conn: sqlite3.Connection, path: Path) -> Meta:
    has_meta = conn.execute(
        "SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'meta'"
    ).fetchone()[0]
    rows = dict(conn.execute("SELECT key, value FROM meta").fetchall()) if has_meta else {}
    if rows.get("magic") != MAGIC:
        raise StoreMismatchError(
            f"{str(path)!r} is not an alwidgets session store (no alwidgets meta data); "
            "it was left untouched. Pass a new file name to start a session."
        )
    return meta_from(rows)


def meta_from(rows: dict[str, str]) -> Meta:
    """A :class:`Meta` from the rows of a ``meta`` table (SQLite or PostgreSQL)."""
    return Meta(
        session_id=rows["session_id"],
        classes=json.loads(rows["classes"]),
        created_at=rows["created_at"],
        schema_version=int(rows["schema_version"]),
        multi_label=rows.get("multi_label") == "true",
    )


def _initialise(conn: sqlite3.Connection, classes: list[Value] | None) -> None:
    # schema 4; ``open_store`` migrates it like any older file
    for statement in _statements(_DDL + _CURRENT_DDL + _V4_DDL):
        conn.execute(statement)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    conn.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?)",
        [
            ("magic", MAGIC),
            ("schema_version", str(CREATED_AT)),
            ("session_id", uuid.uuid4().hex),
            ("classes", json.dumps(classes)),
            ("created_at", now),
            ("created_by", f"alwidgets {__version__}"),
        ],
    )
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {CREATED_AT}")


def reconcile_kind(conn: Any, where: str, meta: Meta, multi_label: bool | None, new: bool) -> Meta:
    """Check (or, for a new session, set) the session kind; ``multi_label=None`` adopts it."""
    if multi_label is None or multi_label == meta.multi_label:
        return meta
    if new:
        if multi_label and meta.classes is None:
            raise InvalidInputError(
                "a multi-label session needs its classes: pass classes=[...] (each answer is "
                "a set of them)."
            )
        conn.execute(
            "UPDATE meta SET value = ? WHERE key = 'multi_label'",
            ("true" if multi_label else "false",),
        )
        return replace(meta, multi_label=multi_label)
    kind = "multi-label" if meta.multi_label else "single-label"
    raise StoreMismatchError(
        f"{where} is a {kind} session (multi_label={meta.multi_label}), opened with "
        f"multi_label={multi_label}; it was left untouched. Pass multi_label=None (or "
        f"{meta.multi_label}) to use it as it is, or start a new session for the other kind."
    )


def _reconcile_classes(
    conn: sqlite3.Connection, path: Path, meta: Meta, classes: list[Value] | None
) -> Meta:
    if classes is None or meta.classes == classes:
        return meta
    if meta.classes is None:
        used = [
            r[0] for r in conn.execute("SELECT DISTINCT label FROM events WHERE label IS NOT NULL")
        ]
        unknown = [label for label in used if label not in classes]
        if unknown:
            raise StoreMismatchError(
                f"{str(path)!r} already holds labels {unknown!r} that are not in classes "
                f"{classes!r}; add them to classes or use another file."
            )
        conn.execute("UPDATE meta SET value = ? WHERE key = 'classes'", (json.dumps(classes),))
        return replace(meta, classes=classes)
    if set(meta.classes) == set(classes) and len(meta.classes) == len(classes):
        return meta  # same classes in another order: the stored order is kept
    raise StoreMismatchError(
        f"{str(path)!r} belongs to a session with classes {meta.classes!r}, but classes "
        f"{classes!r} were passed; it was left untouched. Pass the same classes (or "
        "classes=None to use the stored ones), or choose a new file for a new session."
    )


def open_store(
    path: Path, classes: list[Value] | None, multi_label: bool | None = None
) -> tuple[sqlite3.Connection, Meta]:
    """Open (resume) or create the store at ``path``; validate before changing anything."""
    existed = _check_path(path)
    try:
        conn = connect(path)
    except sqlite3.Error as err:
        raise _diagnose(path, err) from err
    try:
        try:
            if not existed:
                # Creating: rollback journal first, so the header (application_id) is
                # in the main file from the first commit on; WAL is switched on below.
                conn.execute("BEGIN EXCLUSIVE")
            else:
                conn.execute("BEGIN IMMEDIATE")
            app_id = conn.execute("PRAGMA application_id").fetchone()[0]
            n_tables = conn.execute("SELECT count(*) FROM sqlite_master").fetchone()[0]
            new = not existed and app_id == 0 and n_tables == 0
            if new:
                _initialise(conn, classes)
            meta = _read_meta(conn, path)
            if meta.schema_version > SCHEMA_VERSION:
                raise StoreMismatchError(
                    f"{str(path)!r} uses session-store schema {meta.schema_version}, newer than "
                    f"this alwidgets {__version__} understands ({SCHEMA_VERSION}); it was left "
                    "untouched. Upgrade alwidgets: pip install -U alwidgets."
                )
            if meta.schema_version < SCHEMA_VERSION:
                migrate(conn, meta.schema_version, target=SCHEMA_VERSION, migrations=MIGRATIONS)
                meta = meta_from(dict(conn.execute("SELECT key, value FROM meta").fetchall()))
            meta = _reconcile_classes(conn, path, meta, classes)
            meta = reconcile_kind(conn, repr(str(path)), meta, multi_label, new)
            conn.execute("COMMIT")
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            raise
        mode = conn.execute("PRAGMA journal_mode = WAL").fetchone()[0]
        if mode != "wal":
            raise StoreError(
                f"cannot switch {str(path)!r} to WAL mode (got {mode!r}); store the session "
                "on a local file system."
            )
        conn.execute("PRAGMA synchronous = FULL")
    except sqlite3.DatabaseError as err:
        conn.close()
        if isinstance(err, sqlite3.OperationalError):
            raise _diagnose(path, err) from err
        raise StoreMismatchError(
            f"{str(path)!r} is not a readable alwidgets session store ({err}); it was left "
            "untouched. Pass a new file name to start a session."
        ) from err
    except BaseException:
        conn.close()
        if not existed and path.exists() and path.stat().st_size == 0:
            path.unlink()  # bad input for a new session leaves no file behind
        raise
    return conn, meta

"""The on-disk format of a session store: tables, identification, migrations.

A session store is an SQLite file in WAL mode. It identifies itself twice: the
SQLite header field ``application_id`` (readable from the raw bytes, so a
foreign file is recognised without opening it for writing) and a ``meta`` table
holding a magic string, the schema version, the session id, the classes and the
creation time. ``PRAGMA user_version`` mirrors the schema version.

The ``events`` and ``models`` tables are append-only: triggers abort any
``UPDATE`` or ``DELETE``. So event ids (rowids) only grow, in commit order, and
a reader catches up with ``WHERE id > last_seen``.

Schema 2 adds ``current``: for each item, the id of the event that sets its
current label and of the one that sets its state. It is derived data, like an
index: triggers on ``events`` keep it in step inside each writer's transaction,
and migration 1 -> 2 fills it from the log. Readers fetch one row per item
through it instead of scanning every event. Schema 3 widens ``current`` with
the fields the views show (label, annotator, time; the state's action), so a
first read needs no lookup into ``events``; migration 2 -> 3 rebuilds it from
the log. Schema 4 adds a client-made ``key`` to events and models (a write
retried after a lost reply cannot be recorded twice) and the ``claims`` table
(work routing: leases on items, mutable, not part of the log). An undo is a new event pointing at the event it reverts (``undoes``,
unique, so an event is undone at most once, even with several writers).

Examples
--------
>>> import os, tempfile
>>> from pathlib import Path
>>> tmp = tempfile.mkdtemp()
>>> conn, meta = open_store(Path(tmp) / "s.db", classes=["a", "b"])
>>> meta.classes, meta.schema_version == SCHEMA_VERSION
(['a', 'b'], True)
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
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from alwidgets._version import __version__
from alwidgets.exceptions import StoreError, StoreMismatchError
from alwidgets.store._codec import Value

__all__ = [
    "APPLICATION_ID",
    "BUSY_TIMEOUT_S",
    "MAGIC",
    "MIGRATIONS",
    "SCHEMA_VERSION",
    "Meta",
    "migrate",
    "open_store",
]

#: ``PRAGMA application_id`` of every session store: the bytes ``b"alwS"``.
APPLICATION_ID = int.from_bytes(b"alwS", "big")
#: Value of the ``magic`` row in the ``meta`` table.
MAGIC = "alwidgets-session-store"
#: Schema version written by this version of alwidgets.
SCHEMA_VERSION = 4

_SQLITE_MAGIC = b"SQLite format 3\x00"
#: How long a writer waits for another writer's lock before giving up.
BUSY_TIMEOUT_S = 30.0

_DDL = """
CREATE TABLE meta (
    key   TEXT PRIMARY KEY NOT NULL,
    value TEXT NOT NULL
) WITHOUT ROWID;

-- item_id, label and model_version have no declared type (BLOB affinity), so
-- SQLite keeps the type they were written with: 1 and '1' stay distinct.
CREATE TABLE events (
    id            INTEGER PRIMARY KEY,  -- no AUTOINCREMENT needed: rows are never deleted
    action        TEXT NOT NULL CHECK (action IN ('label', 'skip', 'unsure', 'undo')),
    item_id       NOT NULL CHECK (typeof(item_id) IN ('integer', 'text')),
    label         CHECK (label IS NULL OR typeof(label) IN ('integer', 'text')),
    annotator     TEXT NOT NULL,
    shown_at      REAL,
    answered_at   REAL NOT NULL,
    model_version CHECK (model_version IS NULL OR typeof(model_version) IN ('integer', 'text')),
    score         REAL,
    rank          INTEGER CHECK (rank IS NULL OR rank >= 0),
    strategy      TEXT,
    undoes        INTEGER REFERENCES events (id),
    CHECK ((action = 'undo') = (undoes IS NOT NULL)),
    CHECK (action != 'label' OR label IS NOT NULL)
);
CREATE UNIQUE INDEX events_undoes ON events (undoes) WHERE undoes IS NOT NULL;
CREATE INDEX events_annotator ON events (annotator, id);
CREATE INDEX events_item ON events (item_id, id);

CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'alwidgets session events are append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'alwidgets session events are append-only'); END;

CREATE TABLE models (
    id       INTEGER PRIMARY KEY,
    version  NOT NULL CHECK (typeof(version) IN ('integer', 'text')),
    n_labels INTEGER NOT NULL CHECK (n_labels >= 0),
    time     REAL NOT NULL,
    metrics  TEXT NOT NULL
);
CREATE TRIGGER models_append_only_update BEFORE UPDATE ON models
BEGIN SELECT RAISE(ABORT, 'alwidgets learning-curve points are append-only'); END;
CREATE TRIGGER models_append_only_delete BEFORE DELETE ON models
BEGIN SELECT RAISE(ABORT, 'alwidgets learning-curve points are append-only'); END;
"""

# Schema 2: ``current`` is a derived index of the log, like an SQL index: for each
# item, the event that sets its current label and the one that sets its state.
# Triggers keep it in step inside the writer's own transaction; it can always be
# rebuilt from ``events``, which stays the one source of truth.
# It lets a reader fetch one row per item instead of scanning the whole log.
# Kept verbatim: migration 1 -> 2 builds exactly this, and 2 -> 3 replaces it.
_CURRENT_DDL_V2 = """
CREATE TABLE current (
    item_id     NOT NULL PRIMARY KEY CHECK (typeof(item_id) IN ('integer', 'text')),
    label_event INTEGER REFERENCES events (id),
    state_event INTEGER NOT NULL REFERENCES events (id)
) WITHOUT ROWID;

CREATE TRIGGER current_after_label AFTER INSERT ON events WHEN NEW.action = 'label'
BEGIN
    INSERT INTO current (item_id, label_event, state_event)
    VALUES (NEW.item_id, NEW.id, NEW.id)
    ON CONFLICT (item_id) DO UPDATE
    SET label_event = excluded.label_event, state_event = excluded.state_event;
END;

CREATE TRIGGER current_after_answer AFTER INSERT ON events
WHEN NEW.action IN ('skip', 'unsure')
BEGIN
    INSERT INTO current (item_id, label_event, state_event)
    VALUES (NEW.item_id, NULL, NEW.id)
    ON CONFLICT (item_id) DO UPDATE SET state_event = excluded.state_event;
END;

CREATE TRIGGER current_after_undo AFTER INSERT ON events WHEN NEW.action = 'undo'
BEGIN
    DELETE FROM current WHERE item_id = NEW.item_id;
    INSERT INTO current (item_id, label_event, state_event)
    SELECT e.item_id,
           max(CASE WHEN e.action = 'label' THEN e.id END),
           max(e.id)
    FROM events AS e
    WHERE e.item_id = NEW.item_id AND e.action != 'undo'
      AND NOT EXISTS (SELECT 1 FROM events AS u WHERE u.undoes = e.id)
    GROUP BY e.item_id;
END;
"""

_CURRENT_FILL_V2 = """
INSERT INTO current (item_id, label_event, state_event)
SELECT e.item_id, max(CASE WHEN e.action = 'label' THEN e.id END), max(e.id)
FROM events AS e
WHERE e.action != 'undo' AND NOT EXISTS (SELECT 1 FROM events AS u WHERE u.undoes = e.id)
GROUP BY e.item_id
"""

_CURRENT_TRIGGERS = ("current_after_label", "current_after_answer", "current_after_undo")

# Schema 3: ``current`` also carries what the ``labels`` and ``state`` views show of
# those two events (label, annotator, answer time; the state's action and label), so
# a first read is one scan of ``current`` with no lookup into ``events``. Still
# derived data: the same triggers write it in the writer's transaction, and
# ``_CURRENT_FILL`` rebuilds it from the log.
_CURRENT_COLUMNS = """item_id, label_event, label, label_annotator, label_time,
    state_event, state_action, state_label, state_annotator, state_time"""

# The live (not undone, not an undo) events of the items in ``{where}``: the last
# label and the last action per item, with the fields the views show.
_CURRENT_SELECT = """
SELECT s.item_id, l.id, l.label, l.annotator, l.answered_at,
       s.id, s.action, s.label, s.annotator, s.answered_at
FROM (
    SELECT max(CASE WHEN e.action = 'label' THEN e.id END) AS label_event,
           max(e.id) AS state_event
    FROM events AS e
    WHERE {where} e.action != 'undo'
      AND NOT EXISTS (SELECT 1 FROM events AS u WHERE u.undoes = e.id)
    {group}
) AS m
JOIN events AS s ON s.id = m.state_event
LEFT JOIN events AS l ON l.id = m.label_event
"""

_CURRENT_DDL = f"""
CREATE TABLE current (
    item_id         NOT NULL PRIMARY KEY CHECK (typeof(item_id) IN ('integer', 'text')),
    label_event     INTEGER REFERENCES events (id),
    label,
    label_annotator TEXT,
    label_time      REAL,
    state_event     INTEGER NOT NULL REFERENCES events (id),
    state_action    TEXT NOT NULL,
    state_label,
    state_annotator TEXT NOT NULL,
    state_time      REAL NOT NULL
) WITHOUT ROWID;

CREATE TRIGGER current_after_label AFTER INSERT ON events WHEN NEW.action = 'label'
BEGIN
    INSERT INTO current ({_CURRENT_COLUMNS})
    VALUES (NEW.item_id, NEW.id, NEW.label, NEW.annotator, NEW.answered_at,
            NEW.id, NEW.action, NEW.label, NEW.annotator, NEW.answered_at)
    ON CONFLICT (item_id) DO UPDATE
    SET label_event = excluded.label_event, label = excluded.label,
        label_annotator = excluded.label_annotator, label_time = excluded.label_time,
        state_event = excluded.state_event, state_action = excluded.state_action,
        state_label = excluded.state_label, state_annotator = excluded.state_annotator,
        state_time = excluded.state_time;
END;

CREATE TRIGGER current_after_answer AFTER INSERT ON events
WHEN NEW.action IN ('skip', 'unsure')
BEGIN
    INSERT INTO current ({_CURRENT_COLUMNS})
    VALUES (NEW.item_id, NULL, NULL, NULL, NULL,
            NEW.id, NEW.action, NEW.label, NEW.annotator, NEW.answered_at)
    ON CONFLICT (item_id) DO UPDATE
    SET state_event = excluded.state_event, state_action = excluded.state_action,
        state_label = excluded.state_label, state_annotator = excluded.state_annotator,
        state_time = excluded.state_time;
END;

CREATE TRIGGER current_after_undo AFTER INSERT ON events WHEN NEW.action = 'undo'
BEGIN
    DELETE FROM current WHERE item_id = NEW.item_id;
    INSERT INTO current ({_CURRENT_COLUMNS})
    {_CURRENT_SELECT.format(where="e.item_id = NEW.item_id AND", group="")};
END;
"""

_CURRENT_FILL = f"""
INSERT INTO current ({_CURRENT_COLUMNS})
{_CURRENT_SELECT.format(where="", group="GROUP BY e.item_id")}
"""


# Schema 4: idempotency keys and claims (see ``_claims``). Claims are leases, not
# history: rows are replaced and deleted freely, so there is no trigger on them.
_V4_DDL = """
ALTER TABLE events ADD COLUMN key TEXT;
CREATE UNIQUE INDEX events_key ON events (key);
ALTER TABLE models ADD COLUMN key TEXT;
CREATE UNIQUE INDEX models_key ON models (key);
CREATE TABLE claims (
    item_id   NOT NULL CHECK (typeof(item_id) IN ('integer', 'text')),
    annotator TEXT NOT NULL,
    expires   REAL NOT NULL,
    PRIMARY KEY (item_id, annotator)
) WITHOUT ROWID;
CREATE INDEX claims_expires ON claims (expires);
"""


def _statements(script: str) -> list[str]:
    """Split an SQL script into complete statements (trigger bodies hold ``;`` too)."""
    out, buffer = [], ""
    for line in script.splitlines(keepends=True):
        buffer += line
        if sqlite3.complete_statement(buffer):
            out.append(buffer.strip())
            buffer = ""
    return [statement for statement in out if statement]


def _add_current(conn: sqlite3.Connection) -> None:
    """Migration 1 -> 2: add the (schema-2) ``current`` index of the log and fill it."""
    for statement in _statements(_CURRENT_DDL_V2):
        conn.execute(statement)
    conn.execute(_CURRENT_FILL_V2)


def _widen_current(conn: sqlite3.Connection) -> None:
    """Migration 2 -> 3: rebuild ``current`` from the log with the views' fields."""
    for trigger in _CURRENT_TRIGGERS:
        conn.execute(f"DROP TRIGGER {trigger}")
    conn.execute("DROP TABLE current")
    for statement in _statements(_CURRENT_DDL):
        conn.execute(statement)
    conn.execute(_CURRENT_FILL)


def _add_keys_and_claims(conn: sqlite3.Connection) -> None:
    """Migration 3 -> 4: idempotency keys on events and models, the ``claims`` table."""
    for statement in _statements(_V4_DDL):
        conn.execute(statement)


@dataclass(frozen=True)
class Meta:
    """What the ``meta`` table says about a session."""

    session_id: str
    classes: list[Value] | None
    created_at: str
    schema_version: int


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
    return Meta(
        session_id=rows["session_id"],
        classes=json.loads(rows["classes"]),
        created_at=rows["created_at"],
        schema_version=int(rows["schema_version"]),
    )


#: ``MIGRATIONS[v]`` upgrades a file from schema version ``v`` to ``v + 1``.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _add_current,
    2: _widen_current,
    3: _add_keys_and_claims,
}


def _initialise(conn: sqlite3.Connection, classes: list[Value] | None) -> None:
    for statement in _statements(_DDL + _CURRENT_DDL + _V4_DDL):
        conn.execute(statement)
    now = dt.datetime.now(dt.UTC).isoformat(timespec="microseconds")
    conn.executemany(
        "INSERT INTO meta (key, value) VALUES (?, ?)",
        [
            ("magic", MAGIC),
            ("schema_version", str(SCHEMA_VERSION)),
            ("session_id", uuid.uuid4().hex),
            ("classes", json.dumps(classes)),
            ("created_at", now),
            ("created_by", f"alwidgets {__version__}"),
        ],
    )
    conn.execute(f"PRAGMA application_id = {APPLICATION_ID}")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def migrate(
    conn: sqlite3.Connection,
    found: int,
    *,
    target: int = SCHEMA_VERSION,
    migrations: Mapping[int, Callable[[sqlite3.Connection], None]] = MIGRATIONS,
    user_version: bool = True,
) -> int:
    """Upgrade an open store from schema version ``found`` to ``target``.

    Runs inside the caller's transaction: SQLite DDL is transactional (PostgreSQL's
    too), so a failed migration leaves the session exactly as it was. A server
    session passes its own ``migrations`` and ``user_version=False``.

    Returns
    -------
    int
        The new schema version.
    """
    version = found
    while version < target:
        step = migrations.get(version)
        if step is None:
            raise StoreError(
                f"no migration from session-store schema {version} to {version + 1}; "
                "upgrade alwidgets."
            )
        step(conn)
        version += 1
        conn.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", (str(version),))
        if user_version:  # SQLite's header mirrors it (a server has no such field)
            conn.execute(f"PRAGMA user_version = {version}")
    return version


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
        return Meta(meta.session_id, classes, meta.created_at, meta.schema_version)
    if set(meta.classes) == set(classes) and len(meta.classes) == len(classes):
        return meta  # same classes in another order: the stored order is kept
    raise StoreMismatchError(
        f"{str(path)!r} belongs to a session with classes {meta.classes!r}, but classes "
        f"{classes!r} were passed; it was left untouched. Pass the same classes (or "
        "classes=None to use the stored ones), or choose a new file for a new session."
    )


def open_store(path: Path, classes: list[Value] | None) -> tuple[sqlite3.Connection, Meta]:
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
            if not existed and app_id == 0 and n_tables == 0:
                _initialise(conn, classes)
            meta = _read_meta(conn, path)
            if meta.schema_version > SCHEMA_VERSION:
                raise StoreMismatchError(
                    f"{str(path)!r} uses session-store schema {meta.schema_version}, newer than "
                    f"this alwidgets {__version__} understands ({SCHEMA_VERSION}); it was left "
                    "untouched. Upgrade alwidgets: pip install -U alwidgets."
                )
            if meta.schema_version < SCHEMA_VERSION:
                version = migrate(
                    conn, meta.schema_version, target=SCHEMA_VERSION, migrations=MIGRATIONS
                )
                meta = Meta(meta.session_id, meta.classes, meta.created_at, version)
            meta = _reconcile_classes(conn, path, meta, classes)
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
        raise
    return conn, meta

"""The tables of a session store, schema by schema, and the migrations between them.

Schema 1 (``_DDL``): ``meta`` and the append-only ``events`` and ``models``
(triggers abort any ``UPDATE`` or ``DELETE``). An undo is a new event pointing at
the event it reverts (``undoes``, unique, so an event is undone at most once, even
with several writers).

Schema 2 adds ``current``: for each item, the id of the event that sets its
current label and of the one that sets its state. It is derived data, like an
index: triggers on ``events`` keep it in step inside each writer's transaction,
and migration 1 -> 2 fills it from the log. Readers fetch one row per item
through it instead of scanning every event. Schema 3 widens ``current`` with
the fields the views show (label, annotator, time; the state's action), so a
first read needs no lookup into ``events``; migration 2 -> 3 rebuilds it from
the log. Schema 4 adds a client-made ``key`` to events and models (a write
retried after a lost reply cannot be recorded twice) and the ``claims`` table
(work routing: leases on items, mutable, not part of the log). Schema 5 adds the
``conflict`` action (an answer kept for the record, not a label: see ``_writes``) and
records the session kind (``multi_label`` in ``meta``; a multi-label answer is a JSON
array of classes); migration 4 -> 5 rebuilds ``events`` (SQLite cannot widen a CHECK
constraint in place) and the triggers that keep ``current``, which skip conflicts.

New files are created at schema 4 and migrated, so a new file and an upgraded one are
made by the same code.

The SQLite file's identification and opening are in :mod:`alwidgets.store._schema`;
PostgreSQL's tables (the same shape) in :mod:`alwidgets.store._pg_schema`.

Examples
--------
>>> import sqlite3
>>> conn = sqlite3.connect(":memory:", isolation_level=None)
>>> for statement in _statements(_DDL):
...     _ = conn.execute(statement)
>>> _ = conn.execute("INSERT INTO meta VALUES ('schema_version', '1')")
>>> migrate(conn, 1, user_version=False) == SCHEMA_VERSION
True
>>> sorted(r[0] for r in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'"))
['claims', 'current', 'events', 'meta', 'models']
>>> conn.execute("SELECT value FROM meta WHERE key = 'multi_label'").fetchone()
('false',)
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Mapping

from alwidgets.exceptions import StoreError

__all__ = ["ANSWERS", "CREATED_AT", "MIGRATIONS", "SCHEMA_VERSION", "migrate"]

#: Schema version written by this version of alwidgets.
SCHEMA_VERSION = 5
#: The schema a new session is created at; the migrations bring it to SCHEMA_VERSION.
CREATED_AT = 4
#: SQL: ``e`` is an answer that sets an item's state (not an undo, not a conflict).
ANSWERS = "e.action IN ('label', 'skip', 'unsure')"

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
    WHERE {where} {answers}
      AND NOT EXISTS (SELECT 1 FROM events AS u WHERE u.undoes = e.id)
    {group}
) AS m
JOIN events AS s ON s.id = m.state_event
LEFT JOIN events AS l ON l.id = m.label_event
"""

# schema 3 and 4: every event but an undo is an answer (schema 5 adds conflicts)
_ANSWERS_V3 = "e.action != 'undo'"

_CURRENT_TABLE = """
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
"""


def _current_triggers(answers: str) -> str:
    """The triggers that keep ``current`` (``answers``: which events set a state)."""
    select = _CURRENT_SELECT.format(where="e.item_id = NEW.item_id AND", answers=answers, group="")
    return f"""
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
    {select};
END;
"""


_CURRENT_DDL = _CURRENT_TABLE + _current_triggers(_ANSWERS_V3)

_CURRENT_FILL = f"""
INSERT INTO current ({_CURRENT_COLUMNS})
{_CURRENT_SELECT.format(where="", answers=_ANSWERS_V3, group="GROUP BY e.item_id")}
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

# Schema 5: the ``conflict`` action, and labels that may be JSON arrays (multi-label
# sessions; still 'text' to SQLite). ``events`` is rebuilt under its own name, as
# SQLite's documented way to change a table's constraints goes (foreign keys are off).
_EVENT_COLUMNS = """id, action, item_id, label, annotator, shown_at, answered_at,
    model_version, score, rank, strategy, undoes, key"""
_V5_EVENTS = f"""
CREATE TABLE events_v5 (
    id            INTEGER PRIMARY KEY,
    action        TEXT NOT NULL
                  CHECK (action IN ('label', 'skip', 'unsure', 'undo', 'conflict')),
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
    key           TEXT,
    CHECK ((action = 'undo') = (undoes IS NOT NULL)),
    CHECK (action NOT IN ('label', 'conflict') OR label IS NOT NULL)
);
INSERT INTO events_v5 ({_EVENT_COLUMNS}) SELECT {_EVENT_COLUMNS} FROM events ORDER BY id;
DROP TABLE events;
ALTER TABLE events_v5 RENAME TO events;
CREATE UNIQUE INDEX events_undoes ON events (undoes) WHERE undoes IS NOT NULL;
CREATE INDEX events_annotator ON events (annotator, id);
CREATE INDEX events_item ON events (item_id, id);
CREATE UNIQUE INDEX events_key ON events (key);
CREATE TRIGGER events_append_only_update BEFORE UPDATE ON events
BEGIN SELECT RAISE(ABORT, 'alwidgets session events are append-only'); END;
CREATE TRIGGER events_append_only_delete BEFORE DELETE ON events
BEGIN SELECT RAISE(ABORT, 'alwidgets session events are append-only'); END;
INSERT OR IGNORE INTO meta (key, value) VALUES ('multi_label', 'false');
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


def _add_conflicts_and_kinds(conn: sqlite3.Connection) -> None:
    """Migration 4 -> 5: the ``conflict`` action; a v4 session is single-label."""
    for statement in _statements(_V5_EVENTS + _current_triggers(ANSWERS)):
        conn.execute(statement)


#: ``MIGRATIONS[v]`` upgrades a file from schema version ``v`` to ``v + 1``.
MIGRATIONS: dict[int, Callable[[sqlite3.Connection], None]] = {
    1: _add_current,
    2: _widen_current,
    3: _add_keys_and_claims,
    4: _add_conflicts_and_kinds,
}


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

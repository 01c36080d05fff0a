"""Where a session lives: the one interface the store uses, and its SQLite backend.

:class:`~alwidgets.store.SessionStore` runs every read and write as a function
of a connection through :meth:`Backend.run`; the backend decides what a write
transaction is (SQLite: ``BEGIN IMMEDIATE`` on the file's one write lock;
PostgreSQL: a transaction holding the session's advisory lock, retried after a
lost connection, see ``_pg``). All SQL the store shares between the backends is
written with ``?`` placeholders; values that are item ids, labels or model
versions pass through :meth:`Backend.value` (PostgreSQL stores them as
``jsonb`` so ``1`` and ``"1"`` stay distinct, as SQLite's type tags do; a
multi-label answer, a tuple of classes, is a JSON array on both).

An answer is written by :meth:`Backend.record` in one write transaction: the
claim check of ``label(..., overlap=k)`` (a label on an item that ``k`` other
annotators labeled already is recorded as a ``conflict`` event), the insert, the
renewal of the writer's live leases, and the deletion of other annotators' leases
on an item the label fills. PostgreSQL runs all of it as one statement (data-
modifying CTEs), sent with BEGIN, the lock and COMMIT in one round trip.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> tmp = tempfile.TemporaryDirectory()
>>> backend = SQLiteBackend(Path(tmp.name) / "s.db", ["a", "b"], None)
>>> backend.run(lambda conn: conn.execute("SELECT count(*) FROM events").fetchone()[0])
0
>>> backend.location.endswith("s.db"), backend.meta.classes
(True, ['a', 'b'])
>>> backend.close(); tmp.cleanup()
"""

from __future__ import annotations

import json
import os
import sqlite3
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, NamedTuple, TypeVar

from alwidgets.exceptions import StoreError, StoreMismatchError
from alwidgets.store._codec import Value
from alwidgets.store._schema import BUSY_TIMEOUT_S, Meta, open_store

__all__ = ["Backend", "Recorded", "SQLiteBackend", "Write", "after_insert"]

T = TypeVar("T")

NOT_UNDONE = "NOT EXISTS (SELECT 1 FROM events AS u WHERE u.undoes = e.id)"
# ``key`` is made by the client: a retry after a lost COMMIT reply finds its row.
INSERT_SQL = """
INSERT INTO events (action, item_id, label, annotator, shown_at, answered_at,
                    model_version, score, rank, strategy, undoes, key)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (key) DO NOTHING RETURNING id
"""
KEYED_SQL = "SELECT id, action FROM events WHERE key = ?"
#: The other annotators with a live label on an item (the claim check of a label).
OTHERS_SQL = f"""SELECT DISTINCT e.annotator FROM events AS e
WHERE e.item_id = ? AND e.action = 'label' AND e.annotator != ? AND {NOT_UNDONE}
ORDER BY e.annotator"""
#: A write renews its writer's live leases (``{now}``: the backend's lease clock).
RENEW_SQL = "UPDATE claims SET expires = {now} + ? WHERE annotator = ? AND expires > {now}"
#: A label that fills an item (``k`` annotators' live labels) ends the others' leases on it.
FILL_SQL = f"""DELETE FROM claims WHERE item_id = ? AND annotator != ?
  AND (SELECT count(DISTINCT e.annotator) FROM events AS e
       WHERE e.item_id = ? AND e.action = 'label' AND {NOT_UNDONE}) >= ?"""


@dataclass(frozen=True)
class Write:
    """One answer to record, its values encoded for the backend (see ``_writes``)."""

    #: ``(action, item_id, label, annotator, shown_at, answered_at, model_version,
    #: score, rank, strategy)``
    row: tuple[Any, ...]
    #: The idempotency key.
    key: str
    #: A label with a claim check: ``conflict`` when this many others labeled it.
    overlap: int | None = None
    #: Renew the writer's live leases by this many seconds (``None``: no statement).
    lease: float | None = None


class Recorded(NamedTuple):
    """What :meth:`Backend.record` wrote: the event id, its action, and (for a
    ``conflict``) the other annotators whose labels were there first."""

    event_id: int
    action: str
    others: tuple[str, ...]


def after_insert(conn: Any, write: Write, now: str, at: list[float]) -> None:
    """The lease statements that follow an answer's insert in its transaction (``now``:
    SQL of the lease clock, with the parameters ``at``)."""
    item, who = write.row[1], write.row[3]
    if write.lease is not None:
        conn.execute(RENEW_SQL.format(now=now), [*at, write.lease, who, *at])
    if write.overlap is not None:
        conn.execute(FILL_SQL, [item, who, item, write.overlap])


class Backend:
    """What a session store needs from its database (see the module docstring)."""

    #: Masked, printable place of the session (a path, or a URL without password).
    location: str
    meta: Meta
    #: Name of the session (a file's stem; a PostgreSQL session's name).
    session: str
    #: Whether the database is a server (round trips cost: batch the queries).
    server: bool = False

    def run(self, fn: Callable[[Any], T], *, write: bool = False) -> T:  # pragma: no cover
        """Call ``fn(connection)``; for ``write=True`` inside a committed transaction."""
        raise NotImplementedError

    def insert(self, sql: str, params: Any, table: str, key: str) -> int:
        """Run one ``INSERT ... ON CONFLICT (key) DO NOTHING RETURNING id`` as a write
        transaction; the new row's id, or the id of the row an earlier attempt with the
        same ``key`` wrote (its reply lost)."""

        def write(conn: Any) -> int:
            row = conn.execute(sql, params).fetchone()
            if row is None:
                row = conn.execute(f"SELECT id FROM {table} WHERE key = ?", (key,)).fetchone()
            return int(row[0])

        return self.run(write, write=True)

    def record(self, write: Write) -> Recorded:
        """Record one answer (see the module docstring); durable when this returns."""

        def work(conn: Any) -> Recorded:
            action, others = write.row[0], ()
            if write.overlap is not None:
                rows = conn.execute(OTHERS_SQL, (write.row[1], write.row[3])).fetchall()
                others = tuple(r[0] for r in rows)
                action = "conflict" if len(others) >= write.overlap else action
            params = (action, *write.row[1:], None, write.key)
            row = conn.execute(INSERT_SQL, params).fetchone()
            if row is None:  # an earlier attempt with this key wrote it (and its leases)
                found = conn.execute(KEYED_SQL, (write.key,)).fetchone()
                return Recorded(int(found[0]), str(found[1]), others)
            after_insert(conn, write, "?", [self.now(conn)])
            return Recorded(int(row[0]), action, others)

        return self.run(work, write=True)

    def value(self, value: Value | tuple[Value, ...] | None) -> Any:
        """An item id / label / model version as a query parameter (a multi-label
        answer, a tuple of classes, as JSON array text)."""
        if isinstance(value, tuple):
            return json.dumps(list(value), separators=(",", ":"))
        return value

    def in_list(self, column: str, values: list[Value]) -> tuple[str, list[Any]]:
        """SQL testing ``column`` against ``values`` (not empty), and its parameters."""
        return f"{column} IN ({', '.join('?' * len(values))})", list(values)

    def now(self, conn: Any) -> float:
        """The clock leases are measured with (epoch seconds)."""
        return time.time()

    def reset_ids(self, conn: Any) -> None:
        """After rows were inserted with explicit ids: continue numbering after them."""

    def close(self) -> None:  # pragma: no cover
        """Release the connection; safe to call twice."""
        raise NotImplementedError

    @property
    def closed(self) -> bool:  # pragma: no cover
        """Whether :meth:`close` was called."""
        raise NotImplementedError


def _is_busy(err: sqlite3.OperationalError) -> bool:
    return "locked" in str(err) or "busy" in str(err)


def _begin_immediate(conn: sqlite3.Connection) -> None:
    """Take the write lock, polling every few ms while another writer holds it.

    SQLite's own busy handler sleeps up to 100 ms between tries, which showed as
    80 ms p99 writes with two notebooks on one file; polling with short, growing
    sleeps (0.2 ms to 5 ms) keeps the wait close to the other writer's commit.
    The connection's busy timeout (for reads) is restored afterwards.
    """
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        deadline: float | None = None
        delay = 0.0002
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as err:
                if not _is_busy(err):
                    raise
                now = time.monotonic()
                if deadline is None:
                    deadline = now + BUSY_TIMEOUT_S
                elif now > deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.005)
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")


class SQLiteBackend(Backend):
    """A session in one SQLite file (WAL journal, ``synchronous=FULL``).

    One connection per store, guarded by a lock so a background thread may use
    the same store; a forked child process opens its own connection on first use.
    """

    def __init__(
        self,
        path: Path,
        classes: list[Value] | None,
        session: str | None,
        multi_label: bool | None = None,
    ) -> None:
        self.path = path
        self.location = str(path)
        self.session = path.stem
        if session is not None and session != self.session:
            raise StoreMismatchError(
                f"the file {str(path)!r} holds the session {self.session!r}, not {session!r} "
                "(an SQLite file is one session, named after the file); pass "
                f"session={self.session!r} or None, or the file of that session."
            )
        self._lock = threading.RLock()
        conn, self.meta = open_store(path, classes, multi_label)
        self._conn: sqlite3.Connection | None = conn
        self._pid = os.getpid()
        self._inherited: list[sqlite3.Connection] = []

    def run(self, fn: Callable[[Any], T], *, write: bool = False) -> T:
        with self._lock:
            if self._conn is None:
                raise StoreError(
                    f"the session store {self.location!r} is closed; open it again with "
                    "SessionStore(path)."
                )
            if self._pid != os.getpid():
                # a forked child must not use (or close) the parent's SQLite connection
                self._inherited.append(self._conn)
                self._conn, _ = open_store(self.path, None)
                self._pid = os.getpid()
            conn = self._conn
            try:
                if not write:
                    return fn(conn)
                _begin_immediate(conn)
                try:
                    out = fn(conn)
                    conn.execute("COMMIT")
                except BaseException:
                    if conn.in_transaction:
                        conn.execute("ROLLBACK")
                    raise
                return out
            except sqlite3.DatabaseError as err:
                raise self._error(err) from err

    def _error(self, err: sqlite3.DatabaseError) -> StoreError:
        where = f"the session store {self.location!r}"
        text = str(err)
        if "locked" in text or "busy" in text:
            return StoreError(
                f"{where} stayed locked by another process for {BUSY_TIMEOUT_S:.0f} s ({text}); "
                "retry, or check for a writer that hangs inside a transaction."
            )
        if isinstance(err, sqlite3.OperationalError):
            return StoreError(
                f"cannot write {where} ({text}); check that the disk is not full and that the "
                "file and its directory are writable."
            )
        return StoreError(
            f"{where} looks damaged ({text}); run `sqlite3 FILE 'PRAGMA integrity_check'`, or "
            "restore it from an export."
        )

    @property
    def closed(self) -> bool:
        return self._conn is None

    def close(self) -> None:
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None

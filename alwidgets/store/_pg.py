"""The PostgreSQL backend: a session in a schema of a server database (psycopg 3).

Writes take the session's transaction-level advisory lock first, so they are
serialised per session like SQLite's ``BEGIN IMMEDIATE``: event ids are then
given out in commit order, which the incremental views and ``changes_since``
rely on (``WHERE id > last_seen`` never misses a row committed late), and a
claim sees every other claim. Several sessions in one database do not wait for
each other.

Lost connections: a call whose outcome is unknown — the link failed before the
reply came, whether in pipeline mode, at COMMIT or elsewhere (a broken or bad
connection, a client-side failure with no SQLSTATE, a connection-exception
``08xxx`` or operator-intervention ``57Pxx`` state) — reconnects and retries for
up to :data:`RETRY_S` seconds, then raises ``StoreError("store unreachable:
...")``; the next call reconnects by itself. It is never reported as a query or
permission error: those are the errors the server itself answered with. Every
insert carries a client-made key (``events.key`` is unique), so a retry after a
COMMIT whose reply was lost finds the row instead of writing it twice.

The password never appears in a repr, an error or a log line: see :func:`mask`.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any, TypeVar, cast

from alwidgets.exceptions import InvalidInputError, StoreError, require
from alwidgets.store import _pg_schema, _schema
from alwidgets.store._backend import (
    INSERT_SQL,
    KEYED_SQL,
    OTHERS_SQL,
    Backend,
    Recorded,
    Write,
)
from alwidgets.store._codec import Value

__all__ = ["RETRY_S", "PostgresBackend", "is_url", "mask"]

T = TypeVar("T")

#: How long a call keeps retrying while the server is unreachable (seconds).
RETRY_S = 5.0
_URL_RE = re.compile(r"^postgres(ql)?://", re.IGNORECASE)


def is_url(target: object) -> bool:
    """Whether ``target`` names a PostgreSQL server (``postgresql://...``)."""
    return isinstance(target, str) and bool(_URL_RE.match(target))


def mask(text: str, password: str | None = None) -> str:
    """``text`` with any password (in a URL, a ``password=`` field, or given) as ``***``.

    Examples
    --------
    >>> mask("postgresql://ana:s3cret@db:5432/lab")
    'postgresql://ana:***@db:5432/lab'
    >>> mask("postgresql://db/lab?password=s3cret&sslmode=require")
    'postgresql://db/lab?password=***&sslmode=require'
    """
    out = re.sub(r"(://[^:/@?#]*:)[^@/?#]*@", r"\1***@", text)
    out = re.sub(r"(password\s*=\s*)('[^']*'|[^&\s]+)", r"\1***", out, flags=re.IGNORECASE)
    if password:
        out = out.replace(password, "***")
    return out


class _Conn:
    """A psycopg connection that takes the store's ``?`` placeholders."""

    def __init__(self, conn: Any) -> None:
        self.raw = conn

    def execute(self, query: str, params: Any = None) -> Any:
        if params:
            return self.raw.execute(query.replace("?", "%s"), params)
        return self.raw.execute(query)

    def executemany(self, query: str, rows: Any) -> None:
        with self.raw.cursor() as cur:
            cur.executemany(query.replace("?", "%s"), rows)


class PostgresBackend(Backend):
    """A session in the schema ``alw_<session>`` of the database at ``url``."""

    server = True

    def __init__(
        self,
        url: str,
        classes: list[Value] | None,
        session: str | None,
        multi_label: bool | None = None,
    ) -> None:
        psycopg = cast(Any, require("psycopg", "postgres", "PostgreSQL session stores"))
        self._psycopg = psycopg
        self.location = mask(url)
        try:
            params = psycopg.conninfo.conninfo_to_dict(url)
        except psycopg.Error as err:
            raise InvalidInputError(
                f"{self.location!r} is not a valid PostgreSQL URL ({mask(str(err))}); use "
                "postgresql://user@host:5432/database."
            ) from None
        self._password = params.get("password")
        self._user = params.get("user") or os.environ.get("PGUSER")
        if session is None:
            raise InvalidInputError(
                f"a PostgreSQL store needs a session name: SessionStore({self.location!r}, "
                "session='reviews-v1', ...)."
            )
        self.session = session
        self.schema = _pg_schema.schema_name(session)
        digest = hashlib.blake2b(f"alwidgets:{self.schema}".encode(), digest_size=8).digest()
        self._lock_key = int.from_bytes(digest, "big", signed=True)
        self._where = f"the session {session!r} in {self.location!r}"
        self._url = url
        self._lock = threading.RLock()
        self._conn: Any = None
        self._pid = os.getpid()
        self._inherited: list[Any] = []
        self._closed = False
        self._connect(first=True)
        self.meta = self.run(lambda conn: self._open(conn, classes, multi_label), write=True)

    # --------------------------------------------------------------- connecting
    def _connect(self, *, first: bool = False) -> Any:
        psycopg = self._psycopg
        try:
            conn = psycopg.connect(self._url, autocommit=True, connect_timeout=5)
        except psycopg.Error as err:
            raise self._connect_error(err) from None
        conn.execute(
            psycopg.sql.SQL("SET search_path TO {}").format(psycopg.sql.Identifier(self.schema))
        )
        self._conn = conn
        return conn

    def _connect_error(self, err: Exception) -> StoreError | InvalidInputError:
        text = mask(str(err), self._password).strip()
        if "connection option" in text or "invalid URI" in text:
            return InvalidInputError(
                f"{self.location!r} is not a valid PostgreSQL URL ({text}); use "
                "postgresql://user@host:5432/database."
            )
        who = f"user {self._user!r}" if self._user else "the user"
        if "password authentication failed" in text:
            return StoreError(
                f"the server at {self.location!r} refused the password for {who} ({text}); check "
                "the password (in the URL, PGPASSWORD or ~/.pgpass)."
            )
        if "no password supplied" in text:
            return StoreError(
                f"the server at {self.location!r} asks a password for {who} and none was given; "
                "put it in PGPASSWORD or ~/.pgpass (or the URL)."
            )
        if "does not exist" in text and "database" in text:
            return StoreError(
                f"cannot open {self.location!r}: {text}; create the database (createdb) or fix "
                "its name in the URL."
            )
        return StoreError(
            f"store unreachable: cannot connect to {self.location!r} ({text}); check that the "
            "server runs and that host and port in the URL are right."
        )

    def _open(
        self, conn: Any, classes: list[Value] | None, multi_label: bool | None
    ) -> _schema.Meta:
        meta = _pg_schema.read_meta(conn, self._where)
        new = meta is None
        if meta is None:
            _pg_schema.create_session(conn.raw, self.schema, classes)
            meta = _pg_schema.read_meta(conn, self._where)
            assert meta is not None
        meta = _pg_schema.upgrade(conn, meta, self._where)
        meta = _schema._reconcile_classes(conn, cast(Any, self._where), meta, classes)
        return _schema.reconcile_kind(conn, self._where, meta, multi_label, new)

    # ------------------------------------------------------------------ running
    def run(self, fn: Callable[[Any], T], *, write: bool = False) -> T:
        psycopg = self._psycopg
        with self._lock:
            if self._closed:
                raise StoreError(
                    f"the session store {self.location!r} is closed; open it again with "
                    "SessionStore(url, session=...)."
                )
            deadline = time.monotonic() + RETRY_S
            delay = 0.05
            while True:
                try:
                    return self._attempt(fn, write)
                except psycopg.Error as err:
                    if not self._link_lost(err):
                        raise self._error(err) from None  # the server's answer: a query error
                    why = mask(str(err), self._password).strip()
                except StoreError as err:  # (re)connecting failed
                    if not str(err).startswith("store unreachable"):
                        raise
                    why = str(err).removeprefix("store unreachable: ")
                self._drop()  # the outcome is unknown: retry (same key) on a new link
                left = deadline - time.monotonic()
                if left <= 0:
                    raise StoreError(
                        f"store unreachable: {self.location!r} did not answer for "
                        f"{RETRY_S:.0f} s ({why}); the action may not be saved: call it again "
                        "(a repeated call is recorded at most once). The store reconnects by "
                        "itself."
                    ) from None
                time.sleep(min(delay, left))  # the last try is at the deadline
                delay = min(delay * 2, 0.5)

    def _link_lost(self, err: Exception) -> bool:
        """Whether ``err`` says the link failed (the outcome of the call is unknown: it may
        have committed), not that the server refused the query."""
        psycopg, conn = self._psycopg, self._conn
        if conn is None or conn.closed or conn.broken:
            return True
        if conn.pgconn.status != psycopg.pq.ConnStatus.OK:
            return True
        if not isinstance(err, psycopg.OperationalError | psycopg.InterfaceError):
            return False
        state = getattr(err, "sqlstate", None)
        # no SQLSTATE: the client failed (e.g. "cannot exit pipeline mode while busy");
        # 08: connection exception; 57P: the server shuts down or restarts
        return state is None or state.startswith(("08", "57P"))

    def _attempt(self, fn: Callable[[Any], T], write: bool) -> T:
        if self._pid != os.getpid():
            # a forked child must not use (or close) the parent's connection
            self._inherited.append(self._conn)
            self._conn, self._pid = None, os.getpid()
        conn = self._conn if self._conn is not None else self._connect()
        wrapped = _Conn(conn)
        if not write:
            return fn(wrapped)
        # BEGIN and the session's write lock in one round trip (no parameters: one
        # simple-protocol message); a write then costs what a plain INSERT + COMMIT does
        conn.execute(f"BEGIN; SELECT pg_advisory_xact_lock({self._lock_key})")
        with self._rollback_on_error(conn):
            out = fn(wrapped)
            conn.execute("COMMIT")
        return out

    @contextlib.contextmanager
    def _rollback_on_error(self, conn: Any) -> Iterator[None]:
        """Roll a failed write transaction back (when the link still stands), re-raise."""
        try:
            yield
        except BaseException:
            if not conn.broken and not conn.closed:
                with contextlib.suppress(self._psycopg.Error):
                    conn.execute("ROLLBACK")
            raise

    def _pipeline(self, raw: Any, statements: list[tuple[str, Any]]) -> list[Any]:
        """Run ``statements`` in one round trip (pipeline mode, inside a write transaction
        that ``statements`` open and commit); their cursors. A failure is raised as is
        (psycopg would log "error ignored terminating" when the link failed mid-way)."""
        psycopg = self._psycopg
        failed: Exception | None = None
        cursors: list[Any] = []
        with self._rollback_on_error(raw):
            try:
                with raw.pipeline():
                    try:
                        for query, params in statements:
                            cursors.append(raw.execute(query.replace("?", "%s"), params))
                    except psycopg.Error as err:
                        failed = err  # leave the block cleanly: the exit raises (or not)
            except psycopg.Error as err:
                raise failed or err from None
            if failed is not None:
                raise failed
        return cursors

    def _locked(self, statements: list[tuple[str, Any]]) -> list[tuple[str, Any]]:
        lock = f"SELECT pg_advisory_xact_lock({self._lock_key})"
        return [("BEGIN", None), (lock, None), *statements, ("COMMIT", None)]

    def insert(self, sql: str, params: Any, table: str, key: str) -> int:
        # BEGIN, the session's lock, the INSERT and the COMMIT in one round trip
        # (pipeline mode): a write costs one exchange with the server, not three

        def write(conn: Any) -> int:
            cursor = self._pipeline(conn.raw, self._locked([(sql, params)]))[2]
            row = cursor.fetchone()
            if row is None:  # an earlier attempt wrote it; its reply was lost
                row = conn.execute(f"SELECT id FROM {table} WHERE key = ?", (key,)).fetchone()
            return int(row[0])

        return self.run(write)

    def record(self, write: Write) -> Recorded:
        # BEGIN, the session's lock, the answer (with its claim check and lease
        # statements, in one statement) and the COMMIT: one round trip
        def work(conn: Any) -> Recorded:
            if write.overlap is None and write.lease is None:  # a lone labeler's write
                insert: tuple[str, Any] = (INSERT_SQL, (*write.row, None, write.key))
            else:
                names = ("action", "item", "label", "who", "shown", "answered", "version")
                params = dict(zip(names, write.row[:7], strict=True))
                params.update(score=write.row[7], rank=write.row[8], strategy=write.row[9])
                params.update(key=write.key, overlap=write.overlap, lease=write.lease)
                sql = _pg_schema.RECORD_SQL[(write.overlap is not None, write.lease is not None)]
                insert = (sql, params)
            cursor = self._pipeline(conn.raw, self._locked([insert]))[2]
            row = cursor.fetchone()
            if row is None:  # an earlier attempt with this key wrote it; its reply was lost
                found = conn.execute(KEYED_SQL, (write.key,)).fetchone()
                others: tuple[str, ...] = ()
                if found[1] == "conflict":
                    rows = conn.execute(OTHERS_SQL, (write.row[1], write.row[3])).fetchall()
                    others = tuple(r[0] for r in rows)
                return Recorded(int(found[0]), str(found[1]), others)
            if len(row) == 1:  # the plain INSERT
                return Recorded(int(row[0]), str(write.row[0]), ())
            return Recorded(int(row[0]), str(row[1]), tuple(row[2] or ()))

        return self.run(work)

    def _drop(self) -> None:
        if self._conn is not None:
            with contextlib.suppress(Exception):  # the link may be gone already
                self._conn.close()
            self._conn = None

    def _error(self, err: Exception) -> StoreError:
        return StoreError(
            f"{self._where} failed: {mask(str(err), self._password).strip()}; check the "
            "server log, and that your role may read and write the session."
        )

    # ------------------------------------------------------------------ helpers
    def value(self, value: Value | tuple[Value, ...] | None) -> Any:
        if isinstance(value, tuple):
            value = list(value)  # type: ignore[assignment]
        return None if value is None else self._psycopg.types.json.Jsonb(value)

    def in_list(self, column: str, values: list[Value]) -> tuple[str, list[Any]]:
        # one array parameter instead of one parameter per value
        return f"{column} = ANY(?::jsonb[])", [[self.value(v) for v in values]]

    def now(self, conn: Any) -> float:
        return float(conn.execute("SELECT extract(epoch FROM clock_timestamp())").fetchone()[0])

    def reset_ids(self, conn: Any) -> None:
        for table in ("events", "models"):
            conn.execute(
                f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), max(id)) FROM {table} "
                "HAVING count(*) > 0"
            )

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self._lock:
            self._closed = True
            if self._pid == os.getpid():
                self._drop()
            self._conn = None

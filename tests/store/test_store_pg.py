"""The PostgreSQL backend against the real test server: what only a server has.

Guarantees enforced by the database, credentials never shown, bad URLs and
foreign schemas, sessions kept apart, a least-privilege role, and a server that
restarts or stops under the writers.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from helpers import skip_or_fail_in_ci
from store_helpers import check_team, database_url, drop_session, finish_team, team_env

from alwidgets.exceptions import InvalidInputError, StoreError, StoreMismatchError
from alwidgets.store import SessionStore, _keys, _pg, _pg_schema

SCRIPT = Path(__file__).parents[2] / "scripts" / "pg_cluster.py"


@pytest.fixture
def url() -> str:
    return database_url()


@pytest.fixture
def session() -> Iterator[str]:
    name = f"p{uuid.uuid4().hex[:16]}"
    yield name
    drop_session(name)


def _raw(url: str) -> Any:
    import psycopg

    return psycopg.connect(url, autocommit=True)


def _cluster(command: str) -> None:
    data = os.environ.get("ALW_PGDATA")
    if not data:
        reason = "needs ALW_PGDATA (the test server's data directory) to restart it"
        skip_or_fail_in_ci(reason)
    subprocess.run([sys.executable, str(SCRIPT), command, data], check=True, timeout=120)


def _password(url: str) -> str:
    import psycopg

    return str(psycopg.conninfo.conninfo_to_dict(url)["password"])


def test_events_are_append_only_in_the_database(url: str, session: str) -> None:
    import psycopg

    with SessionStore(url, session=session, annotator="ann") as store:
        event_id = store.label(1, "x")
        store.log_model(1, 1)
    with _raw(url) as conn:  # another connection sees what was acknowledged
        conn.execute(f'SET search_path TO "alw_{session}"')
        row = conn.execute("SELECT action, item_id, label FROM events WHERE id = %s", (event_id,))
        assert row.fetchone() == ("label", 1, "x")
        for sql in (
            "UPDATE events SET label = '\"y\"'",
            "DELETE FROM events",
            "TRUNCATE events CASCADE",
            "UPDATE models SET n_labels = 2",
            "DELETE FROM models",
        ):
            with pytest.raises(psycopg.Error, match="append-only"):
                conn.execute(sql)
        with pytest.raises(psycopg.errors.UniqueViolation):  # an event is undone at most once
            for _ in range(2):
                conn.execute(
                    "INSERT INTO events (action, item_id, annotator, answered_at, undoes) "
                    "VALUES ('undo', '1', 'ann', 0, %s)",
                    (event_id,),
                )


def test_a_retried_write_is_not_recorded_twice(
    url: str, session: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A retry after a lost COMMIT reply sends the same key: the row is found, not doubled."""
    with SessionStore(url, session=session, annotator="ann") as store:
        key = uuid.uuid4()
        monkeypatch.setattr(_keys.uuid, "uuid4", lambda: key)
        first = store.label(1, "x")
        assert store.label(1, "x") == first
        assert store.log_model(1, 5) == store.log_model(1, 5)
        assert len(store) == 1 and len(store.models) == 1


def test_password_is_masked_everywhere(url: str, session: str) -> None:
    secret = _password(url)
    with SessionStore(url, session=session) as store:
        assert secret not in repr(store) and "***" in repr(store)
        assert secret not in store.location
    wrong = url.replace(f":{secret}@", ":not-the-password@")
    with pytest.raises(StoreError, match="refused the password for user 'alw'") as info:
        SessionStore(wrong, session=session)
    assert "not-the-password" not in str(info.value) and secret not in str(info.value)
    assert _pg.mask("postgresql://u:p%40ss@h/db") == "postgresql://u:***@h/db"


def test_a_password_from_the_environment_is_used(
    url: str, session: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    secret = _password(url)
    monkeypatch.setenv("PGPASSWORD", secret)
    with SessionStore(url.replace(f":{secret}@", "@"), session=session) as store:
        store.label(1, "x")
        assert "***" not in repr(store) and secret not in repr(store)


def test_a_password_from_a_pgpass_file_is_used(
    url: str, session: str, monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    import psycopg

    secret = _password(url)
    info = psycopg.conninfo.conninfo_to_dict(url)
    pgpass = tmp_path / "pgpass"
    pgpass.write_text(f"{info['host']}:{info['port']}:*:{info['user']}:{secret}\n")
    pgpass.chmod(0o600)
    monkeypatch.setenv("PGPASSFILE", str(pgpass))
    monkeypatch.delenv("PGPASSWORD", raising=False)
    with SessionStore(url.replace(f":{secret}@", "@"), session=session) as store:
        assert store.label(1, "x") == 1


@pytest.mark.parametrize(
    ("change", "error", "match"),
    [
        (lambda u: u.rsplit(":", 1)[0] + ":1/alw", StoreError, "store unreachable: cannot"),
        (lambda u: u.rsplit("/", 1)[0] + "/nodb", StoreError, "create the database"),
        (lambda u: u.rsplit(":", 1)[0] + ":port/alw", InvalidInputError, "not a valid"),
    ],
    ids=["nothing-listens", "no-database", "malformed"],
)
def test_a_wrong_url_is_a_clear_error(
    url: str, change: Callable[[str], str], error: type, match: str
) -> None:
    t0 = time.monotonic()
    with pytest.raises(error, match=match) as info:
        SessionStore(change(url), session="s")
    assert _password(url) not in str(info.value)
    assert time.monotonic() - t0 < 10


def test_session_names_are_checked(url: str, tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="needs a session name"):
        SessionStore(url)
    with pytest.raises(InvalidInputError, match="not a valid session name"):
        SessionStore(url, session='x"; DROP TABLE events; --')
    SessionStore(tmp_path / "reviews.db", session="reviews").close()
    with pytest.raises(StoreMismatchError, match="holds the session 'reviews', not 'other'"):
        SessionStore(tmp_path / "reviews.db", session="other")


def test_a_schema_of_something_else_is_refused_and_untouched(url: str, session: str) -> None:
    with _raw(url) as conn:
        conn.execute(f'CREATE SCHEMA "alw_{session}"')
        conn.execute(f'CREATE TABLE "alw_{session}".things (x int)')
    with pytest.raises(StoreMismatchError, match="not an alwidgets session"):
        SessionStore(url, session=session)
    with _raw(url) as conn:
        tables = conn.execute(
            "SELECT table_name FROM information_schema.tables WHERE table_schema = %s",
            (f"alw_{session}",),
        ).fetchall()
    assert tables == [("things",)]


def test_a_newer_schema_is_refused_and_untouched(url: str, session: str) -> None:
    SessionStore(url, session=session).close()
    with _raw(url) as conn:
        conn.execute(f"UPDATE \"alw_{session}\".meta SET value = '99' WHERE key = 'schema_version'")
    with pytest.raises(StoreMismatchError, match="schema 99, newer than this alwidgets"):
        SessionStore(url, session=session)
    with _raw(url) as conn:
        version = conn.execute(
            f"SELECT value FROM \"alw_{session}\".meta WHERE key = 'schema_version'"
        ).fetchone()
    assert version == ("99",)


def test_an_older_schema_is_migrated(
    url: str, session: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from alwidgets.store import _schema

    SessionStore(url, session=session).close()
    version = _schema.SCHEMA_VERSION

    def add_note(conn: Any) -> None:
        conn.execute("ALTER TABLE events ADD COLUMN note text")

    monkeypatch.setattr(_schema, "SCHEMA_VERSION", version + 1)
    monkeypatch.setattr(_pg_schema, "MIGRATIONS", {version: add_note})
    with SessionStore(url, session=session) as store:
        assert store.schema_version == version + 1
        store.label(1, "x")
        columns = store._run(
            lambda conn: [
                r[0]
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns WHERE "
                    "table_schema = current_schema() AND table_name = 'events'"
                )
            ]
        )
    assert "note" in columns


def test_two_sessions_in_one_database_are_kept_apart(url: str) -> None:
    names = [f"a{uuid.uuid4().hex[:12]}", f"b{uuid.uuid4().hex[:12]}"]
    try:
        one = SessionStore(url, session=names[0], classes=["x", "y"], annotator="ana")
        two = SessionStore(url, session=names[1], classes=[0, 1], annotator="ana")
        one.label(1, "x")
        assert two.claim([1, 2], 2) == [1, 2]  # leases are per session too
        two.label(1, 0)
        assert one.claim([1, 2], 2) == [2]
        assert one.labels["label"].tolist() == ["x"] and two.labels["label"].tolist() == [0]
        assert one.session_id != two.session_id and one.classes != two.classes
        one.close()
        two.close()
    finally:
        for name in names:
            drop_session(name)


def test_a_least_privilege_role_labels_but_cannot_rewrite(url: str, session: str) -> None:
    """The role the README documents: INSERT and SELECT on events, nothing to change them."""
    import psycopg

    SessionStore(url, session=session, classes=["x", "y"]).close()
    role, secret = f"ann_{uuid.uuid4().hex[:8]}", uuid.uuid4().hex
    schema = f'"alw_{session}"'
    with _raw(url) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{secret}'")
        conn.execute(f"GRANT USAGE ON SCHEMA {schema} TO {role}")
        conn.execute(f"GRANT SELECT ON ALL TABLES IN SCHEMA {schema} TO {role}")
        conn.execute(f"GRANT INSERT ON {schema}.events, {schema}.models TO {role}")
        conn.execute(f"GRANT INSERT, UPDATE, DELETE ON {schema}.claims TO {role}")
    own = url.replace("alw:" + _password(url), f"{role}:{secret}")
    try:
        with SessionStore(own, session=session, annotator="ann") as store:
            assert store.claim([1, 2], 1) == [1]
            event_id = store.label(1, "x")
            store.undo()
            store.log_model(1, 1)
            assert store.labels.empty and store.events.index.tolist() == [event_id, event_id + 1]
            store.release()
        with _raw(own) as conn:
            for sql in ("UPDATE events SET annotator = 'x'", "DELETE FROM events"):
                with pytest.raises(psycopg.errors.InsufficientPrivilege):
                    conn.execute(sql.replace("events", f"{schema}.events"))
    finally:
        with _raw(url) as conn:
            conn.execute(f"DROP OWNED BY {role}")
            conn.execute(f"DROP ROLE {role}")


def test_a_stopped_server_is_a_clear_error_and_the_store_recovers(url: str, session: str) -> None:
    with SessionStore(url, session=session, annotator="ann") as store:
        store.label(1, "x")
        _cluster("pause")
        try:
            t0 = time.monotonic()
            with pytest.raises(StoreError, match="store unreachable") as info:
                store.label(2, "x")
            assert _pg.RETRY_S <= time.monotonic() - t0 < _pg.RETRY_S + 5
            assert _password(url) not in str(info.value)
            pending = dict(store._keys.pending)
        finally:
            _cluster("resume")
        # the same call again: the same key, so it could not be recorded twice even if
        # the first attempt had committed before the server went
        store.label(2, "x")  # the same object reconnects by itself
        store.label(3, "x")
        assert store.labels.index.tolist() == [1, 2, 3]
        assert len(pending) == 1 and store._keys.pending == {}
        keys = store._run(lambda conn: [r[0] for r in conn.execute("SELECT key FROM events")])
        assert next(iter(pending.values())) in keys


def test_each_failed_write_keeps_its_own_key_until_its_retry(url: str, session: str) -> None:
    # an app replaying several unsaved answers in order retries each with the key of its
    # first attempt, so none can be recorded twice (not only the last failed write)
    with SessionStore(url, session=session, annotator="ann") as store:
        store.label(1, "x")
        _cluster("pause")
        try:
            for item in (2, 3):
                with pytest.raises(StoreError, match="store unreachable"):
                    store.label(item, "x")
            pending = dict(store._keys.pending)
        finally:
            _cluster("resume")
        assert len(pending) == 2
        store.label(2, "x")
        store.label(3, "x")
        assert store._keys.pending == {}
        keys = store._run(lambda conn: [r[0] for r in conn.execute("SELECT key FROM events")])
        assert set(pending.values()) <= set(keys) and len(keys) == 3


def test_writers_survive_a_server_restart_and_lose_nothing(
    url: str,
    session: str,
    spawn_writer: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    tmp_path: Path,
) -> None:
    go = team_env(monkeypatch, tmp_path, session, 400, 1, 300)
    SessionStore(url, session=session, classes=["neg", "pos"]).close()
    names = ["ana", "bo", "cy"]
    writers = [spawn_writer("team", url, i, name, 20) for i, name in enumerate(names)]
    for writer in writers:
        writer.wait_ready()
    go.touch()
    try:
        while sum(len(w.lines) for w in writers) < 60:
            time.sleep(0.01)
        _cluster("restart")
        acked = finish_team(names, writers)
    finally:
        go.unlink()
    with SessionStore(url, session=session) as store:
        labeled = check_team(store, acked, 1)
    assert len(labeled) == 3 * 20 * 5  # every writer finished all its batches


# ------------------------------------------------------- outcomes that are unknown
def _hold_session_lock(url: str, session: str) -> Any:
    """A connection holding the session's write lock (its transaction stays open)."""
    conn = _raw(url)
    key = SessionStore(url, session=session)
    lock_key = key._backend._lock_key  # type: ignore[attr-defined]
    key.close()
    conn.execute("BEGIN")
    conn.execute("SELECT pg_advisory_xact_lock(%s)", (lock_key,))
    return conn


def _waiting_writer(url: str) -> int:
    """The pid of the backend that waits for the session lock (a write in its pipeline)."""
    deadline = time.monotonic() + 20
    with _raw(url) as conn:
        while time.monotonic() < deadline:
            row = conn.execute(
                "SELECT pid FROM pg_stat_activity WHERE wait_event_type = 'Lock' "
                "AND wait_event = 'advisory'"
            ).fetchone()
            if row is not None:
                return int(row[0])
            time.sleep(0.01)
    raise AssertionError("no writer waits for the session lock")


def test_a_link_cut_in_the_middle_of_a_pipelined_write_is_retried(
    url: str, session: str, caplog: pytest.LogCaptureFixture
) -> None:
    """The write is inside its pipeline (BEGIN, lock ... sent, waiting for the lock) when
    its backend is terminated: the outcome is unknown, so the store reconnects and sends
    it again with the same key; the caller gets the event id, the event exists once."""
    import threading

    with SessionStore(url, session=session, annotator="ann") as store:
        store.claim([1, 2], 2, lease_seconds=60)  # the write carries a renewal too
        holder = _hold_session_lock(url, session)
        result: dict[str, Any] = {}

        def write() -> None:
            try:
                result["id"] = store.label(1, "x", overlap=1)
            except Exception as err:  # reported below
                result["error"] = err

        thread = threading.Thread(target=write)
        thread.start()
        with _raw(url) as killer:
            killer.execute("SELECT pg_terminate_backend(%s)", (_waiting_writer(url),))
        _waiting_writer(url)  # it came back, on a new connection, and waits again
        holder.execute("COMMIT")
        holder.close()
        thread.join(timeout=30)
        assert "error" not in result, result.get("error")
        assert store.events.index.tolist() == [result["id"]]
        assert store.labels["label"].to_dict() == {1: "x"}
    assert not [r for r in caplog.records if "error ignored" in r.getMessage()]


def test_a_server_gone_mid_write_is_unreachable_and_the_retry_records_once(
    url: str, session: str
) -> None:
    """Stopped while the write waits in its pipeline: 'store unreachable' (never a query
    or permission error); the same call once it is back records the answer once."""
    import threading

    with SessionStore(url, session=session, annotator="ann") as store:
        holder = _hold_session_lock(url, session)
        errors: list[Exception] = []
        thread = threading.Thread(target=lambda: _catch(errors, store.label, 1, "x"))
        thread.start()
        _waiting_writer(url)
        _cluster("pause")
        try:
            thread.join(timeout=60)
            with contextlib.suppress(Exception):
                holder.close()
            assert len(errors) == 1 and isinstance(errors[0], StoreError)
            assert str(errors[0]).startswith("store unreachable"), errors[0]
            assert "may not be saved: call it again" in str(errors[0])
        finally:
            _cluster("resume")
        first = store.label(1, "x")
        # ids increase but may skip one: when the write reached the server before the
        # pause, the retry finds it by its key, and PostgreSQL's sequence is advanced
        # by the retry's INSERT ... ON CONFLICT all the same
        assert store.label(2, "y") > first
        assert store.events["item_id"].tolist() == [1, 2]  # recorded once


def _catch(errors: list[Exception], fn: Callable[..., Any], *args: Any) -> None:
    try:
        fn(*args)
    except Exception as err:  # the test inspects it
        errors.append(err)


def test_a_writer_through_kills_and_outages_writes_each_answer_once(
    url: str, session: str, caplog: pytest.LogCaptureFixture
) -> None:
    """A writer loops ``label`` (with a claim check and lease renewal) while its backend
    is terminated again and again and the server stops and starts: every call ends with
    an event id or 'store unreachable' (then is called again), never another error; in
    the end each answer is stored exactly once."""
    import threading

    store = SessionStore(url, session=session, classes=["a", "b"], annotator="w")
    store.claim(range(10_000), 5, lease_seconds=60)
    acked: list[tuple[int, int]] = []
    other: list[Exception] = []
    n_unreachable = 0
    stop = threading.Event()

    def loop() -> None:
        nonlocal n_unreachable
        item = 0
        while not stop.is_set():
            try:
                acked.append((store.label(item, "ab"[item % 2], overlap=1), item))
                item += 1
            except StoreError as err:
                if str(err).startswith("store unreachable"):
                    n_unreachable += 1  # the same call again (same key)
                else:
                    other.append(err)
                    item += 1

    thread = threading.Thread(target=loop)
    thread.start()
    try:
        for _ in range(3):
            time.sleep(0.3)
            with _raw(url) as killer:
                for _ in range(5):
                    killer.execute(
                        "SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE "
                        "pid <> pg_backend_pid() AND backend_type = 'client backend' "
                        "AND datname = current_database()"
                    )
                    time.sleep(0.03)
            time.sleep(0.3)
            _cluster("pause")
            time.sleep(0.5)
            _cluster("resume")
        time.sleep(0.3)
    finally:
        stop.set()
        thread.join(timeout=60)
    assert other == []
    events = store.events
    store.close()
    assert len(acked) > 20
    assert events.index.tolist() == [eid for eid, _ in acked]  # each once, in order
    assert events["item_id"].tolist() == [item for _, item in acked]
    assert set(events["action"]) == {"label"}
    assert not [r for r in caplog.records if "error ignored" in r.getMessage()]


def test_a_schema_4_session_is_migrated_to_5(
    url: str, session: str, monkeypatch: pytest.MonkeyPatch, check_views: Callable[[Any], None]
) -> None:
    """What a server holds from before schema 5 opens as a single-label session whose
    table takes conflicts and whose trigger function skips them."""
    import psycopg

    from alwidgets.exceptions import LabelConflictError
    from alwidgets.store import _schema

    with monkeypatch.context() as patch:
        patch.setattr(_schema, "SCHEMA_VERSION", 4)
        with SessionStore(url, session=session, classes=["x", "y"], annotator="ann") as store:
            assert store.schema_version == 4
            store.label(1, "x")
            store.label(2, "y", annotator="bo")
            store.skip(3)
            store.undo(annotator="bo")
            before = {name: getattr(store, name) for name in ("events", "labels", "state")}
    with _raw(url) as conn, pytest.raises(psycopg.errors.CheckViolation):
        conn.execute(
            f'INSERT INTO "alw_{session}".events (action, item_id, label, annotator, '
            "answered_at) VALUES ('conflict', '1', '\"y\"', 'cy', 0)"
        )
    with SessionStore(url, session=session, annotator="ann") as store:
        assert store.schema_version == 5 and not store.multi_label
        for name, frame in before.items():
            pd.testing.assert_frame_equal(getattr(store, name), frame)
        with pytest.raises(LabelConflictError):
            store.label(1, "y", annotator="cy", overlap=1)
        store.undo()  # the skip of 3
        store.undo()  # the label of 1: rebuilt without cy's conflict
        assert store.state.empty
        check_views(store)
    with SessionStore(url, session=session, multi_label=False) as store:
        assert store.schema_version == 5

"""``copy_session``: move a session between a file and a server, history included.

Every event keeps its id, times, annotator, query info and undo link; the
learning-curve points keep theirs; the copy keeps the session's id, creation
time, classes and kind (single- or multi-label). The target must be a new (empty)
session. Claims are leases,
not history, and are not copied. The copy is one transaction on the target:
it is complete or absent.

Examples
--------
>>> import os, tempfile
>>> from alwidgets.store import SessionStore, copy_session
>>> tmp = tempfile.mkdtemp()
>>> with SessionStore(os.path.join(tmp, "a.db"), classes=["x", "y"]) as store:
...     _ = store.label(1, "x"); _ = store.label(2, "y"); _ = store.undo()
>>> copy_session(os.path.join(tmp, "a.db"), os.path.join(tmp, "b.db"))
3
>>> with SessionStore(os.path.join(tmp, "b.db")) as copy:
...     copy.labels["label"].to_dict(), copy.events["undoes"].tolist()
({1: 'x'}, [<NA>, <NA>, 2])
>>> import shutil; shutil.rmtree(tmp)
"""

from __future__ import annotations

import os
from typing import Any

from alwidgets.exceptions import StoreMismatchError
from alwidgets.store._session import SessionStore
from alwidgets.store._sets import decode_labels

__all__ = ["copy_session"]

_EVENT_COLUMNS = (
    "id, action, item_id, label, annotator, shown_at, answered_at, model_version, score, rank, "
    "strategy, undoes, key"
)
_MODEL_COLUMNS = "id, version, n_labels, time, metrics, key"
_VALUES = {"events": (2, 3, 7), "models": (1,)}  # columns holding ids/labels/versions


def _open(
    target: Any, session: str | None, classes: Any = None, multi_label: bool | None = None
) -> tuple[SessionStore, bool]:
    from alwidgets.store._pg import is_url

    if isinstance(target, SessionStore):
        if multi_label is not None and target.multi_label != multi_label:
            kinds = {True: "multi-label", False: "single-label"}
            raise StoreMismatchError(
                f"the target session {target.session!r} is {kinds[target.multi_label]}, the "
                f"source {kinds[multi_label]}; nothing was copied. Copy into a new session."
            )
        return target, False
    name = session if is_url(target) else None
    return SessionStore(target, classes=classes, session=name, multi_label=multi_label), True


def copy_session(
    source: str | os.PathLike[str] | SessionStore,
    target: str | os.PathLike[str] | SessionStore,
    *,
    session: str | None = None,
) -> int:
    """Copy a whole session from ``source`` into a new session at ``target``.

    Parameters
    ----------
    source, target : str, path-like or SessionStore
        A session file, a ``postgresql://`` URL, or an open store.
    session : str, optional
        The session name on a server (source and/or target). A file session
        copied to a server keeps the file's name (its stem) when not given.

    Returns
    -------
    int
        The number of events copied.

    Raises
    ------
    StoreMismatchError
        The target session holds events or learning-curve points already
        (nothing is written), or its classes or kind differ.
    """
    src, close_src = _open(source, session)
    try:
        name = session if session is not None else src.session
        dst, close_dst = _open(target, name, src.classes, src.multi_label)
        try:
            return _copy(src, dst)
        finally:
            if close_dst:
                dst.close()
    finally:
        if close_src:
            src.close()


def _copy(src: SessionStore, dst: SessionStore) -> int:
    def read(conn: Any) -> dict[str, list[Any]]:
        return {
            "events": conn.execute(f"SELECT {_EVENT_COLUMNS} FROM events ORDER BY id").fetchall(),
            "models": conn.execute(f"SELECT {_MODEL_COLUMNS} FROM models ORDER BY id").fetchall(),
        }

    rows = src._run(read)
    backend = dst._backend
    # a multi-label answer is JSON text in a file, a jsonb list on a server: as a tuple
    # in between, written as the target stores it
    sets = decode_labels if src.multi_label else (lambda value: value)

    def encoded(table: str) -> list[tuple[Any, ...]]:
        out = []
        for row in rows[table]:
            values = list(row)
            for j in _VALUES[table]:
                values[j] = backend.value(
                    sets(values[j]) if (table, j) == ("events", 3) else values[j]
                )
            out.append(tuple(values))
        return out

    def write(conn: Any) -> None:
        n_events = conn.execute("SELECT count(*) FROM events").fetchone()[0]
        n_models = conn.execute("SELECT count(*) FROM models").fetchone()[0]
        if n_events or n_models:
            raise StoreMismatchError(
                f"the target session {dst.session!r} at {dst.location!r} holds {n_events} events "
                f"and {n_models} learning-curve points already; nothing was copied. Copy into a "
                "new session (another file name or session=...)."
            )
        for table, columns in (("events", _EVENT_COLUMNS), ("models", _MODEL_COLUMNS)):
            if rows[table]:
                marks = ", ".join("?" * len(columns.split(",")))
                sql = f"INSERT INTO {table} ({columns}) VALUES ({marks})"
                conn.executemany(sql, encoded(table))
        for key, value in (("session_id", src.session_id), ("created_at", src.created_at)):
            conn.execute("UPDATE meta SET value = ? WHERE key = ?", (value, key))
        backend.reset_ids(conn)

    dst._run(write, write=True)
    dst.session_id, dst.created_at = src.session_id, src.created_at
    return len(rows["events"])

"""Incremental views of the append-only log: each event is read once.

The log only grows and its ids grow in commit order, so a reader can catch up
with ``WHERE id > last_seen`` (a range on the primary key: nothing to read when
nobody wrote). :class:`Replay` keeps the ``labels`` and ``state`` frames of the
last read and, on the next read, re-derives only the items that the new events
touched (one indexed query), then patches those rows in place of rebuilding.
The first read builds both frames from one scan with vectorised pandas
(``drop_duplicates(keep="last")`` over the live actions).

This keeps ``labels`` cheap in the app's loop (label one item, read ``labels``)
at any session size, and sees other processes' writes on the next read.

Examples
--------
>>> import sqlite3
>>> conn = sqlite3.connect(":memory:")
>>> _ = conn.execute("CREATE TABLE events (id INTEGER PRIMARY KEY, action, item_id, label, "
...                  "annotator, shown_at, answered_at, model_version, score, rank, strategy, "
...                  "undoes)")
>>> rows = [(1, "label", 7, "a", "ann", None, 1.0, None, None, None, None, None),
...         (2, "label", 7, "b", "bo", None, 2.0, None, None, None, None, None),
...         (3, "undo", 7, "b", "bo", None, 3.0, None, None, None, None, 2)]
>>> _ = conn.executemany("INSERT INTO events VALUES (?,?,?,?,?,?,?,?,?,?,?,?)", rows)
>>> replay = Replay()
>>> replay.view(conn, "labels")["label"].to_dict()
{7: 'a'}
"""

from __future__ import annotations

import sqlite3
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_object_dtype

from alwidgets.store._codec import Value
from alwidgets.store._views import events_part, normalize, normalize_column, times, typed

__all__ = ["Replay"]

_ACTIONS = ("id", "action", "item_id", "label", "annotator", "answered_at", "undoes")
_ALL_ACTIONS_SQL = f"SELECT {', '.join(_ACTIONS)} FROM events ORDER BY id"
_NEW_ACTIONS_SQL = f"SELECT {', '.join(_ACTIONS)} FROM events WHERE id > ? ORDER BY id"
#: The live actions of some items (uses the (item_id, id) index).
_ITEMS_SQL = """
SELECT id, action, item_id, label, annotator, answered_at FROM events
WHERE item_id IN ({marks}) AND action != 'undo'
  AND NOT EXISTS (SELECT 1 FROM events AS u WHERE u.undoes = events.id)
ORDER BY id
"""
_LIVE_LABELS_SQL = """
SELECT annotator, item_id, label FROM events
WHERE action = 'label' AND NOT EXISTS (SELECT 1 FROM events AS u WHERE u.undoes = events.id)
ORDER BY id
"""

_NEW_EVENTS_SQL = """
SELECT id, action, item_id, label, annotator, shown_at, answered_at,
       model_version, score, rank, strategy, undoes
FROM events WHERE id > ? ORDER BY id
"""

_TYPED = ("item_id", "label", "model_version")
#: Above this many touched items, rebuilding beats patching.
_PATCH_LIMIT = 256


def _frame(columns: Sequence[Sequence[Any]], with_action: bool) -> pd.DataFrame:
    """A ``labels``/``state`` frame from the columns ``id, action, item_id, label,
    annotator, answered_at``."""
    ids, actions, items, labels, annotators, answered = columns
    data: dict[str, Any] = {}
    if with_action:
        data["action"] = pd.array(actions, dtype="str")
    data["label"] = typed(labels)
    data["annotator"] = pd.array(annotators, dtype="str")
    data["time"] = times(answered)
    data["_eid"] = np.asarray(ids, dtype=np.int64)
    return pd.DataFrame(data, index=pd.Index(typed(items), name="item_id"))


def _from_rows(rows: Sequence[Sequence[Any]], with_action: bool) -> pd.DataFrame:
    return _frame(list(zip(*rows, strict=True)) if rows else [()] * 6, with_action)


class Replay:
    """The current ``labels``/``state`` of a session, patched from new events only.

    Frames are cached with a hidden ``_eid`` column (the id of the event that
    set the row), which keeps rows in event order when patched.
    """

    def __init__(self) -> None:
        self.last_id = 0
        self._frames: dict[str, pd.DataFrame] = {}
        self._touched: dict[str, set[Value]] = {"labels": set(), "state": set()}
        self._events: pd.DataFrame | None = None
        self._events_last_id = 0

    # ------------------------------------------------------------- live state
    def _rebuild(self, conn: sqlite3.Connection) -> None:
        """Both frames from one scan of the log, vectorised."""
        rows = conn.execute(_ALL_ACTIONS_SQL).fetchall()
        # plain object columns: no dtype inference, numpy masks just copy pointers
        table = np.empty((len(rows), len(_ACTIONS)), dtype=object)
        if rows:
            table[:] = rows  # one C loop; far cheaper than zip(*rows)
        cols = [table[:, j] for j in range(len(_ACTIONS))]
        ids, action, items, undoes = cols[0], cols[1], cols[2], cols[6]
        undone = undoes[undoes != None].astype(np.int64)  # noqa: E711 - elementwise
        live = (action != "undo") & ~np.isin(ids.astype(np.int64), undone)
        is_label = action == "label"

        def last_per_item(mask: np.ndarray) -> list[list[Any]]:
            where = np.flatnonzero(mask)
            # pandas compares object values with ==, so 1 and "1" stay two items
            last = ~pd.Series(items[where]).duplicated(keep="last").to_numpy()
            return [col[where[last]].tolist() for col in cols[:6]]

        self._frames = {
            "labels": _frame(last_per_item(live & is_label), False),
            "state": _frame(last_per_item(live), True),
        }
        self._touched = {"labels": set(), "state": set()}
        self.last_id = int(rows[-1][0]) if rows else 0

    def _catch_up(self, conn: sqlite3.Connection) -> None:
        """Note the items touched by events written (by anyone) since the last read."""
        rows = conn.execute(_NEW_ACTIONS_SQL, (self.last_id,)).fetchall()
        for _, action, item, label, _, _, undoes in rows:
            self._touched["state"].add(item)
            # an undo row carries the undone event's item and label (None unless a label)
            if action == "label" or (undoes is not None and label is not None):
                self._touched["labels"].add(item)
        if rows:
            self.last_id = rows[-1][0]

    def _current(self, conn: sqlite3.Connection, items: set[Value]) -> list[Any]:
        """Live actions of ``items`` (at most ``_PATCH_LIMIT``, below SQLite's 999 ``?``)."""
        sql = _ITEMS_SQL.format(marks=", ".join("?" * len(items)))
        return conn.execute(sql, list(items)).fetchall()

    def view(self, conn: sqlite3.Connection, name: str) -> pd.DataFrame:
        """``labels`` (last live label per item) or ``state`` (last live action)."""
        if name not in self._frames:
            self._rebuild(conn)
        else:
            self._catch_up(conn)
        touched = self._touched[name]
        if len(touched) > _PATCH_LIMIT:
            self._rebuild(conn)
        elif touched:
            self._patch(conn, name, touched)
        touched.clear()
        return self._frames[name].drop(columns="_eid")

    def _patch(self, conn: sqlite3.Connection, name: str, touched: set[Value]) -> None:
        latest: dict[tuple[bool, Value], Any] = {}
        for row in self._current(conn, touched):  # ascending ids: the last one wins
            if name == "state" or row[1] == "label":
                latest[(type(row[2]) is str, row[2])] = row
        frame = self._frames[name]
        keep = frame[~frame.index.isin(list(touched))]
        changed = sorted(latest.values(), key=lambda row: row[0])
        if not changed:
            frame = normalize(keep)
        elif not len(keep):
            frame = _from_rows(changed, name == "state")
        else:
            part = _from_rows(changed, name == "state")
            frame = pd.concat([keep, part])
            if part["_eid"].iloc[0] < keep["_eid"].iloc[-1]:
                frame = frame.sort_values("_eid", kind="stable")
            frame = normalize(frame)
        self._frames[name] = frame

    def per_annotator(self, conn: sqlite3.Connection) -> dict[str, dict[Value, Value]]:
        """Each annotator's own latest live label per item."""
        out: dict[str, dict[Value, Value]] = {}
        for annotator, item, label in conn.execute(_LIVE_LABELS_SQL):
            out.setdefault(annotator, {})[item] = label  # ascending ids: later wins
        return out

    # ----------------------------------------------------------------- events
    def events(self, conn: sqlite3.Connection) -> pd.DataFrame:
        """Every event; new rows are appended to the cached frame."""
        rows = conn.execute(_NEW_EVENTS_SQL, (self._events_last_id,)).fetchall()
        old = self._events
        if old is not None and not rows:
            return old.copy()
        part = events_part(rows)
        if old is None or not len(old):
            frame = part
        else:
            for column in _TYPED:
                # mixed columns hold None for missing values, as a fresh build does
                if is_object_dtype(old[column]) != is_object_dtype(part[column]):
                    if is_object_dtype(old[column]):
                        part[column] = _objects(part[column])
                    else:
                        old = old.assign(**{column: _objects(old[column])})
            frame = pd.concat([old, part])
            for column in _TYPED:
                if is_object_dtype(frame[column]) and not is_object_dtype(part[column]):
                    frame[column] = normalize_column(frame[column])  # the types just met
        targets = [r[11] for r in rows if r[11] is not None]
        if targets:
            frame.loc[frame.index.intersection(targets), "undone"] = True
        self._events = frame
        if rows:
            self._events_last_id = rows[-1][0]
        return frame.copy()


def _objects(values: pd.Series) -> pd.Series:
    """An object column with None for missing (a bare array of str would become ``str``)."""
    arr = values.to_numpy(dtype=object, copy=True)
    arr[pd.isna(arr)] = None
    return pd.Series(arr, index=values.index, dtype=object, name=values.name)

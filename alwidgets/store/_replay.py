"""Incremental views of the append-only log: read only what changed.

The log only grows and its ids grow in commit order, so a reader can catch up
with ``WHERE id > last_seen`` (a range on the primary key: nothing to read when
nobody wrote). :class:`Replay` keeps the ``labels`` and ``state`` frames of the
last read and, on the next read, re-reads only the items that the new events
touched, then patches those rows instead of rebuilding the frame.

Both the first read and the patches read the ``current`` table (one row per
item holding every field the views show, kept by triggers; see ``_schema``), so
no read scans the whole log or looks events up one by one.

This keeps ``labels`` cheap in the app's loop (label one item, read ``labels``)
at any session size, and sees other processes' writes on the next read.

Examples
--------
>>> import tempfile
>>> from pathlib import Path
>>> from alwidgets.store._schema import open_store
>>> tmp = tempfile.TemporaryDirectory()
>>> conn, _ = open_store(Path(tmp.name) / "s.db", None)
>>> sql = "INSERT INTO events (action, item_id, label, annotator, answered_at, undoes) "
>>> _ = conn.execute(sql + "VALUES ('label', 7, 'a', 'ann', 1.0, NULL)")
>>> _ = conn.execute(sql + "VALUES ('label', 7, 'b', 'bo', 2.0, NULL)")
>>> replay = Replay()
>>> replay.view(conn, "labels")["label"].to_dict()
{7: 'b'}
>>> _ = conn.execute(sql + "VALUES ('undo', 7, 'b', 'bo', 3.0, 2)")
>>> replay.view(conn, "labels")["label"].to_dict()  # patched: item 7 re-read
{7: 'a'}
>>> conn.close(); tmp.cleanup()
"""

from __future__ import annotations

import gc
import sqlite3
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_object_dtype

from alwidgets.store._codec import Value
from alwidgets.store._sets import decode_labels
from alwidgets.store._views import (
    events_part,
    label_column,
    normalize,
    normalize_column,
    times,
    typed,
)

__all__ = ["Replay"]

_NEW_ACTIONS_SQL = "SELECT id, action, item_id, label, undoes FROM events WHERE id > ? ORDER BY id"
#: One row per item, straight from the ``current`` index (see ``_schema``), which
#: carries the fields the views show: no lookup into ``events``. Sorted in numpy.
#: Columns: event id, item id, label, annotator, answer time[, action].
_VIEW_SQL = {
    "labels": "SELECT label_event, item_id, label, label_annotator, label_time FROM current "
    "WHERE label_event IS NOT NULL",
    "state": "SELECT state_event, item_id, state_label, state_annotator, state_time, "
    "state_action FROM current WHERE true",
}
# what each annotator answered with a class: labels, and conflicts (answers the store
# kept but did not count as labels; they are judgements all the same, see agreement())
_LIVE_LABELS_SQL = """
SELECT annotator, item_id, label FROM events
WHERE action IN ('label', 'conflict')
  AND NOT EXISTS (SELECT 1 FROM events AS u WHERE u.undoes = events.id)
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


@contextmanager
def _bulk() -> Iterator[None]:
    """Pause the cyclic garbage collector while rows are fetched and converted.

    A full read makes a tuple per row and an object per value (about 300,000 at
    100,000 events), none of them in a reference cycle; the collector's passes
    triggered by those allocations cost about a quarter of the read and find
    nothing. Reference counting still frees everything. A caller who disabled
    the collector keeps it disabled.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def _objects_in(values: Sequence[Any], order: np.ndarray | None) -> np.ndarray:
    """``values`` as an object array, permuted by ``order`` (one C loop each; values may
    be lists, e.g. multi-label answers from ``jsonb``)."""
    arr = np.fromiter(values, dtype=object, count=len(values))
    return arr if order is None else arr[order]


def _strings(values: np.ndarray) -> Any:
    """A ``str`` column of few distinct values: convert each distinct value once."""
    codes, uniques = pd.factorize(values)
    return pd.array(uniques, dtype="str").take(codes, allow_fill=True)


def _from_rows(
    rows: Sequence[Sequence[Any]], with_action: bool, multi_label: bool = False
) -> pd.DataFrame:
    """Rows ``(event id, item_id, label, annotator, answered_at[, action])`` in any
    order, as a ``labels``/``state`` frame in event order.

    Column-wise: one ``zip`` transposes the rows, the event ids become an int64
    array whose argsort orders every column, and each column is converted in one
    vectorised step (item ids and labels by :func:`typed`; the few distinct
    annotators and actions are converted once each).
    """
    width = 6 if with_action else 5
    columns: list[Sequence[Any]] = list(zip(*rows, strict=True)) if rows else [()] * width
    ids = np.fromiter(columns[0], dtype=np.int64, count=len(rows))
    order: np.ndarray | None = np.argsort(ids, kind="stable")
    if len(ids) < 2 or bool(np.all(ids[1:] > ids[:-1])):
        order = None  # already in event order (e.g. a patch of one item)
    else:
        ids = ids[order]
    data: dict[str, Any] = {}
    if with_action:
        data["action"] = _strings(_objects_in(columns[5], order))
    data["label"] = label_column(_objects_in(columns[2], order), multi_label)
    data["annotator"] = _strings(_objects_in(columns[3], order))
    answered = np.asarray(columns[4], dtype=float)  # None -> NaN
    data["time"] = times(answered if order is None else answered[order])
    data["_eid"] = ids
    return pd.DataFrame(data, index=pd.Index(typed(_objects_in(columns[1], order)), name="item_id"))


class Replay:
    """The current ``labels``/``state`` of a session, patched from new events only.

    Frames are cached with a hidden ``_eid`` column (the id of the event that
    set the row), which keeps rows in event order when patched.
    """

    def __init__(
        self, param: Callable[[Value], Any] | None = None, multi_label: bool = False
    ) -> None:
        # how an item id becomes a query parameter (PostgreSQL: jsonb; see ``_backend``)
        self._param = param if param is not None else (lambda value: value)
        self.multi_label = multi_label  # labels are sets of classes (JSON arrays)
        self.last_id: int | None = None
        self._frames: dict[str, pd.DataFrame] = {}
        self._touched: dict[str, set[Value]] = {"labels": set(), "state": set()}
        self._events: pd.DataFrame | None = None
        self._events_last_id = 0

    # ------------------------------------------------------------- live state
    def _catch_up(self, conn: sqlite3.Connection) -> None:
        """Note the items touched by events written (by anyone) since the last read."""
        if self.last_id is None:  # first read: the views are built from scratch
            self.last_id = conn.execute("SELECT coalesce(max(id), 0) FROM events").fetchone()[0]
            return
        rows = conn.execute(_NEW_ACTIONS_SQL, (self.last_id,)).fetchall()
        for _, action, item, label, undoes in rows:
            if action == "conflict":
                continue  # changes neither view
            self._touched["state"].add(item)
            # an undo row carries the undone event's item and label (None unless a label)
            if action == "label" or (undoes is not None and label is not None):
                self._touched["labels"].add(item)
        if rows:
            self.last_id = rows[-1][0]

    def view(self, conn: sqlite3.Connection, name: str) -> pd.DataFrame:
        """``labels`` (last live label per item) or ``state`` (last live action)."""
        self._catch_up(conn)  # before reading the view: later writes get re-read next time
        touched = self._touched[name]
        if name not in self._frames or len(touched) > _PATCH_LIMIT:
            with _bulk():
                rows = conn.execute(_VIEW_SQL[name]).fetchall()
                self._frames[name] = _from_rows(rows, name == "state", self.multi_label)
                del rows  # freed here, while the collector is paused
        elif touched:
            self._patch(conn, name, touched)
        touched.clear()
        return self._frames[name].drop(columns="_eid")

    def _patch(self, conn: sqlite3.Connection, name: str, touched: set[Value]) -> None:
        """Re-read the rows of ``touched`` items (at most ``_PATCH_LIMIT`` parameters)."""
        sql = f"{_VIEW_SQL[name]} AND item_id IN ({', '.join('?' * len(touched))})"
        changed = conn.execute(sql, [self._param(item) for item in touched]).fetchall()
        frame = self._frames[name]
        keep = frame[~frame.index.isin(list(touched))]
        multi = self.multi_label
        if not changed:
            frame = normalize(keep, multi)
        elif not len(keep):
            frame = _from_rows(changed, name == "state", multi)
        else:
            part = _from_rows(changed, name == "state", multi)
            frame = pd.concat([keep, part])
            if part["_eid"].iloc[0] < keep["_eid"].iloc[-1]:
                frame = frame.sort_values("_eid", kind="stable")
            frame = normalize(frame, multi)
        self._frames[name] = frame

    def per_annotator(self, conn: sqlite3.Connection) -> dict[str, dict[Value, Any]]:
        """Each annotator's own latest live answer with a class (label or conflict) per item."""
        out: dict[str, dict[Value, Any]] = {}
        decode = decode_labels if self.multi_label else (lambda value: value)
        for annotator, item, label in conn.execute(_LIVE_LABELS_SQL):
            out.setdefault(annotator, {})[item] = decode(label)  # ascending ids: later wins
        return out

    # ----------------------------------------------------------------- events
    def events(self, conn: sqlite3.Connection) -> pd.DataFrame:
        """Every event; new rows are appended to the cached frame."""
        with _bulk():
            rows = conn.execute(_NEW_EVENTS_SQL, (self._events_last_id,)).fetchall()
            old = self._events
            if old is not None and not rows:
                return old.copy()
            part = events_part(rows, self.multi_label)
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

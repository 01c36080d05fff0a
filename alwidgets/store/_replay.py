"""Incremental views of the append-only log: read each event once, ever.

The log only grows, so a view never needs to look at an old event twice.
:class:`Replay` keeps, in memory, every *live* action (not undone) and, per
item, the ids of its live actions and live labels. Each read first fetches the
events newer than the last one seen (``id > ?``, a range on the primary key:
nothing when nobody wrote), applies them, and then patches the cached
DataFrames only for the items those events touched.

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
>>> replay.catch_up(conn)
>>> replay.view("labels")["label"].to_dict()
{7: 'a'}
"""

from __future__ import annotations

import sqlite3
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import is_object_dtype

from alwidgets.store._codec import Value
from alwidgets.store._views import events_part, normalize, normalize_column, times, typed

__all__ = ["Replay"]

_NEW_ACTIONS_SQL = """
SELECT id, action, item_id, label, annotator, answered_at, undoes
FROM events WHERE id > ? ORDER BY id
"""

_NEW_EVENTS_SQL = """
SELECT id, action, item_id, label, annotator, shown_at, answered_at,
       model_version, score, rank, strategy, undoes
FROM events WHERE id > ? ORDER BY id
"""

_TYPED = ("item_id", "label", "model_version")

#: A live action: (action, item_id, label, annotator, answered_at).
_Action = tuple[str, Value, Value | None, str, float]


def _discard(index: dict[Value, list[int]], item: Value, event_id: int) -> None:
    ids = index.get(item)
    if ids is not None and event_id in ids:
        ids.remove(event_id)
        if not ids:
            del index[item]


class Replay:
    """The live state of a session, updated from new events only.

    ``labels``/``state`` frames are cached with a hidden ``_eid`` column (the id
    of the event that set the row) that keeps rows in event order when patched.
    """

    def __init__(self) -> None:
        self.last_id = 0
        self._live: dict[int, _Action] = {}
        self._of: dict[str, dict[Value, list[int]]] = {"labels": {}, "state": {}}
        self._dirty: dict[str, set[Value]] = {"labels": set(), "state": set()}
        self._frames: dict[str, pd.DataFrame] = {}
        self._events: pd.DataFrame | None = None
        self._events_last_id = 0

    # ------------------------------------------------------------- live state
    def catch_up(self, conn: sqlite3.Connection) -> None:
        """Apply every event written (by anyone) since the last call."""
        rows = conn.execute(_NEW_ACTIONS_SQL, (self.last_id,)).fetchall()
        if not rows:
            return
        live = self._live
        labels_of, actions_of = self._of["labels"], self._of["state"]
        dirty_labels, dirty_state = self._dirty["labels"], self._dirty["state"]
        for event_id, action, item, label, annotator, answered_at, undoes in rows:
            if undoes is not None:
                target = live.pop(undoes, None)
                if target is None:  # not a live action: nothing to revert
                    continue
                item = target[1]
                _discard(actions_of, item, undoes)
                dirty_state.add(item)
                if target[0] == "label":
                    _discard(labels_of, item, undoes)
                    dirty_labels.add(item)
                continue
            live[event_id] = (action, item, label, annotator, answered_at)
            actions_of.setdefault(item, []).append(event_id)
            dirty_state.add(item)
            if action == "label":
                labels_of.setdefault(item, []).append(event_id)
                dirty_labels.add(item)
        self.last_id = rows[-1][0]

    def _build(self, event_ids: list[int], with_action: bool) -> pd.DataFrame:
        rows = [self._live[e] for e in event_ids]
        data: dict[str, Any] = {}
        if with_action:
            data["action"] = pd.array([r[0] for r in rows], dtype="str")
        data["label"] = typed([r[2] for r in rows])
        data["annotator"] = pd.array([r[3] for r in rows], dtype="str")
        data["time"] = times([r[4] for r in rows])
        data["_eid"] = np.asarray(event_ids, dtype=np.int64)
        index = pd.Index(typed([r[1] for r in rows]), name="item_id")
        return pd.DataFrame(data, index=index)

    def view(self, name: str) -> pd.DataFrame:
        """``labels`` (last live label per item) or ``state`` (last live action)."""
        of, dirty = self._of[name], self._dirty[name]
        frame = self._frames.get(name)
        with_action = name == "state"
        if frame is None or len(dirty) > max(256, len(frame) // 4):
            frame = self._build(sorted(ids[-1] for ids in of.values()), with_action)
        elif dirty:
            keys = list(dirty)
            keep = frame[~frame.index.isin(keys)]
            changed = sorted(of[k][-1] for k in keys if k in of)
            if not changed:
                frame = normalize(keep)
            elif not len(keep):
                frame = self._build(changed, with_action)
            else:
                part = self._build(changed, with_action)
                frame = pd.concat([keep, part])
                if part["_eid"].iloc[0] < keep["_eid"].iloc[-1]:
                    frame = frame.sort_values("_eid", kind="stable")
                frame = normalize(frame)
        dirty.clear()
        self._frames[name] = frame
        return frame.drop(columns="_eid")

    def per_annotator(self) -> dict[str, dict[Value, Value]]:
        """Each annotator's own latest live label per item."""
        out: dict[str, dict[Value, Value]] = {}
        for item, event_ids in self._of["labels"].items():
            for event_id in event_ids:  # ascending: a later label overrides
                _, _, label, annotator, _ = self._live[event_id]
                if label is not None:
                    out.setdefault(annotator, {})[item] = label
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
    items = [None if pd.isna(v) else v for v in values.tolist()]
    return pd.Series(items, index=values.index, dtype=object, name=values.name)

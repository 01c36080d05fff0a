"""Read-only views of a session store as pandas objects.

Each function takes an open connection (the caller holds the store's lock) and
returns a fresh DataFrame. The "current" views (``labels``, ``state``) are
computed in SQL with one ``GROUP BY`` pass over the events, using SQLite's
bare-column rule: with ``max(id)``, the other columns come from that row.
Ties between writers are resolved by event id, i.e. by commit order: the last
writer wins, and every event stays in ``events``.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "agreement_frame",
    "cohen_kappa",
    "events_frame",
    "labels_frame",
    "models_frame",
    "state_frame",
    "stats_dict",
    "typed",
]

#: An action that has not been undone.
_LIVE = "id NOT IN (SELECT undoes FROM events WHERE undoes IS NOT NULL)"

_LABELS_SQL = f"""
SELECT item_id, label, annotator, answered_at, max(id) FROM events
WHERE action = 'label' AND {_LIVE}
GROUP BY item_id ORDER BY max(id)
"""

_STATE_SQL = f"""
SELECT item_id, action, label, annotator, answered_at, max(id) FROM events
WHERE action != 'undo' AND {_LIVE}
GROUP BY item_id ORDER BY max(id)
"""

_PER_ANNOTATOR_SQL = f"""
SELECT annotator, item_id, label, max(id) FROM events
WHERE action = 'label' AND {_LIVE}
GROUP BY annotator, item_id
"""

_EVENTS_SQL = """
SELECT e.id, e.action, e.item_id, e.label, e.annotator, e.shown_at, e.answered_at,
       e.model_version, e.score, e.rank, e.strategy, e.undoes, u.id IS NOT NULL
FROM events e LEFT JOIN events u ON u.undoes = e.id
ORDER BY e.id
"""


def typed(values: Sequence[Any]) -> Any:
    """A column for ids/labels: int64 (or ``Int64`` with gaps), ``str``, or object if mixed.

    Examples
    --------
    >>> typed([1, 2]).dtype, typed([1, None]).dtype, typed(["a", 1]).dtype
    (dtype('int64'), Int64Dtype(), dtype('O'))
    """
    kinds = {type(v) for v in values if v is not None}
    if kinds == {int}:
        if len(kinds) and any(v is None for v in values):
            return pd.array(values, dtype="Int64")
        return np.asarray(values, dtype=np.int64)
    if kinds == {str}:
        return pd.array(values, dtype="str")
    return np.asarray(values, dtype=object) if len(values) else pd.array([], dtype="str")


def _times(seconds: Sequence[float | None]) -> pd.DatetimeIndex:
    """Epoch seconds -> UTC datetimes at microsecond resolution (NaT for None)."""
    arr = np.asarray([np.nan if s is None else s for s in seconds], dtype=float)
    micros = np.round(arr * 1e6)
    out = pd.to_datetime(
        np.where(np.isnan(micros), 0, micros).astype(np.int64), unit="us", utc=True
    )
    return pd.DatetimeIndex(out.where(~np.isnan(micros)))


def _item_index(values: Sequence[Any]) -> pd.Index:
    return pd.Index(typed(values), name="item_id")


def labels_frame(conn: sqlite3.Connection) -> pd.DataFrame:
    """Current label per item: its last label event that was not undone."""
    rows = conn.execute(_LABELS_SQL).fetchall()
    cols = list(zip(*rows, strict=True)) if rows else [(), (), (), (), ()]
    return pd.DataFrame(
        {
            "label": typed(cols[1]),
            "annotator": pd.array(cols[2], dtype="str"),
            "time": _times(cols[3]),
        },
        index=_item_index(cols[0]),
    )


def state_frame(conn: sqlite3.Connection) -> pd.DataFrame:
    """Last action per item that was not undone (label, skip or unsure)."""
    rows = conn.execute(_STATE_SQL).fetchall()
    cols = list(zip(*rows, strict=True)) if rows else [(), (), (), (), (), ()]
    return pd.DataFrame(
        {
            "action": pd.array(cols[1], dtype="str"),
            "label": typed(cols[2]),
            "annotator": pd.array(cols[3], dtype="str"),
            "time": _times(cols[4]),
        },
        index=_item_index(cols[0]),
    )


def events_frame(conn: sqlite3.Connection) -> pd.DataFrame:
    """Every event, oldest first, indexed by ``event_id``."""
    rows = conn.execute(_EVENTS_SQL).fetchall()
    cols = list(zip(*rows, strict=True)) if rows else [()] * 13
    shown, answered = _times(cols[5]), _times(cols[6])
    return pd.DataFrame(
        {
            "action": pd.array(cols[1], dtype="str"),
            "item_id": typed(cols[2]),
            "label": typed(cols[3]),
            "annotator": pd.array(cols[4], dtype="str"),
            "shown_at": shown,
            "answered_at": answered,
            "seconds": np.asarray((answered - shown).total_seconds(), dtype=float),
            "model_version": typed(cols[7]),
            "score": np.asarray([np.nan if v is None else v for v in cols[8]], dtype=float),
            "rank": pd.array(cols[9], dtype="Int64"),
            "strategy": pd.array(cols[10], dtype="str"),
            "undoes": pd.array(cols[11], dtype="Int64"),
            "undone": np.asarray(cols[12], dtype=bool),
        },
        index=pd.Index(np.asarray(cols[0], dtype=np.int64), name="event_id"),
    )


def models_frame(conn: sqlite3.Connection) -> pd.DataFrame:
    """Learning-curve points: one row per ``log_model`` call, metrics as columns."""
    rows = conn.execute(
        "SELECT version, n_labels, time, metrics FROM models ORDER BY id"
    ).fetchall()
    cols = list(zip(*rows, strict=True)) if rows else [(), (), (), ()]
    frame = pd.DataFrame(
        {
            "version": typed(cols[0]),
            "n_labels": np.asarray(cols[1], dtype=np.int64),
            "time": _times(cols[2]),
        }
    )
    records = [json.loads(m) for m in cols[3]]
    names = list(dict.fromkeys(key for record in records for key in record))
    for name in names:
        values = [record.get(name) for record in records]
        if all(v is None or isinstance(v, int | float) for v in values):
            frame[name] = np.asarray([np.nan if v is None else v for v in values], dtype=float)
        else:
            frame[name] = pd.array([None if v is None else str(v) for v in values], dtype="str")
    return frame


def cohen_kappa(a: Sequence[Any], b: Sequence[Any]) -> float:
    """Cohen's kappa between two raters' labels of the same items.

    ``(p_o - p_e) / (1 - p_e)``; NaN when both raters always give one and the
    same label (chance agreement is 1, kappa is undefined).

    Examples
    --------
    >>> cohen_kappa(["x", "x", "y", "y"], ["x", "x", "y", "y"])
    1.0
    >>> round(cohen_kappa([0, 0, 1, 1], [0, 1, 0, 1]), 3)
    0.0
    """
    left = np.asarray([f"{type(v).__name__}:{v}" for v in a])
    right = np.asarray([f"{type(v).__name__}:{v}" for v in b])
    if len(left) != len(right) or len(left) == 0:
        return float("nan")
    cats, codes = np.unique(np.concatenate([left, right]), return_inverse=True)
    ca, cb = codes[: len(left)], codes[len(left) :]
    p_o = float(np.mean(ca == cb))
    p_e = float(np.dot(np.bincount(ca, minlength=len(cats)), np.bincount(cb, minlength=len(cats))))
    p_e /= len(left) ** 2
    if p_e >= 1.0:
        return float("nan")
    return (p_o - p_e) / (1.0 - p_e)


def agreement_frame(conn: sqlite3.Connection) -> pd.DataFrame:
    """Per annotator pair: items both labeled, raw agreement, Cohen's kappa."""
    latest: dict[str, dict[Any, Any]] = {}
    for annotator, item, label, _ in conn.execute(_PER_ANNOTATOR_SQL):
        latest.setdefault(annotator, {})[(type(item).__name__, item)] = label
    names = sorted(latest)
    rows = []
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            shared = sorted(latest[first].keys() & latest[second].keys())
            if not shared:
                continue
            a = [latest[first][k] for k in shared]
            b = [latest[second][k] for k in shared]
            rows.append(
                (
                    first,
                    second,
                    len(shared),
                    float(np.mean([x == y for x, y in zip(a, b, strict=True)])),
                    cohen_kappa(a, b),
                )
            )
    frame = pd.DataFrame(
        rows, columns=["annotator_a", "annotator_b", "n_items", "agreement", "kappa"]
    )
    return frame.astype(
        {
            "annotator_a": "str",
            "annotator_b": "str",
            "n_items": np.int64,
            "agreement": float,
            "kappa": float,
        }
    )


def stats_dict(conn: sqlite3.Connection, idle_seconds: float) -> dict[str, Any]:
    """Session statistics; see :meth:`SessionStore.stats`."""
    events = events_frame(conn)
    live = events[(events["action"] != "undo") & ~events["undone"]]
    labels = labels_frame(conn)
    label_events = live[live["action"] == "label"]
    per_class = {k: int(v) for k, v in labels["label"].value_counts(sort=False).items()}
    per_annotator = {
        str(k): int(v) for k, v in label_events["annotator"].value_counts(sort=False).items()
    }
    # Active time: each answer costs the time since the item was shown or since the
    # annotator's previous answer, whichever is shorter (cards shown in a batch share
    # one shown_at); a cost above idle_seconds is a break and counts nothing.
    active = 0.0
    for _, group in events.groupby("annotator", sort=False):
        answered = group["answered_at"].astype("int64").to_numpy() / 1e6
        gaps = np.concatenate([[np.nan], np.diff(answered)])
        cost = np.fmin(group["seconds"].to_numpy(dtype=float), gaps)
        cost = cost[np.isfinite(cost) & (cost >= 0) & (cost <= idle_seconds)]
        active += float(cost.sum())
    seconds = label_events["seconds"].to_numpy()
    seconds = seconds[np.isfinite(seconds)]
    n_labels = len(label_events)
    return {
        "n_events": len(events),
        "n_items": len(state_frame(conn)),
        "n_labeled": len(labels),
        "n_labels": n_labels,
        "n_skipped": int((live["action"] == "skip").sum()),
        "n_unsure": int((live["action"] == "unsure").sum()),
        "n_undo": int((events["action"] == "undo").sum()),
        "per_class": per_class,
        "per_annotator": per_annotator,
        "active_minutes": active / 60.0,
        "labels_per_minute": n_labels / (active / 60.0) if active > 0 else float("nan"),
        "median_seconds_per_label": float(np.median(seconds)) if len(seconds) else float("nan"),
    }

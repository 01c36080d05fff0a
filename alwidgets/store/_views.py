"""Building blocks of the store's pandas views: typed columns, times, kappa, stats.

Ids and labels come back with the narrowest dtype that holds them exactly:
``int64`` (``Int64`` when some are missing), ``str``, or ``object`` when a
session mixes ints and strings. Times are UTC datetimes at microsecond
resolution, which CSV and Parquet both round-trip.
"""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd
from pandas.api.types import infer_dtype, is_object_dtype

from alwidgets._utils import cohen_kappa
from alwidgets.store._sets import decode_labels

__all__ = [
    "agreement_frame",
    "events_part",
    "label_column",
    "label_matrix",
    "models_frame",
    "normalize",
    "normalize_column",
    "stats_dict",
    "times",
    "typed",
]

EVENT_COLUMNS = (
    "action",
    "item_id",
    "label",
    "annotator",
    "shown_at",
    "answered_at",
    "seconds",
    "model_version",
    "score",
    "rank",
    "strategy",
    "undoes",
    "undone",
)


def typed(values: Sequence[Any] | np.ndarray) -> Any:
    """A column for ids/labels: int64 (``Int64`` with gaps), ``str``, or object if mixed.

    Missing values (None/NaN/NA) become NA in ``Int64``, NaN in ``str`` and None
    in object columns. The type test runs in C (``infer_dtype``), not per value.

    Examples
    --------
    >>> typed([1, 2]).dtype, typed([1, None]).dtype, typed(["a", 1]).dtype
    (dtype('int64'), Int64Dtype(), dtype('O'))
    >>> typed(["a", None]).dtype == typed([None]).dtype == typed([]).dtype == "str"
    True
    """
    arr = np.empty(len(values), dtype=object)
    arr[:] = values
    kind = infer_dtype(arr, skipna=True)
    if kind == "integer":
        missing = pd.isna(arr)
        return pd.array(arr, dtype="Int64") if missing.any() else arr.astype(np.int64)
    if kind in ("string", "empty"):
        return pd.array(arr, dtype="str")
    arr[pd.isna(arr)] = None
    return arr


def label_column(values: Sequence[Any] | np.ndarray, multi_label: bool) -> Any:
    """The ``label`` column: :func:`typed` labels, or (multi-label) tuples of classes in
    an object column (``None`` where there is no label).

    Examples
    --------
    >>> label_column(['["a","b"]', None, "[]"], True).tolist()
    [('a', 'b'), None, ()]
    """
    if not multi_label:
        return typed(values)
    return np.fromiter((decode_labels(v) for v in values), dtype=object, count=len(values))


def label_matrix(labels: pd.DataFrame, classes: list[Any], multi_label: bool) -> pd.DataFrame:
    """The ``labels`` view as one 0/1 ``int8`` column per class (one-hot if single-label)."""
    where = {(type(c).__name__, c): j for j, c in enumerate(classes)}
    matrix = np.zeros((len(labels), len(classes)), dtype=np.int8)
    for i, answer in enumerate(labels["label"]):
        for c in answer if multi_label else (answer,):
            matrix[i, where[(type(c).__name__, c)]] = 1
    return pd.DataFrame(matrix, index=labels.index, columns=pd.Index(classes, dtype=object))


def normalize_column(values: pd.Series | pd.Index) -> Any:
    """Re-derive the dtype of an id-like column from its values (after a concat)."""
    return typed(values.to_numpy(dtype=object))


def _needs_retype(values: pd.Series | pd.Index) -> bool:
    """Could a fresh build give this column another dtype? (int64 and str are final.)"""
    if not len(values) or is_object_dtype(values.dtype):
        return True
    if isinstance(values.dtype, pd.Int64Dtype):
        missing = values.isna()
        return bool(not missing.any() or missing.all())
    return False


def normalize(frame: pd.DataFrame, multi_label: bool = False) -> pd.DataFrame:
    """Give a patched ``labels``/``state`` frame the dtypes a fresh build would have
    (a multi-label ``label`` column is always an object column of tuples)."""
    mixed_ids = is_object_dtype(frame.index.dtype) and (
        infer_dtype(frame.index, skipna=False) == "mixed-integer"
    )
    if not mixed_ids and _needs_retype(frame.index):  # ids are never missing
        frame.index = pd.Index(normalize_column(frame.index), name=frame.index.name)
    if not multi_label and _needs_retype(frame["label"]):
        frame["label"] = normalize_column(frame["label"])
    return frame


def times(seconds: Sequence[float | None] | np.ndarray) -> pd.DatetimeIndex:
    """Epoch seconds -> UTC datetimes at microsecond resolution (NaT for None)."""
    arr = np.asarray(seconds, dtype=float)  # None -> NaN
    micros = np.round(arr * 1e6)
    missing = np.isnan(micros)
    out = pd.to_datetime(np.where(missing, 0, micros).astype(np.int64), unit="us", utc=True)
    return pd.DatetimeIndex(out.where(~missing)) if missing.any() else out


def events_part(rows: Sequence[tuple[Any, ...]], multi_label: bool = False) -> pd.DataFrame:
    """Rows of ``SELECT id, action, ..., undoes`` as an events frame (``undone`` False)."""
    if multi_label and rows:  # labels may be lists (jsonb): fill column by column
        cols = [np.fromiter(col, dtype=object, count=len(rows)) for col in zip(*rows, strict=True)]
    else:
        table = np.empty((len(rows), 12), dtype=object)
        if rows:
            table[:] = rows  # one C loop; far cheaper than zip(*rows)
        cols = [table[:, j] for j in range(12)]
    shown, answered = times(cols[5]), times(cols[6])
    frame = pd.DataFrame(
        {
            "action": pd.array(cols[1], dtype="str"),
            "item_id": typed(cols[2]),
            "label": label_column(cols[3], multi_label),
            "annotator": pd.array(cols[4], dtype="str"),
            "shown_at": shown,
            "answered_at": answered,
            "seconds": np.asarray((answered - shown).total_seconds(), dtype=float),
            "model_version": typed(cols[7]),
            "score": np.asarray(cols[8], dtype=float),  # None -> NaN
            "rank": pd.array(cols[9], dtype="Int64"),
            "strategy": pd.array(cols[10], dtype="str"),
            "undoes": pd.array(cols[11], dtype="Int64"),
            "undone": np.zeros(len(rows), dtype=bool),
        },
        index=pd.Index(np.asarray(cols[0], dtype=np.int64), name="event_id"),
    )
    return frame


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
            "time": times(cols[2]),
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


def agreement_frame(
    latest: dict[str, dict[Any, Any]], classes: list[Any] | None = None
) -> pd.DataFrame:
    """Per annotator pair: items both labeled, raw agreement, Cohen's kappa.

    ``latest[annotator][item]`` is that annotator's own current label of ``item``.
    With ``classes`` (a multi-label session: labels are tuples of classes), ``kappa``
    is the mean of the per-class kappas that are defined, which follow as
    ``kappa[<class>]`` columns, and ``agreement`` the share of items given the
    same set.

    Examples
    --------
    >>> latest = {"ana": {1: ("a",), 2: ("a", "b"), 3: ()}, "bo": {1: ("a",), 2: ("b",), 3: ()}}
    >>> frame = agreement_frame(latest, ["a", "b"])
    >>> [round(float(frame.iloc[0][c]), 3) for c in ("n_items", "kappa", "kappa[a]", "kappa[b]")]
    [3.0, 0.7, 0.4, 1.0]
    """
    names = sorted(latest)
    per_class = [f"kappa[{c}]" for c in classes or ()]
    rows: list[tuple[Any, ...]] = []
    for i, first in enumerate(names):
        for second in names[i + 1 :]:
            shared = list(latest[first].keys() & latest[second].keys())
            if not shared:
                continue
            a = [latest[first][k] for k in shared]
            b = [latest[second][k] for k in shared]
            same = float(
                np.mean([x == y and type(x) is type(y) for x, y in zip(a, b, strict=True)])
            )
            if classes is None:
                rows.append((first, second, len(shared), same, cohen_kappa(a, b)))
                continue
            kappas = [
                cohen_kappa([int(c in x) for x in a], [int(c in y) for y in b]) for c in classes
            ]
            defined = [k for k in kappas if not np.isnan(k)]
            summary = float(np.mean(defined)) if defined else float("nan")
            rows.append((first, second, len(shared), same, summary, *kappas))
    columns = ["annotator_a", "annotator_b", "n_items", "agreement", "kappa", *per_class]
    frame = pd.DataFrame(rows, columns=columns)
    types: dict[str, Any] = {"annotator_a": "str", "annotator_b": "str", "n_items": np.int64}
    return frame.astype({**types, **dict.fromkeys(["agreement", "kappa", *per_class], float)})


def stats_dict(
    events: pd.DataFrame,
    labels: pd.DataFrame,
    state: pd.DataFrame,
    idle_seconds: float,
    classes: list[Any] | None = None,
) -> dict[str, Any]:
    """Session statistics; see :meth:`SessionStore.stats` (``classes``: a multi-label
    session's, whose ``per_class`` counts the items each class applies to)."""
    live = events[(events["action"] != "undo") & ~events["undone"]]
    label_events = live[live["action"] == "label"]
    if classes is None:
        per_class = {k: int(v) for k, v in labels["label"].value_counts(sort=False).items()}
    else:
        counts = dict.fromkeys(range(len(classes)), 0)
        where = {(type(c).__name__, c): i for i, c in enumerate(classes)}
        for answer in labels["label"]:
            for c in answer:
                counts[where[(type(c).__name__, c)]] += 1
        per_class = {classes[i]: n for i, n in counts.items() if n}
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
        "n_items": len(state),
        "n_labeled": len(labels),
        "n_labels": n_labels,
        "n_skipped": int((live["action"] == "skip").sum()),
        "n_unsure": int((live["action"] == "unsure").sum()),
        "n_conflicts": int((live["action"] == "conflict").sum()),
        "n_undo": int((events["action"] == "undo").sum()),
        "per_class": per_class,
        "per_annotator": per_annotator,
        "active_minutes": active / 60.0,
        "labels_per_minute": n_labels / (active / 60.0) if active > 0 else float("nan"),
        "median_seconds_per_label": float(np.median(seconds)) if len(seconds) else float("nan"),
    }

"""Export store views to CSV or Parquet, and read them back exactly.

CSV cannot tell ``1`` from ``"1"``, so for every id-like column (``item_id``,
``label``, ``model_version``, ``version``) a CSV export carries a companion
``<column>_type`` column (``int`` or ``str``, empty when missing).
:func:`read_export` uses it to restore the exact values and dtypes; other
tools can simply ignore it. Parquet keeps types natively and only needs the
companion column when a column mixes ints and strings.

A multi-label session's answers (tuples of classes) are written one of two ways:
``"columns"`` puts one 0/1 column ``label[<class>]`` per class where ``label`` was
(empty where there is no label) and adds ``label_classes`` (the classes as JSON, so
``1`` and ``"1"`` stay apart); ``"list"`` keeps one ``label`` column, a Parquet list
column (JSON text with ``label_type`` = ``list`` in CSV, or when the classes mix ints
and strings). :func:`read_export` turns both back into the tuples of the view.
"""

from __future__ import annotations

import csv
import json
import os
import tempfile
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from alwidgets._utils import plain
from alwidgets.exceptions import InvalidInputError, StoreError, require
from alwidgets.store._views import typed

__all__ = ["EXPORTABLE", "LAYOUTS", "check_request", "export_frame", "read_export"]

#: What ``SessionStore.export`` can write.
EXPORTABLE = ("labels", "events", "state", "models")
#: How a multi-label session's answers can be written.
LAYOUTS = ("columns", "list")

_TYPED = ("item_id", "label", "model_version", "version")
_TIMES = ("time", "shown_at", "answered_at")
_INTS = ("event_id", "n_labels", "n_items")
_NULLABLE_INTS = ("rank", "undoes")
_FLOATS = ("seconds", "score", "agreement", "kappa")
_BOOLS = ("undone",)
_COMPRESSION: dict[str, Literal["gzip", "bz2", "zip", "xz"]] = {
    ".gz": "gzip",
    ".bz2": "bz2",
    ".zip": "zip",
    ".xz": "xz",
}
_TEXT = ("action", "annotator", "strategy", "annotator_a", "annotator_b")


def _format(path: Path) -> str:
    name = path.name.lower()
    if name.endswith((".csv", ".csv.gz", ".csv.bz2", ".csv.zip", ".csv.xz")):
        return "csv"
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    raise InvalidInputError(
        f"cannot tell the export format of {str(path)!r}; end the file name with .csv "
        "(or .csv.gz) or .parquet."
    )


def _tag(value: Any) -> str | None:
    if isinstance(value, int | np.integer):
        return "int"
    return "str" if isinstance(value, str) else None


def check_request(what: str, layout: str | None, multi_label: bool) -> str | None:
    """Check ``export(what=..., multi_label=...)``; the layout of the answers, if sets."""
    if what not in EXPORTABLE:
        raise InvalidInputError(
            f"what={what!r} cannot be exported; choose one of {list(EXPORTABLE)}."
        )
    if layout is not None and not multi_label:
        raise InvalidInputError(
            f"multi_label={layout!r} is for multi-label sessions, and this one is "
            "single-label; leave it out."
        )
    if layout is not None and layout not in LAYOUTS:
        raise InvalidInputError(
            f"multi_label={layout!r} is not a layout; choose 'columns' (one 0/1 column per "
            "class) or 'list' (one list column)."
        )
    return (layout or "columns") if multi_label and what != "models" else None


def _sets_out(frame: pd.DataFrame, layout: str, classes: list[Any], kind: str) -> pd.DataFrame:
    """A multi-label ``label`` column (tuples) in the chosen layout, and ``label_classes``."""
    labels = frame["label"].tolist()
    at = list(frame.columns).index("label")
    if layout == "columns":
        out = frame.drop(columns="label")
        names = [f"label[{c}]" for c in classes]
        if len(set(names)) < len(names):  # e.g. 1 and "1": the JSON spelling tells them apart
            names = [f"label[{json.dumps(c, ensure_ascii=False)}]" for c in classes]
        for j, (c, name) in enumerate(zip(classes, names, strict=True)):
            bits = [None if v is None else int(c in v) for v in labels]
            out.insert(at + j, name, pd.Series(bits, index=out.index, dtype="Int8"))
    elif kind == "parquet" and len({type(c) for c in classes}) == 1:
        out = frame.copy()  # a native list column
        lists = (None if v is None else list(v) for v in labels)
        out["label"] = np.fromiter(lists, dtype=object, count=len(labels))
    else:  # JSON text, tagged like the other typed columns
        out = frame.copy()
        text = [None if v is None else json.dumps(list(v)) for v in labels]
        out["label"] = pd.array(text, dtype="str")
        out.insert(at + 1, "label_type", pd.Series("list", index=out.index, dtype="str"))
    out["label_classes"] = pd.array([json.dumps(classes)] * len(out), dtype="str")
    return out


def _listed(value: Any) -> tuple[Any, ...] | None:
    """A value of a list column (a Parquet list, or JSON text) as a tuple of classes."""
    if not isinstance(value, list | np.ndarray) and pd.isna(value):
        return None
    if isinstance(value, str):
        value = json.loads(value)
    return tuple(v.item() if isinstance(v, np.generic) else v for v in value)


def _sets_in(flat: pd.DataFrame) -> pd.DataFrame:
    """Undo either layout: the answers back into tuples of classes (``None``: no label)."""
    labels = np.empty(len(flat), dtype=object)
    if "label" in flat.columns:  # the list layout
        labels = np.fromiter(map(_listed, flat["label"]), dtype=object, count=len(flat))
        out = flat.drop(columns=[c for c in ("label_type", "label_classes") if c in flat])
        out["label"] = labels
        return out
    bits = [c for c in flat.columns if c.startswith("label[") and c.endswith("]")]
    known = flat["label_classes"].dropna()
    classes = json.loads(known.iloc[0]) if len(known) else [None] * len(bits)
    values = flat[bits].apply(pd.to_numeric).to_numpy(dtype=float, na_value=np.nan)
    for i, row in enumerate(values):
        if not np.isnan(row).all():
            labels[i] = tuple(c for c, bit in zip(classes, row, strict=True) if bit == 1)
    out = flat.drop(columns=[*bits, "label_classes"])
    out.insert(list(flat.columns).index(bits[0]) if bits else 0, "label", labels)
    return out


def _flatten(frame: pd.DataFrame, *, always: bool) -> pd.DataFrame:
    """Reset the index and give id-like columns a ``<col>_type`` companion."""
    flat = frame.reset_index() if frame.index.name is not None else frame.copy()
    for col in _TYPED:
        if col not in flat.columns or (col == "label" and "label_classes" in flat.columns):
            continue  # (multi-label answers are written as _sets_out says)
        values = flat[col].astype(object).tolist()
        kinds = {type(v) for v in values if isinstance(v, int | str)}
        if not always and len(kinds) < 2:
            continue
        tags = [_tag(v) for v in values]
        flat[f"{col}_type"] = pd.array(tags, dtype="str")
        flat[col] = pd.array(
            [None if t is None else str(v) for v, t in zip(values, tags, strict=True)], dtype="str"
        )
    return flat


def export_frame(
    frame: pd.DataFrame,
    path: str | os.PathLike[str],
    *,
    sets: tuple[str, list[Any]] | None = None,
) -> Path:
    """Write ``frame`` to ``path`` (format from the suffix) atomically; ``sets``: the
    layout and classes of a multi-label session's ``label`` column."""
    target = Path(os.fspath(path)).expanduser()
    kind = _format(target)
    if sets is not None and "label" in frame.columns:
        frame = _sets_out(frame, sets[0], sets[1], kind)
    if not target.parent.is_dir():
        raise StoreError(
            f"cannot export to {str(target)!r}: the directory {str(target.parent)!r} does not "
            "exist; create it first."
        )
    if kind == "parquet":
        require("pyarrow", "parquet", "Parquet export")
    flat = _flatten(frame, always=kind == "csv")
    tmp: str | None = None
    try:
        fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
        os.close(fd)
        if kind == "csv":
            # the temporary name hides the suffix, so name the compression explicitly
            # quote every text field: a bare "\r" inside one would end the row when read
            flat.to_csv(
                tmp, index=False, compression=_compression(target), quoting=csv.QUOTE_NONNUMERIC
            )
        else:
            flat.to_parquet(tmp, index=False)
        with open(tmp, "rb+") as fh:
            os.fsync(fh.fileno())  # on disk before it replaces the old file
        os.replace(tmp, target)
    except OSError as err:
        raise StoreError(
            f"cannot export to {str(target)!r}: {err}. Check that the directory is writable "
            "and the disk is not full."
        ) from err
    finally:
        if tmp is not None and os.path.exists(tmp):
            os.remove(tmp)
    return target


def _compression(path: Path) -> Literal["gzip", "bz2", "zip", "xz"] | None:
    return _COMPRESSION.get(path.suffix.lower())


def _restore(flat: pd.DataFrame) -> pd.DataFrame:
    multi = "label_classes" in flat.columns  # a multi-label session's answers
    if multi:
        flat = _sets_in(flat)
    out: dict[str, Any] = {}
    for col in flat.columns:
        if col.endswith("_type") and col.removesuffix("_type") in _TYPED:
            continue
        values = flat[col]
        if col == "label" and multi:
            out[col] = values.to_numpy(dtype=object)  # tuples, rebuilt by _sets_in
        elif col in _TYPED:
            if f"{col}_type" in flat.columns:
                kinds = flat[f"{col}_type"].tolist()
                raw = values.astype(object).tolist()
                out[col] = typed(
                    [
                        int(v) if k == "int" else str(v) if k == "str" else None
                        for v, k in zip(raw, kinds, strict=True)
                    ]
                )
            else:
                out[col] = typed([None if pd.isna(v) else plain(v) for v in values.astype(object)])
        elif col in _TIMES:
            out[col] = pd.to_datetime(values, utc=True, format="ISO8601").dt.as_unit("us")
        elif col in _INTS:
            out[col] = values.astype(np.int64)
        elif col in _NULLABLE_INTS:
            out[col] = pd.to_numeric(values).astype("Int64")
        elif col in _FLOATS:
            out[col] = values.astype(float)
        elif col in _BOOLS:
            out[col] = values.map({"True": True, "False": False, True: True, False: False}).astype(
                bool
            )
        elif col in _TEXT:
            out[col] = values.astype("str")
        else:  # a model metric
            numeric = pd.to_numeric(values, errors="coerce")
            parsed = numeric.notna().sum() == values.notna().sum()
            out[col] = numeric.astype(float) if parsed else values.astype("str")
    frame = pd.DataFrame(out, index=flat.index)
    for key in ("event_id", "item_id"):
        if key in frame.columns:
            return frame.set_index(key)
    return frame


def read_export(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a file written by :meth:`SessionStore.export` back, with exact types.

    Parameters
    ----------
    path : str or path-like
        A ``.csv`` (optionally compressed) or ``.parquet`` file.

    Returns
    -------
    pandas.DataFrame
        Equal to the exported frame: the same index (``item_id`` or
        ``event_id``), values and dtypes.

    Examples
    --------
    >>> import os, tempfile
    >>> from alwidgets.store import SessionStore, read_export
    >>> tmp = tempfile.mkdtemp()
    >>> with SessionStore(os.path.join(tmp, "s.db"), classes=["a", "b"]) as store:
    ...     _ = store.label(1, "a"); _ = store.label("1", "b")
    ...     out = store.export(os.path.join(tmp, "labels.csv"))
    ...     read_export(out).equals(store.labels)
    True
    >>> import shutil; shutil.rmtree(tmp)
    """
    source = Path(os.fspath(path)).expanduser()
    kind = _format(source)
    if not source.is_file():
        raise StoreError(f"cannot read {str(source)!r}: no such file.")
    if kind == "parquet":
        require("pyarrow", "parquet", "Parquet import")
        flat = pd.read_parquet(source)
    else:
        flat = pd.read_csv(source, dtype=str, keep_default_na=False, na_values=[""])
    return _restore(flat)

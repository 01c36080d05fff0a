"""Export store views to CSV or Parquet, and read them back exactly.

CSV cannot tell ``1`` from ``"1"``, so for every id-like column (``item_id``,
``label``, ``model_version``, ``version``) a CSV export carries a companion
``<column>_type`` column (``int`` or ``str``, empty when missing).
:func:`read_export` uses it to restore the exact values and dtypes; other
tools can simply ignore it. Parquet keeps types natively and only needs the
companion column when a column mixes ints and strings.
"""

from __future__ import annotations

import csv
import os
import tempfile
from pathlib import Path
from typing import Any, Literal

import numpy as np
import pandas as pd

from alwidgets._utils import plain
from alwidgets.exceptions import InvalidInputError, StoreError, require
from alwidgets.store._views import typed

__all__ = ["EXPORTABLE", "export_frame", "read_export"]

#: What ``SessionStore.export`` can write.
EXPORTABLE = ("labels", "events", "state", "models")

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


def _flatten(frame: pd.DataFrame, *, always: bool) -> pd.DataFrame:
    """Reset the index and give id-like columns a ``<col>_type`` companion."""
    flat = frame.reset_index() if frame.index.name is not None else frame.copy()
    for col in _TYPED:
        if col not in flat.columns:
            continue
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


def export_frame(frame: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``frame`` to ``path`` (format from the suffix) atomically."""
    target = Path(os.fspath(path)).expanduser()
    kind = _format(target)
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
    out: dict[str, Any] = {}
    for col in flat.columns:
        if col.endswith("_type") and col.removesuffix("_type") in _TYPED:
            continue
        values = flat[col]
        if col in _TYPED:
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

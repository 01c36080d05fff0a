"""Round-trips: export -> read back equal (values and dtypes), for every view and format."""

from __future__ import annotations

import tempfile
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import pandas as pd
import pytest
from helpers import import_or_skip
from hypothesis import given, settings
from hypothesis import strategies as st

from alwidgets.exceptions import InvalidInputError, StoreError
from alwidgets.store import SessionStore, read_export

VIEWS = ["labels", "events", "state", "models"]
SUFFIXES = [".csv", ".csv.gz", ".parquet"]


def _fill(store: SessionStore, ids: list[object]) -> None:
    t0 = time.time() - 60
    for rank, item in enumerate(ids):
        label = ["no", "yes", 0][rank % 3] if store.classes is None else store.classes[rank % 2]
        store.label(item, label, shown_at=t0 + rank, model_version=rank % 2 + 1, score=0.5)
        store.label(item, label, annotator="second", strategy="margin", rank=rank + 1)
    store.skip(ids[0])
    store.unsure("NA")  # a string pandas would read as missing by default
    store.undo(annotator="second")
    store.log_model(1, 10, accuracy=0.5, note="first")
    store.log_model("v2", 20, accuracy=float("nan"), note=None)


@pytest.fixture(
    params=[
        ("mixed", [1, "1", "001", "NaN", " spaced ", 'é,"quoted"\nnewline', -(2**63)]),
        ("ints", [5, 3, 2**62]),
        ("strings", ["b", "a", "0042", "True"]),
    ],
    ids=lambda p: p[0],
)
def store(
    request: pytest.FixtureRequest, open_store: Callable[..., SessionStore]
) -> Iterator[SessionStore]:
    with open_store(annotator="first") as store:
        _fill(store, request.param[1])
        yield store


def _needs_parquet(suffix: str) -> None:
    if suffix == ".parquet":
        import_or_skip("pyarrow", "Parquet export needs the 'parquet' extra")


@pytest.mark.parametrize("suffix", SUFFIXES)
@pytest.mark.parametrize("what", VIEWS)
def test_export_reads_back_equal(
    store: SessionStore, tmp_path: Path, what: str, suffix: str
) -> None:
    _needs_parquet(suffix)
    out = store.export(tmp_path / f"out{suffix}", what=what)
    assert out == tmp_path / f"out{suffix}"
    back = read_export(out)
    pd.testing.assert_frame_equal(back, getattr(store, what))
    # exact Python types of ids and labels, not just equal-looking values
    original = getattr(store, what)
    for column in ("item_id", "label", "version"):
        if column in original.columns:
            assert [type(v) for v in back[column]] == [type(v) for v in original[column]]
    assert [type(v) for v in back.index] == [type(v) for v in original.index]


def test_csv_is_readable_by_plain_pandas(tmp_path: Path) -> None:
    with SessionStore(tmp_path / "s.db", classes=["neg", "pos"]) as store:
        store.label("a", "pos")
        store.label("b", "neg")
        out = store.export(tmp_path / "labels.csv")
    plain = pd.read_csv(out)
    assert plain.columns.tolist() == [
        "item_id",
        "label",
        "annotator",
        "time",
        "item_id_type",
        "label_type",
    ]
    assert plain["label"].tolist() == ["pos", "neg"]
    assert plain["item_id_type"].tolist() == ["str", "str"]


def test_reopen_gives_identical_views(
    store: SessionStore, open_store: Callable[..., SessionStore]
) -> None:
    views = {what: getattr(store, what) for what in VIEWS}
    store.close()
    with open_store() as again:
        for what, frame in views.items():
            pd.testing.assert_frame_equal(getattr(again, what), frame)


def test_export_overwrites_atomically_and_leaves_no_temp_files(
    store: SessionStore, tmp_path: Path
) -> None:
    target = tmp_path / "out" / "labels.csv"
    target.parent.mkdir()
    target.write_text("old")
    store.export(target)
    assert target.read_text() != "old"
    assert [p.name for p in target.parent.iterdir()] == ["labels.csv"]


def test_export_rejects_unknown_suffix_and_view(store: SessionStore, tmp_path: Path) -> None:
    before = sorted(p.name for p in tmp_path.iterdir())
    with pytest.raises(InvalidInputError, match=r"end the file name with \.csv"):
        store.export(tmp_path / "out.xlsx")
    with pytest.raises(InvalidInputError, match=r"what='votes'.*\['labels', 'events'"):
        store.export(tmp_path / "out.csv", what="votes")
    with pytest.raises(StoreError, match="does not exist; create it first"):
        store.export(tmp_path / "missing" / "out.csv")
    assert sorted(p.name for p in tmp_path.iterdir()) == before


def test_read_export_of_a_missing_file(tmp_path: Path) -> None:
    with pytest.raises(StoreError, match="no such file"):
        read_export(tmp_path / "nope.csv")


def test_export_into_read_only_directory(
    store: SessionStore, tmp_path: Path, make_readonly: Callable[[Path], None]
) -> None:
    folder = tmp_path / "ro"
    folder.mkdir()
    make_readonly(folder)
    with pytest.raises(StoreError, match=r"cannot export.*Check that the directory is writable"):
        store.export(folder / "labels.csv")
    assert list(folder.iterdir()) == []


_IDS = st.lists(
    st.one_of(st.integers(-(2**63), 2**63 - 1), st.text(min_size=1, max_size=12)),
    min_size=1,
    max_size=12,
    unique_by=lambda v: (type(v), v),
)


@settings(max_examples=25, deadline=None)
@given(ids=_IDS, labels=st.lists(st.one_of(st.integers(-5, 5), st.text(min_size=1)), min_size=1))
def test_any_int_or_text_id_and_label_round_trips(ids: list[object], labels: list[object]) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        with SessionStore(Path(tmp) / "s.db") as store:
            for i, item in enumerate(ids):
                store.label(item, labels[i % len(labels)])
            frame = store.labels
            assert [(type(v), v) for v in frame.index] == [(type(v), v) for v in ids]
            out = store.export(Path(tmp) / "labels.csv")
        pd.testing.assert_frame_equal(read_export(out), frame)
        with SessionStore(Path(tmp) / "s.db") as again:
            pd.testing.assert_frame_equal(again.labels, frame)

"""Multi-label sessions on both backends: an answer is a set of classes (the empty set
means "none of these"), kept in class order, through views, undo, exports, copies,
claims, conflicts, statistics and agreement; the session kind is fixed and checked."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from store_helpers import apply_ops

from alwidgets.exceptions import (
    InvalidInputError,
    LabelConflictError,
    StoreMismatchError,
    UnknownLabelError,
)
from alwidgets.store import SessionStore, copy_session, read_export

TOPICS = ["politics", "economy", "sport"]


def _open_tags(open_store: Callable[..., SessionStore], **kwargs: Any) -> SessionStore:
    return open_store(classes=TOPICS, multi_label=True, **kwargs)


def test_answers_are_sets_in_class_order(
    open_store: Callable[..., SessionStore], check_views: Callable[[Any], None]
) -> None:
    with _open_tags(open_store, annotator="ana") as store:
        assert store.multi_label and store.classes == TOPICS
        store.label("n1", {"sport", "politics"})
        store.label("n2", ["economy"])
        store.label("n3", [])  # none of these
        store.label("n4", (t for t in ("sport", "economy")))  # any iterable
        store.label("n5", np.array(["politics"]))
        store.skip("n6")
        labels = store.labels["label"].to_dict()
        assert labels == {
            "n1": ("politics", "sport"),
            "n2": ("economy",),
            "n3": (),
            "n4": ("economy", "sport"),
            "n5": ("politics",),
        }
        assert all(type(c) is str for answer in labels.values() for c in answer)
        assert store.labels["label"].dtype == object
        state = store.state
        assert state.loc["n6", "action"] == "skip" and state.loc["n6", "label"] is None
        assert store.events["label"].tolist()[:3] == [("politics", "sport"), ("economy",), ()]
        matrix = store.label_matrix()
        assert list(matrix.columns) == TOPICS and matrix.dtypes.unique().tolist() == [np.int8]
        assert matrix.loc["n1"].tolist() == [1, 0, 1] and matrix.loc["n3"].tolist() == [0, 0, 0]
        assert store.stats()["per_class"] == {"politics": 2, "economy": 2, "sport": 2}
        check_views(store)
        store.label("n1", ["economy"])  # a new answer replaces the set
        assert store.labels.loc["n1", "label"] == ("economy",)
        check_views(store)
    with open_store() as again:  # the kind is adopted when reopened
        assert again.multi_label and again.labels.loc["n4", "label"] == ("economy", "sport")


def test_undo_gives_back_sets(open_store: Callable[..., SessionStore]) -> None:
    with _open_tags(open_store, annotator="ana") as store:
        store.label(1, ["sport"])
        store.label(1, ["politics", "economy"])
        undone = store.undo()
        assert undone is not None
        assert undone["label"] == ("politics", "economy")
        assert undone["restored"] == {"action": "label", "label": ("sport",)}
        assert store.labels.loc[1, "label"] == ("sport",)


def test_int_classes_and_lookalike_strings_stay_apart(
    open_store: Callable[..., SessionStore], tmp_path: Path
) -> None:
    with open_store(classes=[0, 1, "1"], multi_label=True, annotator="ana") as store:
        store.label("a", ["1", 0])
        store.label("b", [1])
        assert store.labels["label"].tolist() == [(0, "1"), (1,)]
        assert store.label_matrix().loc["a"].tolist() == [1, 0, 1]
        for layout in ("columns", "list"):
            for suffix in (".csv", ".parquet"):
                out = store.export(tmp_path / f"{layout}{suffix}", multi_label=layout)
                pd.testing.assert_frame_equal(read_export(out), store.labels)


BAD_SETS = [
    ("sport", InvalidInputError, "bare class 'sport'; pass \\['sport'\\]"),
    (7, InvalidInputError, "bare class 7"),
    (None, InvalidInputError, "labels is None"),
    ({"sport": 1}, InvalidInputError, "bare class"),
    (["sport", "sport"], InvalidInputError, "name 'sport' more than once"),
    (["sport", "chess"], UnknownLabelError, "label 'chess' is not one of"),
    ([1.5], InvalidInputError, "has type float"),
]


@pytest.mark.parametrize(("labels", "error", "match"), BAD_SETS, ids=[repr(b[0]) for b in BAD_SETS])
def test_bad_sets_write_nothing(
    open_store: Callable[..., SessionStore], labels: Any, error: type, match: str
) -> None:
    with _open_tags(open_store) as store:
        store.label(1, ["sport"])
        with pytest.raises(error, match=match):
            store.label(2, labels)
        assert len(store) == 1


@pytest.mark.parametrize("labels", [["a"], ("a",), {"a"}, []])
def test_a_set_in_a_single_label_session_is_refused(
    open_store: Callable[..., SessionStore], labels: Any
) -> None:
    with open_store(classes=["a", "b"]) as store:
        with pytest.raises(
            InvalidInputError, match=r"this session is single-label.*multi_label=True"
        ):
            store.label(1, labels)
        assert len(store) == 0 and not store.multi_label


def test_the_session_kind_is_fixed(target: Any, tmp_path: Path) -> None:
    with target.open(classes=["a", "b"], multi_label=True) as store:
        store.label(1, ["a"])
    with pytest.raises(StoreMismatchError, match=r"is a multi-label session.*multi_label=None"):
        target.open(multi_label=False)
    with target.open(multi_label=True) as store:
        assert store.labels["label"].tolist() == [("a",)]
    single = target.fresh()
    single.open(classes=["a", "b"]).close()
    with pytest.raises(StoreMismatchError, match="is a single-label session"):
        single.open(multi_label=True)
    with single.open() as store:
        assert not store.multi_label and len(store) == 0
    with pytest.raises(InvalidInputError, match="multi_label must be True, False or None"):
        target.open(multi_label="yes")


def test_a_new_multi_label_session_needs_classes(target: Any) -> None:
    fresh = target.fresh()
    with pytest.raises(InvalidInputError, match="a multi-label session needs its classes"):
        fresh.open(multi_label=True)
    if fresh.backend == "sqlite":
        assert not fresh.target.exists()  # nothing left behind
    with fresh.open(classes=["x"], multi_label=True) as store:  # so it can be made now
        assert store.multi_label


@pytest.mark.parametrize("suffix", [".csv", ".csv.gz", ".parquet"])
@pytest.mark.parametrize("layout", ["columns", "list"])
def test_exports_read_back_equal(
    open_store: Callable[..., SessionStore], tmp_path: Path, suffix: str, layout: str
) -> None:
    with _open_tags(open_store, annotator="ana") as store:
        store.label(1, ["sport", "politics"], shown_at=time.time() - 3)
        store.label("x", [])
        store.skip(2)
        store.unsure(3)
        store.label(4, ["economy"], annotator="bo")
        store.undo(annotator="bo")
        for what in ("labels", "state", "events"):
            frame = getattr(store, what)
            out = store.export(tmp_path / f"{what}{suffix}", what=what, multi_label=layout)
            pd.testing.assert_frame_equal(read_export(out), frame)


@pytest.mark.parametrize("layout", ["columns", "list"])
def test_an_empty_session_exports_and_reads_back(target: Any, tmp_path: Path, layout: str) -> None:
    with target.fresh().open(classes=TOPICS, multi_label=True) as store:
        for suffix in (".csv", ".parquet"):
            out = store.export(tmp_path / f"labels{suffix}", multi_label=layout)
            pd.testing.assert_frame_equal(read_export(out), store.labels)


def test_the_columns_layout_is_plain_to_other_tools(
    open_store: Callable[..., SessionStore], tmp_path: Path
) -> None:
    with _open_tags(open_store) as store:
        store.label(1, ["sport", "politics"])
        store.label(2, [])
        store.skip(3)
        out = store.export(tmp_path / "state.csv", what="state")  # "columns" by default
        listed = store.export(tmp_path / "labels.csv", multi_label="list")
        with pytest.raises(InvalidInputError, match="not a layout"):
            store.export(tmp_path / "x.csv", multi_label="matrix")
    plain = pd.read_csv(out)
    assert [c for c in plain.columns if c.startswith("label")] == [
        "label[politics]",
        "label[economy]",
        "label[sport]",
        "label_classes",
    ]
    assert plain["label[politics]"].tolist()[:2] == [1, 0]
    assert plain["label[sport]"].isna().tolist() == [False, False, True]  # the skip
    assert json.loads(plain["label_classes"].iloc[0]) == TOPICS
    assert pd.read_csv(listed)["label"].tolist() == ['["politics", "sport"]', "[]"]


def test_multi_label_is_refused_for_a_single_label_export(
    open_store: Callable[..., SessionStore], tmp_path: Path
) -> None:
    with open_store(classes=["a", "b"]) as store:
        store.label(1, "a")
        with pytest.raises(InvalidInputError, match="for multi-label sessions"):
            store.export(tmp_path / "l.csv", multi_label="list")


def test_copy_session_keeps_sets_and_kind(
    target: Any, tmp_path: Path, check_views: Callable[[Any], None]
) -> None:
    source = tmp_path / "tags.db"
    with SessionStore(source, classes=TOPICS, multi_label=True, annotator="ana") as store:
        store.label(1, ["sport"])
        store.label(2, ["politics", "economy"], annotator="bo")
        store.label(3, [])
        store.undo()
        before = {name: getattr(store, name) for name in ("events", "labels", "state")}
    middle = target.fresh()
    assert copy_session(source, middle.target, session=middle.session) == 4
    back = tmp_path / "back.db"
    copy_session(middle.target, back, session=middle.session)
    for where in (middle.open, lambda: SessionStore(back)):
        with where() as copy:
            assert copy.multi_label
            for name, frame in before.items():
                pd.testing.assert_frame_equal(getattr(copy, name), frame)
            check_views(copy)
    single = target.fresh()
    with (
        single.open(classes=TOPICS) as dst,
        pytest.raises(StoreMismatchError, match="is single-label, the source multi-label"),
    ):
        copy_session(source, dst)


def test_claims_conflicts_and_team_views(open_store: Callable[..., SessionStore]) -> None:
    with (
        _open_tags(open_store, annotator="ana") as ana,
        _open_tags(open_store, annotator="bo") as bo,
    ):
        assert ana.claim(range(4), 2, lease_seconds=60) == [0, 1]
        assert bo.claim(range(4), 2, lease_seconds=60) == [2, 3]
        ana.label(0, ["sport"], overlap=1, shown_at=time.time() - 2)
        with pytest.raises(LabelConflictError) as info:
            bo.label(0, ["politics"], overlap=1)
        event = bo.events.loc[info.value.event_id]
        assert (event["action"], event["label"]) == ("conflict", ("politics",))
        changes = bo.changes_since(0)
        assert changes["label"].tolist() == [("sport",), ("politics",)]
        stats = bo.annotator_stats()
        assert stats["n_labels"].to_dict() == {"ana": 1, "bo": 0}
        assert stats.loc["bo", "n_conflicts"] == 1
        assert bo.agreement()["n_items"].tolist() == [1]  # the conflict is a judgement


def test_agreement_is_the_mean_per_class_kappa(open_store: Callable[..., SessionStore]) -> None:
    """Hand-computed: per class, kappa of the yes/no answers on the shared items.

    ana/bo on 6 items. politics: ana 110001, bo 100001: p_o = 5/6, p_e = 1/2, kappa 2/3.
    economy: identical with variation: 1. sport: ana 000011, bo 000110: p_o = 2/3,
    p_e = 5/9, kappa 1/4. Mean (2/3 + 1 + 1/4) / 3 = 23/36; 3 of 6 sets identical.
    ana/cy on items 1-2: politics yes/yes throughout (undefined, left out of the
    mean), economy ana 01 cy 00: kappa 0, sport no/no (undefined): mean 0.
    """
    ana = [["politics"], ["politics", "economy"], ["economy"], [], ["sport"], ["politics", "sport"]]
    bo = [["politics"], ["economy"], ["economy"], ["sport"], ["sport"], ["politics"]]
    cy = [["politics"], ["politics"]]
    with _open_tags(open_store) as store:
        for name, answers in (("ana", ana), ("bo", bo), ("cy", cy)):
            for item, answer in enumerate(answers, start=1):
                store.label(item, answer, annotator=name)
        frame = store.agreement().set_index(["annotator_a", "annotator_b"])
    assert list(frame.columns) == [
        "n_items",
        "agreement",
        "kappa",
        "kappa[politics]",
        "kappa[economy]",
        "kappa[sport]",
    ]
    pair = frame.loc[("ana", "bo")]
    assert pair["n_items"] == 6 and pair["agreement"] == pytest.approx(0.5)
    assert pair["kappa[politics]"] == pytest.approx(2 / 3)
    assert pair["kappa[economy]"] == pytest.approx(1.0)
    assert pair["kappa[sport]"] == pytest.approx(1 / 4)
    assert pair["kappa"] == pytest.approx(23 / 36)
    other = frame.loc[("ana", "cy")]
    assert np.isnan(other["kappa[politics]"]) and np.isnan(other["kappa[sport]"])
    assert other["kappa[economy]"] == pytest.approx(0.0) and other["kappa"] == pytest.approx(0.0)


_SET_OPS = st.lists(
    st.tuples(
        st.sampled_from(["label", "label", "skip", "unsure", "undo"]),
        st.one_of(st.integers(0, 4), st.sampled_from(["0", "a"])),
        st.sets(st.sampled_from(TOPICS)).map(sorted),
        st.sampled_from(["ann", "bo"]),
        st.booleans(),  # read the views after this op (then patched incrementally)
    ),
    max_size=30,
)


@settings(
    max_examples=15,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(ops=_SET_OPS)
def test_views_match_a_replay_of_any_log(
    target: Any, check_views: Callable[[Any], None], ops: list[tuple[Any, ...]]
) -> None:
    with target.fresh().open(classes=TOPICS, multi_label=True) as store:
        apply_ops(store, ops, check_views)
        check_views(store)

"""SessionStore: writes, undo, the pandas views, resuming, threads."""

from __future__ import annotations

import datetime as dt
import multiprocessing
import sqlite3
import threading
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

from alwidgets import SessionStore as PublicSessionStore
from alwidgets.exceptions import InvalidInputError, StoreError, UnknownLabelError
from alwidgets.store import NothingToUndoWarning, SessionStore
from alwidgets.store._replay import _PATCH_LIMIT


@pytest.fixture
def path(tmp_path: Path) -> Path:
    return tmp_path / "session.db"


def test_public_name_is_the_store() -> None:
    assert PublicSessionStore is SessionStore


def test_write_is_committed_when_the_call_returns(path: Path) -> None:
    with SessionStore(path, classes=["a", "b"], annotator="ann") as store:
        event_id = store.label(5, "b")
        # a second, independent connection only sees committed data
        other = sqlite3.connect(path)
        row = other.execute(
            "SELECT action, item_id, label, annotator FROM events WHERE id = ?", (event_id,)
        ).fetchone()
        other.close()
    assert row == ("label", 5, "b", "ann")


def test_file_is_wal_with_full_sync(path: Path) -> None:
    with SessionStore(path) as store:
        pragmas = store._run(
            lambda conn: [
                conn.execute(f"PRAGMA {name}").fetchone()[0]
                for name in ("journal_mode", "synchronous", "busy_timeout")
            ]
        )
    assert pragmas[:2] == ["wal", 2]  # FULL
    assert pragmas[2] >= 1000


def test_events_hold_every_field_with_typed_columns(
    open_store: Callable[..., SessionStore],
) -> None:
    shown = dt.datetime.now(dt.UTC) - dt.timedelta(seconds=3)
    with open_store(classes=["cat", "dog"], annotator="ann") as store:
        store.label(
            "img1", "cat", shown_at=shown, model_version=4, score=0.8, rank=2, strategy="margin"
        )
        store.skip(2, annotator="bo", score=float("nan"))
        store.unsure("img3")
        store.undo(annotator="bo")
        events = store.events
    assert events.index.name == "event_id"
    assert events.index.tolist() == [1, 2, 3, 4]
    assert events["action"].tolist() == ["label", "skip", "unsure", "undo"]
    assert events["item_id"].tolist() == ["img1", 2, "img3", 2]
    assert events["annotator"].tolist() == ["ann", "bo", "ann", "bo"]
    first = events.iloc[0]
    assert first["label"] == "cat" and first["strategy"] == "margin"
    assert int(first["model_version"]) == 4 and int(first["rank"]) == 2
    assert first["score"] == pytest.approx(0.8)
    assert first["shown_at"] == pd.Timestamp(shown).floor("us")
    assert 3.0 <= first["seconds"] < 60.0
    assert pd.isna(events.iloc[1]["score"])  # NaN score = no score
    assert pd.isna(events.iloc[2]["seconds"])  # no shown_at, no duration
    assert events["undoes"].tolist()[-1] == 2
    assert events["undone"].tolist() == [False, True, False, False]
    dtypes = events.dtypes.astype(str).to_dict()
    assert dtypes["shown_at"] == dtypes["answered_at"] == "datetime64[us, UTC]"
    assert dtypes["score"] == dtypes["seconds"] == "float64"
    assert dtypes["rank"] == dtypes["undoes"] == "Int64"
    assert dtypes["undone"] == "bool"
    assert dtypes["action"] == dtypes["annotator"] == dtypes["label"] == "str"
    assert dtypes["item_id"] == "object"  # ints and strings mixed


def test_item_id_column_is_int64_when_all_ids_are_ints(
    open_store: Callable[..., SessionStore],
) -> None:
    with open_store() as store:
        store.label(np.int64(3), np.int32(1))
        store.label(4, 0)
        assert store.events["item_id"].dtype == np.int64
        assert store.labels.index.dtype == np.int64
        assert store.labels["label"].dtype == np.int64
        assert [type(v) for v in store.labels.index.tolist()] == [int, int]


def test_int_and_str_ids_stay_distinct(open_store: Callable[..., SessionStore]) -> None:
    with open_store(classes=["x", "y"]) as store:
        store.label(1, "x")
        store.label("1", "y")
        labels = store.labels
    assert labels.index.tolist() == [1, "1"]
    assert [type(v) for v in labels.index] == [int, str]
    assert labels["label"].tolist() == ["x", "y"]


def test_labels_last_label_wins_and_keeps_labeling_order(
    open_store: Callable[..., SessionStore], check_views: Callable[[Any], None]
) -> None:
    with open_store(classes=["a", "b"], annotator="ann") as store:
        store.label(1, "a")
        store.label(2, "a")
        store.label(1, "b", annotator="bo")  # relabel by someone else: last writer wins
        labels = store.labels
        check_views(store)
        assert len(store.events) == 3  # nothing overwritten
    assert labels.index.tolist() == [2, 1]
    assert labels.loc[1, "label"] == "b" and labels.loc[1, "annotator"] == "bo"
    assert list(labels.columns) == ["label", "annotator", "time"]
    assert str(labels["time"].dtype) == "datetime64[us, UTC]"


def test_undo_steps_back_one_action_at_a_time(
    open_store: Callable[..., SessionStore], check_views: Callable[[Any], None]
) -> None:
    with open_store(classes=["a", "b"], annotator="ann") as store:
        store.label(1, "a")
        store.label(1, "b")
        store.skip(2)
        first = store.undo()
        assert first is not None and first["action"] == "skip" and first["item_id"] == 2
        assert 2 not in store.state.index
        second = store.undo()
        assert second is not None and second["label"] == "b"
        assert store.labels.loc[1, "label"] == "a"
        third = store.undo()
        assert third is not None and third["label"] == "a"
        assert len(store.labels) == 0
        assert first["undo_event_id"] < second["undo_event_id"] < third["undo_event_id"]
        check_views(store)
        assert store.events["action"].tolist().count("undo") == 3


def test_undo_restores_every_field_of_the_earlier_events(
    open_store: Callable[..., SessionStore], check_views: Callable[[Any], None]
) -> None:
    """After an undo, the label row and the state row show the fields of the events
    that now set them (which may be two different events by different people)."""
    with open_store(classes=["a", "b"]) as store:
        store.label(1, "a", annotator="ann")
        store.unsure(1, annotator="bo")
        store.label(1, "b", annotator="cy")
        store.undo(annotator="cy")
        events = store.events
        labels, state = store.labels, store.state
        check_views(store)
    assert labels.loc[1, ["label", "annotator"]].tolist() == ["a", "ann"]
    assert labels.loc[1, "time"] == events.loc[1, "answered_at"]
    assert state.loc[1, ["action", "annotator"]].tolist() == ["unsure", "bo"]
    assert pd.isna(state.loc[1, "label"])
    assert state.loc[1, "time"] == events.loc[2, "answered_at"]
    with open_store() as again:  # read from scratch: the same rows
        pd.testing.assert_frame_equal(again.labels, labels)
        pd.testing.assert_frame_equal(again.state, state)


def test_undo_only_touches_that_annotator(open_store: Callable[..., SessionStore]) -> None:
    with open_store(classes=["a", "b"], annotator="ann") as store:
        store.label(1, "a")
        store.label(2, "b", annotator="bo")
        undone = store.undo()  # ann's, although bo acted last
        assert undone is not None and undone["item_id"] == 1 and undone["annotator"] == "ann"
        assert store.labels.index.tolist() == [2]
        undone = store.undo(annotator="bo")
        assert undone is not None and undone["item_id"] == 2


def test_undo_with_nothing_to_undo_warns_and_writes_nothing(
    open_store: Callable[..., SessionStore],
) -> None:
    with open_store(annotator="ann") as store:
        with pytest.warns(NothingToUndoWarning, match="nothing to undo for annotator 'ann'"):
            assert store.undo() is None
        store.label(1, "x")
        store.undo()
        with pytest.warns(NothingToUndoWarning, match="already"):
            assert store.undo() is None
        assert len(store) == 2


def test_undo_returns_the_event_with_datetimes(open_store: Callable[..., SessionStore]) -> None:
    with open_store(annotator="ann") as store:
        event_id = store.label("x", "y", shown_at=time.time() - 1, model_version="v2", rank=1)
        undone = store.undo()
    assert undone is not None
    assert undone["event_id"] == event_id and undone["model_version"] == "v2"
    assert isinstance(undone["answered_at"], dt.datetime)
    assert undone["answered_at"].tzinfo is not None
    assert undone["shown_at"] < undone["answered_at"]


def test_undo_says_which_action_is_live_again(open_store: Callable[..., SessionStore]) -> None:
    with open_store(classes=["a", "b"], annotator="ann") as store:
        store.label(1, "a")
        store.skip(1)
        store.label(1, "b")
        store.unsure(2)
        store.label(3, "a", annotator="other")
        store.label(3, "b")
        steps = [store.undo() for _ in range(3)]
        state = store.state
    restored = [(e["item_id"], e["restored"]) for e in steps]  # type: ignore[index]
    assert restored == [
        (3, {"action": "label", "label": "a"}),  # the other annotator's label is live again
        (2, None),  # unanswered again
        (1, {"action": "skip", "label": None}),
    ]
    # the same answer as reading the whole state
    assert state.loc[1, "action"] == "skip" and state.loc[3, "label"] == "a"
    assert 2 not in state.index


def test_state_reports_the_last_live_action(open_store: Callable[..., SessionStore]) -> None:
    with open_store(classes=["a", "b"]) as store:
        store.label(1, "a")
        store.skip(1)
        store.unsure(2)
        store.label(3, "b")
        state = store.state
        labels = store.labels
    assert state["action"].to_dict() == {1: "skip", 2: "unsure", 3: "label"}
    assert pd.isna(state.loc[1, "label"]) and state.loc[3, "label"] == "b"
    # labels = last live *label* event, even if the item was skipped afterwards
    assert labels["label"].to_dict() == {1: "a", 3: "b"}


def test_events_are_append_only_in_the_file(path: Path) -> None:
    with SessionStore(path) as store:
        store.label(1, "x")
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("UPDATE events SET label = 'y'")
    with pytest.raises(sqlite3.IntegrityError, match="append-only"):
        conn.execute("DELETE FROM events")
    conn.close()


def test_an_event_can_be_undone_only_once(path: Path) -> None:
    with SessionStore(path, annotator="ann") as store:
        store.label(1, "x")
        store.undo()
    conn = sqlite3.connect(path)
    with pytest.raises(sqlite3.IntegrityError, match="UNIQUE"):
        conn.execute(
            "INSERT INTO events (action, item_id, annotator, answered_at, undoes) "
            "VALUES ('undo', 1, 'ann', 0, 1)"
        )
    conn.close()


def test_annotator_defaults_to_the_hub_user_else_the_login(
    open_store: Callable[..., SessionStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    import getpass

    from alwidgets.store import default_annotator

    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)
    login = getpass.getuser()
    assert default_annotator() == login
    monkeypatch.setenv("JUPYTERHUB_USER", "   ")  # set but blank: not a name
    assert default_annotator() == login
    monkeypatch.setenv("JUPYTERHUB_USER", "ana")
    with open_store() as store:
        assert store.annotator == "ana" == default_annotator()
        store.label(1, "x")
        store.label(2, "x", annotator="guest")
        assert store.labels["annotator"].tolist() == ["ana", "guest"]
    monkeypatch.delenv("JUPYTERHUB_USER")
    with open_store() as store:  # the name is decided when the store is opened
        assert store.annotator == login
        store.label(3, "x")
        assert store.labels["annotator"].tolist() == ["ana", "guest", login]


def test_annotator_and_classes_are_validated_and_protected(
    open_store: Callable[..., SessionStore],
) -> None:
    with open_store(classes=["a", "b"], annotator="ann") as store:
        store.annotator = "bo"
        store.label(1, "a")
        assert store.labels.loc[1, "annotator"] == "bo"
        with pytest.raises(InvalidInputError, match="non-empty str"):
            store.annotator = ""
        assert store.annotator == "bo"
        classes = store.classes
        assert classes is not None
        classes.append("c")  # a copy: the session's classes do not change
        assert store.classes == ["a", "b"]
        with pytest.raises(UnknownLabelError):
            store.label(2, "c")


def _label_in_child(store: SessionStore, queue: Any) -> None:
    queue.put(store.label("from-child", "b"))
    store.close()


def test_a_forked_child_gets_its_own_connection(open_store: Callable[..., SessionStore]) -> None:
    with open_store(classes=["a", "b"]) as store:
        store.label("from-parent", "a")
        ctx = multiprocessing.get_context("fork")
        queue = ctx.Queue()
        child = ctx.Process(target=_label_in_child, args=(store, queue))
        child.start()
        child.join(timeout=60)
        assert child.exitcode == 0
        event_id = queue.get(timeout=5)
        store.label("parent-again", "a")  # the parent's connection still works
        assert store.labels.index.tolist() == ["from-parent", "from-child", "parent-again"]
        assert store.labels.loc["from-child", "label"] == "b"
        assert event_id == 2


def test_reopening_resumes_the_session(open_store: Callable[..., SessionStore]) -> None:
    with open_store(classes=["a", "b"], annotator="ann") as store:
        store.label(1, "a")
        store.log_model(1, 1, accuracy=0.5)
        before = (store.session_id, store.labels, store.events, store.models)
    with open_store() as again:
        assert again.classes == ["a", "b"]
        assert again.session_id == before[0]
        pd.testing.assert_frame_equal(again.labels, before[1])
        pd.testing.assert_frame_equal(again.events, before[2])
        pd.testing.assert_frame_equal(again.models, before[3])
        again.label(2, "b")
        assert again.labels.index.tolist() == [1, 2]


def test_classes_in_another_order_are_the_same_session(
    open_store: Callable[..., SessionStore],
) -> None:
    open_store(classes=["a", "b"]).close()
    with open_store(classes=["b", "a"]) as store:
        assert store.classes == ["a", "b"]


def test_classes_can_be_added_to_a_store_without_classes(
    open_store: Callable[..., SessionStore],
) -> None:
    with open_store() as store:
        store.label(1, "a")
    with open_store(classes=["a", "b"]) as store:
        assert store.classes == ["a", "b"]
    with open_store() as store:
        assert store.classes == ["a", "b"]


def test_closed_store_says_how_to_reopen(open_store: Callable[..., SessionStore]) -> None:
    store = open_store()
    store.close()
    store.close()  # twice is fine
    assert store.closed
    with pytest.raises(StoreError, match="closed; open it again"):
        store.label(1, "x")
    with pytest.raises(StoreError, match="closed"):
        _ = store.labels
    assert "closed" in repr(store)


def test_returned_frames_are_copies(open_store: Callable[..., SessionStore]) -> None:
    with open_store() as store:
        store.label(1, "x")
        labels = store.labels
        labels.loc[1, "label"] = "tampered"
        assert store.labels.loc[1, "label"] == "x"


def test_views_see_writes_from_another_store_object(
    open_store: Callable[..., SessionStore],
) -> None:
    with open_store(annotator="ann") as one, open_store(annotator="bo") as two:
        one.label(1, "x")
        assert one.labels.index.tolist() == [1]  # now cached
        two.label(2, "y")
        assert one.labels.index.tolist() == [1, 2]
        two.undo()
        assert one.labels.index.tolist() == [1]
        assert two.session_id == one.session_id


@pytest.mark.parametrize("n_new", [3, _PATCH_LIMIT + 50])  # patched, or rebuilt
def test_views_catch_up_with_many_writes_between_reads(
    open_store: Callable[..., SessionStore], n_new: int
) -> None:
    with open_store(annotator="ann") as reader, open_store(annotator="bo") as other:
        for i in range(50):
            reader.label(i, "a")
        views = [reader.labels, reader.state, reader.events]
        for i in range(n_new):  # n_new distinct items, some relabeled, skipped or undone
            other.label(i, "b" if i % 2 else 7)
            if i % 5 == 0:
                other.skip(f"s{i}")
            if i % 7 == 0:
                other.undo()
        fresh = open_store()
        for name, before in zip(("labels", "state", "events"), views, strict=True):
            after = getattr(reader, name)
            pd.testing.assert_frame_equal(after, getattr(fresh, name))
            assert len(after) >= len(before)
        fresh.close()


def test_background_thread_can_read_while_the_main_thread_writes(
    open_store: Callable[..., SessionStore],
) -> None:
    errors: list[BaseException] = []
    seen: list[int] = []
    stop = threading.Event()
    with open_store(classes=["a", "b"]) as store:

        def reader() -> None:
            try:
                while not stop.is_set():
                    seen.append(len(store.labels))
                    store.stats()
            except BaseException as err:
                errors.append(err)

        thread = threading.Thread(target=reader)
        thread.start()
        for i in range(200):
            store.label(i, "ab"[i % 2])
        stop.set()
        thread.join(timeout=30)
        assert not errors
        assert seen == sorted(seen)  # labels only grow here
        assert len(store.labels) == 200


def test_log_model_keeps_the_learning_curve(open_store: Callable[..., SessionStore]) -> None:
    with open_store() as store:
        store.log_model(1, 10, accuracy=0.6, f1=np.float32(0.5), note="warm start")
        store.log_model("v2", 20, accuracy=0.7, f1=float("nan"))
        models = store.models
    assert models["version"].tolist() == [1, "v2"]
    assert models["n_labels"].tolist() == [10, 20]
    assert models["accuracy"].tolist() == [0.6, 0.7]
    assert models["f1"].iloc[0] == pytest.approx(0.5) and np.isnan(models["f1"].iloc[1])
    assert models["note"].iloc[0] == "warm start" and pd.isna(models["note"].iloc[1])
    assert str(models["time"].dtype) == "datetime64[us, UTC]"


def test_empty_store_views_have_the_documented_columns(
    open_store: Callable[..., SessionStore],
) -> None:
    with open_store() as store:
        assert list(store.labels.columns) == ["label", "annotator", "time"]
        assert list(store.state.columns) == ["action", "label", "annotator", "time"]
        assert len(store.events) == 0 and "item_id" in store.events.columns
        assert list(store.models.columns) == ["version", "n_labels", "time"]
        assert len(store.agreement()) == 0
        assert store.stats()["n_events"] == 0


def test_repr_names_path_classes_and_size(path: Path) -> None:
    with SessionStore(path, classes=["a"], annotator="ann") as store:
        store.label(1, "a")
        assert repr(store) == (
            f"SessionStore({str(path)!r}, classes=['a'], annotator='ann', 1 events)"
        )
    tags = path.with_name("tags.db")
    with SessionStore(tags, classes=["a", "b"], annotator="ann", multi_label=True) as store:
        assert repr(store) == (
            f"SessionStore({str(tags)!r}, classes=['a', 'b'], multi_label=True, "
            "annotator='ann', 0 events)"
        )


_ITEMS = st.one_of(st.integers(-3, 3), st.sampled_from(["0", "1", "a", "é", "long id"]))
_OPS = st.lists(
    st.tuples(
        st.sampled_from(["label", "label", "skip", "unsure", "undo"]),
        _ITEMS,
        st.sampled_from(["neg", "pos", 1]),
        st.sampled_from(["ann", "bo"]),
        st.booleans(),  # read the views after this action (exercises the patching path)
    ),
    max_size=25,
)
# check_views is a stateless function, so sharing it across examples is safe
_SAFE = [HealthCheck.too_slow, HealthCheck.function_scoped_fixture]


@settings(max_examples=30, deadline=None, suppress_health_check=_SAFE)
@given(ops=_OPS)
def test_views_match_a_replay_of_the_log_and_survive_reopening(
    target: Any,
    check_views: Callable[[Any], None],
    ops: list[tuple[str, Any, Any, str, bool]],
) -> None:
    where = target.fresh()  # one session per example
    with where.open(classes=["neg", "pos", 1]) as store:
        apply_ops(store, ops, check_views)
        check_views(store)
        views = {name: getattr(store, name) for name in ("labels", "state", "events")}
        agreement = store.agreement()
    with where.open() as again:  # a fresh object computes everything from scratch
        for name, frame in views.items():
            pd.testing.assert_frame_equal(getattr(again, name), frame)
        pd.testing.assert_frame_equal(again.agreement(), agreement)

"""stats(), annotator_stats(), last_event_id() and agreement(): counts, rates, kappa."""

from __future__ import annotations

import contextlib
import sqlite3
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from alwidgets._utils import cohen_kappa
from alwidgets.store import SessionStore


def test_stats_counts(open_store: Callable[..., SessionStore]) -> None:
    with open_store(classes=["a", "b"], annotator="ann") as store:
        now = time.time()
        for i, label in enumerate("aabab"):
            store.label(i, label, shown_at=now - 8.0)
        store.label(0, "b", annotator="bo", shown_at=time.time() - 2.0)
        store.skip(10)
        store.unsure(11)
        store.skip(12)
        store.undo()  # ann's skip of 12
        stats = store.stats()
    assert stats["n_events"] == 10
    assert stats["n_labels"] == 6 and stats["n_labeled"] == 5
    assert stats["n_skipped"] == 1 and stats["n_unsure"] == 1 and stats["n_undo"] == 1
    assert stats["n_items"] == 7
    # item 0: ann said a, bo said b later -> b counts once
    assert stats["per_class"] == {"b": 3, "a": 2}
    assert stats["per_annotator"] == {"ann": 5, "bo": 1}
    # median of (8, 8, 8, 8, 8, 2) plus the few ms each write takes
    assert 8.0 <= stats["median_seconds_per_label"] < 9.0
    assert stats["active_minutes"] > 0
    assert stats["labels_per_minute"] == pytest.approx(6 / stats["active_minutes"])


def test_breaks_do_not_count_as_active_time(tmp_path: Path) -> None:
    path = tmp_path / "s.db"
    SessionStore(path).close()
    # an answer from an hour ago (written as another session would have)
    an_hour_ago = time.time() - 3600
    conn = sqlite3.connect(path)
    conn.execute(
        "INSERT INTO events (action, item_id, label, annotator, shown_at, answered_at) "
        "VALUES ('label', 1, 'x', 'ann', ?, ?)",
        (an_hour_ago - 5, an_hour_ago),
    )
    conn.commit()
    conn.close()
    with SessionStore(path, annotator="ann") as store:
        store.label(2, "x", shown_at=time.time() - 4.0)  # after an hour's break
        store.label(3, "x")  # no shown_at: costs the gap since the previous answer
        stats = store.stats()
        # 5 s + 4 s (not the hour in between) + a few ms
        assert 9.0 / 60 <= stats["active_minutes"] < 10.0 / 60
        assert stats["labels_per_minute"] == pytest.approx(3 / stats["active_minutes"])
        store.idle_seconds = 4.5  # now the 5 s answer is a break too
        assert 4.0 / 60 <= store.stats()["active_minutes"] < 4.5 / 60


def test_batch_answers_share_their_shown_at(open_store: Callable[..., SessionStore]) -> None:
    with open_store(annotator="ann") as store:
        shown = time.time() - 6.0  # one batch of 3 cards shown 6 s ago
        for i in range(3):
            store.label(i, "x", shown_at=shown)
        stats = store.stats()
    # 6 s for the first answer, then only the ms between the answers
    assert 6.0 / 60 <= stats["active_minutes"] < 7.0 / 60


def test_rates_are_nan_without_timing(open_store: Callable[..., SessionStore]) -> None:
    with open_store() as store:
        store.label(1, "x")
        stats = store.stats()
    assert np.isnan(stats["median_seconds_per_label"])
    assert np.isnan(stats["labels_per_minute"])


def test_agreement_per_pair(open_store: Callable[..., SessionStore]) -> None:
    ann = ["a", "a", "b", "b", "a", "b"]
    bo = ["a", "b", "b", "b", "a", "a"]
    cy = ["a", "a", "b"]
    with open_store(classes=["a", "b"]) as store:
        for i, (x, y) in enumerate(zip(ann, bo, strict=True)):
            store.label(i, "b" if x == "a" else "a", annotator="ann")  # later corrected:
            store.label(i, x, annotator="ann")  # only the latest label counts
            store.label(i, y, annotator="bo")
        for i, z in enumerate(cy):
            store.label(i, z, annotator="cy")
        store.label(99, "a", annotator="dee")  # shares no item: no pair row
        frame = store.agreement()
    assert frame[["annotator_a", "annotator_b"]].values.tolist() == [
        ["ann", "bo"],
        ["ann", "cy"],
        ["bo", "cy"],
    ]
    assert frame["n_items"].tolist() == [6, 3, 3]
    assert frame["agreement"].tolist() == pytest.approx([4 / 6, 1.0, 2 / 3])
    expected = [
        cohen_kappa_score(ann, bo),
        cohen_kappa_score(ann[:3], cy),
        cohen_kappa_score(bo[:3], cy),
    ]
    assert frame["kappa"].tolist() == pytest.approx(expected)


def test_undone_labels_do_not_count_for_agreement(open_store: Callable[..., SessionStore]) -> None:
    with open_store() as store:
        store.label(1, "a", annotator="ann")
        store.label(1, "b", annotator="bo")
        store.undo(annotator="bo")
        assert len(store.agreement()) == 0


def test_kappa_is_nan_when_undefined() -> None:
    assert np.isnan(cohen_kappa(["a", "a"], ["a", "a"]))
    assert np.isnan(cohen_kappa([], []))


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.sampled_from([0, 1, "x"]), st.sampled_from([0, 1, "x"])), min_size=1))
def test_kappa_matches_scikit_learn(pairs: list[tuple[object, object]]) -> None:
    a = [str(p[0]) for p in pairs]
    b = [str(p[1]) for p in pairs]
    ours = cohen_kappa([p[0] for p in pairs], [p[1] for p in pairs])
    with np.errstate(all="ignore"):
        import warnings

        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            theirs = cohen_kappa_score(a, b)
    if np.isnan(theirs):
        assert np.isnan(ours)
    else:
        assert ours == pytest.approx(theirs)


# ------------------------------------------------------- annotator_stats, last_event_id
_STATS_OPS = st.lists(
    st.tuples(
        st.sampled_from(["label", "label", "checked", "skip", "unsure", "undo"]),
        st.integers(0, 5),
        st.sampled_from(["a", "b"]),
        st.sampled_from(["ann", "bo", "cy"]),
        st.sampled_from([None, 0.5, 3.0, 700.0]),  # shown this long ago
        st.booleans(),  # read annotator_stats() after this op (then patched incrementally)
    ),
    max_size=25,
)


def _per_annotator_oracle(store: SessionStore) -> dict[str, dict[str, float]]:
    """stats() of each annotator's own events: the slow route annotator_stats() replaces."""
    from alwidgets.store import _views

    events, labels, state = store.events, store.labels, store.state
    out = {}
    for name in sorted(set(events["annotator"])):
        own = _views.stats_dict(events[events["annotator"] == name], labels, state, 600.0)
        out[name] = {
            "n_labels": own["n_labels"],
            "n_skipped": own["n_skipped"],
            "n_unsure": own["n_unsure"],
            "n_conflicts": own["n_conflicts"],
            "active_minutes": own["active_minutes"],
            "labels_per_minute": own["labels_per_minute"],
            "median_seconds_per_label": own["median_seconds_per_label"],
        }
    return out


@settings(
    max_examples=20,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
)
@given(ops=_STATS_OPS)
def test_annotator_stats_are_the_stats_of_each_annotator(
    target: Any, ops: list[tuple[Any, ...]]
) -> None:
    import warnings

    from alwidgets.exceptions import LabelConflictError
    from alwidgets.store import NothingToUndoWarning

    with target.fresh().open(classes=["a", "b"]) as store:
        for action, item, label, who, ago, read in ops:
            shown = None if ago is None else time.time() - ago
            with warnings.catch_warnings(), contextlib.suppress(LabelConflictError):
                warnings.simplefilter("ignore", NothingToUndoWarning)
                if action == "undo":
                    store.undo(annotator=who)
                elif action in ("label", "checked"):
                    overlap = 1 if action == "checked" else None
                    store.label(item, label, annotator=who, shown_at=shown, overlap=overlap)
                else:
                    getattr(store, action)(item, annotator=who, shown_at=shown)
            if read:
                store.annotator_stats()
        got = store.annotator_stats()
        want = _per_annotator_oracle(store)
    assert got.index.tolist() == sorted(want)
    for name, row in want.items():
        for column, value in row.items():
            # (the views round times to microseconds, the tally does not)
            want_value = pytest.approx(value, rel=1e-3, abs=1e-5, nan_ok=True)
            assert got.loc[name, column] == want_value, column


def test_annotator_stats_follow_other_writers_and_idle_changes(
    open_store: Callable[..., SessionStore],
) -> None:
    with open_store(annotator="ana") as ana, open_store(annotator="bo") as bo:
        assert ana.annotator_stats().empty
        assert list(ana.annotator_stats().columns) == [
            "n_labels",
            "n_skipped",
            "n_unsure",
            "n_conflicts",
            "active_minutes",
            "labels_per_minute",
            "median_seconds_per_label",
        ]
        ana.label(1, "x", shown_at=time.time() - 5.0)
        first = ana.annotator_stats()
        assert first.loc["ana", "n_labels"] == 1
        bo.label(2, "x", shown_at=time.time() - 20.0)
        bo.label(3, "x", shown_at=time.time() - 40.0)
        bo.undo()  # the 40 s one
        frame = ana.annotator_stats()
        assert frame["n_labels"].to_dict() == {"ana": 1, "bo": 1}
        assert 20.0 <= frame.loc["bo", "median_seconds_per_label"] < 21.0
        assert 5.0 / 60 <= frame.loc["ana", "active_minutes"] < 6.0 / 60
        ana.idle_seconds = 4.0  # 5 s is a break now: recounted, not patched
        assert ana.annotator_stats().loc["ana", "active_minutes"] < 1.0 / 60
        assert first.loc["ana", "n_labels"] == 1  # an earlier frame is a copy


def test_last_event_id_is_the_newest_event_by_anyone(
    open_store: Callable[..., SessionStore],
) -> None:
    with open_store(annotator="ana") as ana, open_store(annotator="bo") as bo:
        assert ana.last_event_id() == 0
        ana.label(1, "x")
        last = bo.label(2, "x")
        assert ana.last_event_id() == last == int(ana.events.index.max())
        bo.undo()
        assert ana.last_event_id() == last + 1
        assert ana.changes_since(ana.last_event_id()).empty

"""Claims enforced where answers are written, on both backends: ``label(..., overlap=k)``
records a conflict instead of a (k+1)-th annotator's label, a write renews its writer's
live leases, a label that fills an item ends the others' leases on it."""

from __future__ import annotations

import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest

from alwidgets.exceptions import ALWidgetsError, InvalidInputError, LabelConflictError
from alwidgets.store import SessionStore, _keys, copy_session, read_export


def _lease(store: SessionStore, item: Any, who: str) -> float | None:
    """When ``who``'s live lease on ``item`` expires (epoch seconds), or None."""
    claims = store.claims
    rows = claims[(claims["item_id"] == item) & (claims["annotator"] == who)]
    return None if rows.empty else float(rows["expires"].iloc[0].timestamp())


def test_a_label_after_overlap_others_is_a_conflict_event(
    open_store: Callable[..., SessionStore], check_views: Callable[[Any], None]
) -> None:
    with open_store(classes=["x", "y"], annotator="ana") as ana, open_store(annotator="bo") as bo:
        first = ana.label(7, "x", overlap=1)
        with pytest.raises(LabelConflictError) as info:
            bo.label(7, "y", overlap=1, rank=2, strategy="margin")
        err = info.value
        assert isinstance(err, ALWidgetsError) and isinstance(err, RuntimeError)
        assert (err.item_id, err.others, err.event_id) == (7, ["ana"], first + 1)
        assert str(err) == (
            f"item 7 was labeled by ana meanwhile (overlap=1): your answer is kept as "
            f"conflict event #{first + 1}, not as a label."
        )
        event = bo.events.loc[err.event_id]  # the answer is kept, with its context
        assert (event["action"], event["label"], event["annotator"]) == ("conflict", "y", "bo")
        assert (event["rank"], event["strategy"]) == (2, "margin")
        assert bo.labels["label"].to_dict() == {7: "x"}  # not a label ...
        assert bo.state.loc[7, "annotator"] == "ana"  # ... nor a state
        assert bo.stats()["n_conflicts"] == 1 and bo.stats()["n_labels"] == 1
        check_views(bo)
        # the same annotator may change their own label; a third one may not add one
        assert ana.label(7, "y", overlap=1) == err.event_id + 1
        with pytest.raises(LabelConflictError, match="labeled by ana meanwhile"):
            bo.label(7, "x", overlap=1)
        assert bo.labels["label"].to_dict() == {7: "y"}


def test_overlap_k_takes_k_annotators_then_conflicts(
    open_store: Callable[..., SessionStore], check_views: Callable[[Any], None]
) -> None:
    stores = [open_store(annotator=name) for name in ("ana", "bo", "cy", "dee")]
    try:
        ana, bo, cy, dee = stores
        ana.label("doc", "x", overlap=2)
        bo.label("doc", "y", overlap=2)
        with pytest.raises(LabelConflictError) as info:
            cy.label("doc", "x", overlap=2)
        assert info.value.others == ["ana", "bo"]
        assert "labeled by ana and bo meanwhile (overlap=2)" in str(info.value)
        bo.undo()  # bo's label goes: room for one more
        cy.label("doc", "x", overlap=2)
        with pytest.raises(LabelConflictError):
            dee.label("doc", "x", overlap=3 - 1)
        dee.label("doc", "y", overlap=3)  # a larger overlap has room
        labeled = dee.events.query("action == 'label' and not undone")["annotator"].tolist()
        assert sorted(labeled) == ["ana", "cy", "dee"]
        check_views(dee)
    finally:
        for store in stores:
            store.close()


def test_without_overlap_nothing_is_checked(open_store: Callable[..., SessionStore]) -> None:
    with open_store(annotator="ana") as ana, open_store(annotator="bo") as bo:
        ana.label(1, "x")
        bo.label(1, "y")  # the last writer wins, as before claims were enforced
        assert ana.labels.loc[1, ["label", "annotator"]].tolist() == ["y", "bo"]
        assert "conflict" not in set(ana.events["action"])


def test_conflicts_are_undoable_and_count_for_agreement(
    open_store: Callable[..., SessionStore], check_views: Callable[[Any], None]
) -> None:
    with open_store(annotator="ana") as ana, open_store(annotator="bo") as bo:
        for item, (a, b) in enumerate(["xx", "xy", "yy"]):
            ana.label(item, a, overlap=1)
            with pytest.raises(LabelConflictError):
                bo.label(item, b, overlap=1)
        agreement = ana.agreement()  # bo's answers are judgements of the same items
        assert agreement[["n_items", "agreement"]].values.tolist() == [[3, pytest.approx(2 / 3)]]
        undone = bo.undo()
        assert undone is not None and undone["action"] == "conflict" and undone["item_id"] == 2
        assert undone["restored"] == {"action": "label", "label": "y"}  # ana's, untouched
        assert ana.agreement()["n_items"].tolist() == [2]
        assert ana.labels["label"].tolist() == ["x", "x", "y"]
        check_views(ana)


def test_claim_treats_a_conflict_as_no_answer(open_store: Callable[..., SessionStore]) -> None:
    with open_store(annotator="ana") as ana, open_store(annotator="bo") as bo:
        ana.label(1, "x", overlap=1)
        with pytest.raises(LabelConflictError):
            bo.label(1, "y", overlap=1)
        assert bo.claim([1, 2], 2) == [2]  # 1 is full
        ana.undo()
        assert bo.claim([1, 2], 2) == [1, 2]  # 1 has room again, bo never labeled it


def test_a_write_renews_the_writers_live_leases(open_store: Callable[..., SessionStore]) -> None:
    with open_store(annotator="ana") as ana, open_store(annotator="bo") as bo:
        assert ana.claim([9], 1, lease_seconds=0.2) == [9]
        claimed = time.monotonic()
        assert ana.claim([1, 2, 3], 3, lease_seconds=3.0) == [1, 2, 3]
        time.sleep(0.4)  # 9 lapsed; 1-3 have 2.6 s left
        before = _lease(ana, 2, "ana")
        assert before is not None
        for write in (
            lambda: ana.label(1, "x"),
            lambda: ana.skip(5),
            lambda: ana.unsure(6),
            lambda: ana.undo(),
            lambda: ana.label(1, "y", overlap=1),
        ):
            time.sleep(0.05)
            t0 = time.time()
            write()
            renewed = _lease(ana, 2, "ana")
            assert renewed is not None and renewed >= t0 + 3.0 - 0.5  # about now + 3 s
            assert renewed > before
            before = renewed
        assert _lease(ana, 9, "ana") is None  # a lapsed lease is not brought back
        # past the claim's own expiry (the last write was 0.4 s or more after it): only
        # the writes kept the leases
        time.sleep(max(0.0, claimed + 3.2 - time.monotonic()))
        assert bo.claim([1, 2, 3, 9], 4) == [9]


def test_a_store_without_claims_renews_nothing(open_store: Callable[..., SessionStore]) -> None:
    with open_store(annotator="ana") as ana, open_store(annotator="ana") as lone:
        ana.claim([1, 2], 2, lease_seconds=60)
        before = _lease(ana, 2, "ana")
        time.sleep(0.05)
        lone.label(1, "x", overlap=1)  # this object claimed nothing
        assert _lease(ana, 2, "ana") == before
        ana.release()  # all of them: ana's object holds no claims any more
        ana.claim([3], 1, lease_seconds=60)
        ana.release([3])  # one of them: the object still claims for ana
        assert ana._leases.seconds("ana") == 60.0
        ana.release()
        assert ana._leases.seconds("ana") is None


def test_a_label_that_fills_an_item_ends_the_others_leases(
    open_store: Callable[..., SessionStore],
) -> None:
    names = ("ana", "bo", "cy")
    stores = [open_store(annotator=name) for name in names]
    try:
        ana, bo, cy = stores
        # overlap 1: ana's lease lapsed, bo claimed the item, ana's late label still wins
        assert ana.claim([1], 1, lease_seconds=0.2) == [1]
        time.sleep(0.3)
        assert bo.claim([1, 2], 2, lease_seconds=60) == [1, 2]
        ana.label(1, "x", overlap=1)
        assert bo.renew() == [2]  # bo's renewal sees the loss of 1
        assert _lease(bo, 1, "bo") is None
        # overlap 2: the first label leaves the other lease, the second one ends it
        assert ana.claim([5], 1, overlap=2, lease_seconds=60) == [5]
        assert bo.claim([5], 1, overlap=2, lease_seconds=60) == [5]
        ana.label(5, "x", overlap=2)
        assert _lease(bo, 5, "bo") is not None
        bo.label(5, "y", overlap=2)
        assert _lease(ana, 5, "ana") is None and _lease(bo, 5, "bo") is not None
        assert cy.claim([5, 6], 2, overlap=2) == [6]
    finally:
        for store in stores:
            store.close()


def test_a_lone_labelers_write_has_no_lease_statement(
    open_store: Callable[..., SessionStore], backend: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A store object that holds no claims writes one INSERT per answer, nothing else;
    one that claimed adds the renewal (PostgreSQL: in the same round trip)."""
    from alwidgets.store._pg import PostgresBackend

    sent: list[str] = []
    with open_store(annotator="ana") as store:
        if backend == "sqlite":
            store._backend._conn.set_trace_callback(sent.append)  # type: ignore[attr-defined]
        else:
            pipeline = PostgresBackend._pipeline

            def spy(self: Any, raw: Any, statements: list[tuple[str, Any]]) -> list[Any]:
                sent.extend(query for query, _ in statements)
                return pipeline(self, raw, statements)

            monkeypatch.setattr(PostgresBackend, "_pipeline", spy)
        store.label(1, "x")
        store.skip(2)
        # (SQLite traces a statement again for each trigger it fires: collapse repeats)
        writes = [q for i, q in enumerate(sent) if not i or q != sent[i - 1]]
        writes = [q for q in writes if q.split()[0].upper() in ("INSERT", "UPDATE", "DELETE")]
        assert len(writes) == 2 and all("INSERT INTO events" in q for q in writes)
        assert not any("claims" in q for q in sent)
        store.claim([3, 4], 2)
        sent.clear()
        store.label(3, "x")
        assert len({q for q in sent if "UPDATE claims" in q}) == 1
        if backend != "sqlite":  # BEGIN, lock, the write with its renewal, COMMIT: one pipeline
            assert [q.split()[0] for q in sent] == ["BEGIN", "SELECT", "WITH", "COMMIT"]
            sent.clear()
            store.label(4, "x", overlap=1)  # the check and the lease deletion join them
            assert [q.split()[0] for q in sent] == ["BEGIN", "SELECT", "WITH", "COMMIT"]
            assert "DELETE FROM claims" in sent[2] and "UPDATE claims" in sent[2]


@pytest.mark.parametrize("overlap", [0, -1, True, 1.5, "1"])
def test_overlap_is_checked_before_anything_is_written(
    open_store: Callable[..., SessionStore], overlap: Any
) -> None:
    with open_store(annotator="ana") as store:
        with pytest.raises(InvalidInputError, match="overlap must be a positive int"):
            store.label(1, "x", overlap=overlap)
        assert len(store) == 0


def test_a_retried_conflict_is_recorded_once(
    open_store: Callable[..., SessionStore], monkeypatch: pytest.MonkeyPatch
) -> None:
    """A retry with the key of an attempt that committed (its reply lost) finds that
    conflict event: the same error, no second event."""
    with open_store(annotator="ana") as ana, open_store(annotator="bo") as bo:
        ana.label(1, "x")
        key = uuid.uuid4()
        monkeypatch.setattr(_keys.uuid, "uuid4", lambda: key)
        errors = []
        for _ in range(2):
            with pytest.raises(LabelConflictError) as info:
                bo.label(1, "y", overlap=1)
            errors.append(info.value)
        assert errors[0].event_id == errors[1].event_id and errors[1].others == ["ana"]
        assert len(bo) == 2


def test_conflicts_survive_export_copy_and_changes_since(
    target: Any, tmp_path: Path, check_views: Callable[[Any], None]
) -> None:
    with target.open(classes=["x", "y"], annotator="ana") as ana:
        ana.label(1, "x", overlap=1)
        with pytest.raises(LabelConflictError) as info:
            ana.label(1, "y", annotator="bo", overlap=1, shown_at=time.time() - 1)
        ana.undo()  # ana's label: item 1 is unanswered, the conflict stays bo's record
        changes = ana.changes_since(info.value.event_id - 1)
        assert changes["action"].tolist() == ["conflict", "undo"]
        events = ana.events
        for suffix in (".csv", ".parquet"):
            out = ana.export(tmp_path / f"events{suffix}", what="events")
            pd.testing.assert_frame_equal(read_export(out), events)
        copy = target.fresh()
        assert copy_session(ana, copy.target, session=copy.session) == 3
        with copy.open() as again:
            pd.testing.assert_frame_equal(again.events, events)
            assert again.labels.empty and again.stats()["n_conflicts"] == 1
            check_views(again)

"""Work routing on both backends: claims, leases, overlap, team processes, SIGKILL."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pandas as pd
import pytest
from store_helpers import acknowledged, check_team, finish_team, team_env

from alwidgets.exceptions import InvalidInputError, StoreMismatchError
from alwidgets.store import SessionStore, copy_session


def test_claims_are_exclusive_with_overlap_1(open_store: Callable[..., SessionStore]) -> None:
    with open_store(annotator="ana") as ana, open_store(annotator="bo") as bo:
        assert ana.claim(range(10), 4) == [0, 1, 2, 3]
        assert bo.claim(range(10), 4) == [4, 5, 6, 7]
        assert ana.claim(range(10), 6) == [0, 1, 2, 3, 8, 9]  # own leases again, extended
        assert bo.claim(range(10), 4) == [4, 5, 6, 7]
        claims = ana.claims
        assert list(claims.columns) == ["item_id", "annotator", "expires"]
        assert sorted(zip(claims["item_id"], claims["annotator"], strict=True)) == sorted(
            [(i, "ana") for i in (0, 1, 2, 3, 8, 9)] + [(i, "bo") for i in (4, 5, 6, 7)]
        )
        assert str(claims["expires"].dtype) == "datetime64[us, UTC]"


def test_labels_skips_and_releases_route_work(open_store: Callable[..., SessionStore]) -> None:
    with open_store(annotator="ana") as ana, open_store(annotator="bo") as bo:
        ana.claim(["a", "b", "c"], 3)
        ana.label("a", "x")
        ana.skip("b")
        assert ana.release(["b", "c", "zzz"]) == 2
        # a is labeled (and still leased) by ana; b, c are free for bo
        assert bo.claim(["a", "b", "c"], 3) == ["b", "c"]
        # ana acted on a and b: she is not offered them again, c is bo's now
        assert ana.claim(["a", "b", "c", "d"], 3) == ["d"]
        ana.undo()  # the skip of b: b is ana's to do again, but bo holds it
        assert ana.claim(["b"], 1) == []
        assert bo.release() == 2 and ana.claim(["b"], 1) == ["b"]


def test_overlap_offers_an_item_to_k_different_annotators(
    open_store: Callable[..., SessionStore],
) -> None:
    names = ["ana", "bo", "cy"]
    stores = [open_store(annotator=name) for name in names]
    try:
        ana, bo, cy = stores
        assert ana.claim(range(4), 2, overlap=2) == [0, 1]
        assert bo.claim(range(4), 2, overlap=2) == [0, 1]  # a second pair of eyes
        assert cy.claim(range(4), 2, overlap=2) == [2, 3]  # 0 and 1 have two already
        ana.label(0, "x")
        ana.release()
        bo.label(0, "y")
        bo.release()
        # 0 has two labels from two annotators: done; 1 is free again
        assert cy.claim(range(4), 4, overlap=2) == [1, 2, 3]
        # ana labeled 0; 1, 2 and 3 have one other annotator (cy's leases): room for ana
        assert ana.claim(range(4), 4, overlap=2) == [1, 2, 3]
        agreement = ana.agreement()
        assert agreement[["annotator_a", "annotator_b", "n_items"]].values.tolist() == [
            ["ana", "bo", 1]
        ]
    finally:
        for store in stores:
            store.close()


def test_an_expired_lease_is_free_and_renew_extends_live_ones(
    open_store: Callable[..., SessionStore],
) -> None:
    with open_store(annotator="ana") as ana, open_store(annotator="bo") as bo:
        assert ana.claim([1, 2], 2, lease_seconds=0.5) == [1, 2]
        assert ana.renew([1], lease_seconds=30) == [1]
        time.sleep(0.7)
        assert bo.claim([1, 2], 2) == [2]  # 2's lease ran out, 1 was renewed
        assert ana.renew([2]) == []  # an expired lease is not renewed
        assert sorted(ana.renew()) == [1]
        assert ana.claims["annotator"].tolist() == ["bo", "ana"]  # soonest expiry first


def test_claim_checks_its_arguments(open_store: Callable[..., SessionStore]) -> None:
    with open_store(annotator="ana") as store:
        for kwargs, match in [
            ({"n": 0}, "n must be a positive"),
            ({"n": 2, "overlap": 0}, "overlap must be a positive"),
            ({"n": 2, "lease_seconds": -1}, "lease_seconds must be a positive"),
            ({"n": True}, "n must be a positive"),
        ]:
            with pytest.raises(InvalidInputError, match=match):
                store.claim([1, 2], **kwargs)
        with pytest.raises(InvalidInputError, match="wrap a single id"):
            store.claim("abc", 1)
        with pytest.raises(InvalidInputError, match="item ids must be int or str"):
            store.claim([1.5], 1)
        assert len(store.claims) == 0


def test_changes_since_follows_the_team(open_store: Callable[..., SessionStore]) -> None:
    with open_store(annotator="ana") as ana, open_store(annotator="bo") as bo:
        first = ana.label(1, "x")
        assert ana.changes_since(0).index.tolist() == [first]
        second = bo.label(2, "y")
        bo.undo()
        changes = ana.changes_since(first)
        assert changes["action"].tolist() == ["label", "undo"]
        assert changes.loc[second, "undone"]
        assert len(ana.changes_since(int(changes.index.max()))) == 0
        with pytest.raises(InvalidInputError, match="event_id must be an int"):
            ana.changes_since("3")  # type: ignore[arg-type]


def test_copy_session_round_trips_file_and_server(
    target: Any, tmp_path: Path, check_views: Callable[[Any], None]
) -> None:
    """File -> (this backend) -> file: ids, times, undo chains and models all kept."""
    source = tmp_path / "reviews.db"
    with SessionStore(source, classes=["a", "b"], annotator="ana") as store:
        for i in range(12):
            store.label(i % 5, "ab"[i % 2], annotator=["ana", "bo"][i % 3 == 0], shown_at=1.0)
        store.skip("x", score=0.5, rank=3, strategy="margin", model_version="v1")
        store.undo()
        store.undo(annotator="bo")
        store.log_model(1, 10, accuracy=0.5)
        before = {name: getattr(store, name) for name in ("events", "labels", "state", "models")}
        session_id = store.session_id
    middle = target.fresh()
    assert copy_session(source, middle.target, session=middle.session) == 15
    back = tmp_path / "back.db"
    copy_session(middle.target, back, session=middle.session)
    for where in (middle.open, lambda: SessionStore(back)):
        with where() as copy:
            assert copy.session_id == session_id and copy.classes == ["a", "b"]
            for name, frame in before.items():
                pd.testing.assert_frame_equal(getattr(copy, name), frame)
            check_views(copy)
            assert copy.label(99, "a") == 16  # numbering continues after the copy
    with pytest.raises(StoreMismatchError, match=r"holds 16 events .* nothing was copied"):
        copy_session(source, back)


# ------------------------------------------------------------- team processes
@pytest.mark.parametrize("overlap", [1, 2])
def test_four_annotator_processes_claim_and_label_at_once(
    target: Any, spawn_writer: Callable[..., Any], monkeypatch: pytest.MonkeyPatch, overlap: int
) -> None:
    # 200 labels make the pool's worth; 4 writers x 12 batches x 5 could give 240, so
    # every writer stops because nothing is left for it, not because its budget ran out
    items = 200 // overlap
    go = team_env(monkeypatch, target.directory, target.session, items, overlap, 300)
    names = ["ana", "bo", "cy", "dee"]
    target.open(classes=["neg", "pos"]).close()
    writers = [spawn_writer("team", target.target, i, name, 12) for i, name in enumerate(names)]
    for writer in writers:
        writer.wait_ready()
    go.touch()
    acked = finish_team(names, writers)
    with target.open() as store:
        labeled = check_team(store, acked, overlap)
    # every item is finished: labeled by exactly `overlap` different annotators
    assert len(labeled) == items
    assert all(len(who) == len(set(who)) == overlap for who in labeled.values())


def test_a_killed_annotators_claims_come_back_after_the_lease(
    target: Any, spawn_writer: Callable[..., Any], monkeypatch: pytest.MonkeyPatch
) -> None:
    lease = 3.0
    go = team_env(monkeypatch, target.directory, target.session, 40, 1, lease)
    target.open(classes=["neg", "pos"]).close()
    writer = spawn_writer("team", target.target, 0, "ana", 10)
    writer.wait_ready()
    go.touch()
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:  # kill it mid-batch: claimed, partly labeled
        claims = [line for line in writer.lines if line.startswith("C ")]
        if len(claims) >= 2 and writer.lines[-1].startswith("E ") and writer.lines[-2][0] == "C":
            break
        time.sleep(0.001)
    writer.proc.kill()
    killed_at = time.monotonic()
    lines, _ = writer.finish()
    acked = acknowledged(lines)
    batch = json.loads([line for line in lines if line.startswith("C ")][-1][2:])
    with target.open(annotator="bo") as bo:
        check_team(bo, {"ana": acked}, 1, killed=1)
        done = set(bo.labels.index)
        open_items = [item for item in batch if item not in done]
        assert open_items  # it died with leased, unlabeled items
        taken = bo.claim(range(40), 40, lease_seconds=60)
        if time.monotonic() - killed_at < lease:  # still leased to the dead annotator
            assert not set(taken) & set(open_items)
        bo.release()
        time.sleep(max(0.0, lease - (time.monotonic() - killed_at)) + 0.3)
        taken = bo.claim(range(40), 40, lease_seconds=60)
        assert set(open_items) <= set(taken)  # offered again
        assert not set(taken) & done  # what it labeled stays its own

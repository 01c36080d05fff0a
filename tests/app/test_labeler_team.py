"""Labeling as a team: several labelers on one session (a shared file, or the test server)."""

from __future__ import annotations

import subprocess
import sys
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from app_helpers import needs

from alwidgets.app import ActiveLabeler
from alwidgets.app._status import UNREACHABLE
from alwidgets.exceptions import InvalidInputError, StoreError
from alwidgets.store import SessionStore

SCRIPT = Path(__file__).parents[2] / "scripts" / "pg_cluster.py"


@pytest.fixture(params=["sqlite", "postgresql"])
def team_store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    """Where the team's session lives: ``store=`` (and ``session=``) for the labelers."""
    if request.param == "sqlite":
        path = tmp_path / "team.alw"
        with SessionStore(path, annotator="cy") as colleague:  # a team is at work on the file
            colleague.claim([10_000], 1, lease_seconds=3600)  # (an item of no pool here)
        yield {"store": path}
        return
    url = needs("ALW_DATABASE_URL")
    session = f"app{uuid.uuid4().hex[:12]}"
    yield {"store": url, "session": session}
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "alw_{session}" CASCADE')


def _answer(labeler: ActiveLabeler, y: np.ndarray) -> list[Any]:
    batch = list(labeler.batch)
    for item in batch:
        labeler.label(item, int(y[item]))
    return batch


def test_two_annotators_get_different_items_and_train_on_both(
    make_labeler: Callable[..., ActiveLabeler], digits: Any, team_store: dict[str, Any]
) -> None:
    _, y, _ = digits
    ana = make_labeler(annotator="ana", **team_store)
    bo = make_labeler(annotator="bo", **team_store)
    queued = [set(ana.batch), set(bo.batch)]
    assert not queued[0] & queued[1]  # the same ranking, but claimed: different items
    # the prefetched batches are claimed too
    nexts = [set(lab._ctl.queue.next.positions) for lab in (ana, bo)]
    assert not nexts[0] & nexts[1]
    claims = ana.store.claims
    assert set(claims.loc[claims["annotator"] == "bo", "item_id"]) >= queued[1]
    done: set[Any] = set()
    for _ in range(3):
        done |= set(_answer(ana, y)) | set(_answer(bo, y))
    assert len(done) == 24  # no item labeled twice
    events = ana.store.events
    assert not events["item_id"].duplicated().any()
    ana.sync()  # what the background thread does every third of a lease
    assert ana._ctl.mirror.n_labeled == 24  # the team's labels, to train on
    assert set(ana._ctl.mirror.labels) == {ana._ctl.mirror.pos(i) for i in done}
    stats = ana.stats.state  # the stats panel
    assert stats["per_annotator"] == {"ana": 12, "bo": 12}
    assert stats["team"].startswith("team: ana 12")
    ana.retrain(wait=True)
    assert ana.snapshot.n_labels == 24  # ana's model: the team's labels
    # the session's curve has both annotators' models (bo's last may log after ana's)
    assert ana.learning_curve["n_labels"].max() == 24
    bo.close()
    assert set(ana.store.claims["annotator"]) - {"cy"} == {"ana"}  # bo's released on close


def test_with_overlap_2_each_item_gets_two_annotators(
    make_labeler: Callable[..., ActiveLabeler], digits: Any, team_store: dict[str, Any]
) -> None:
    _, y, _ = digits
    labelers = [make_labeler(annotator=n, overlap=2, **team_store) for n in ("ana", "bo", "cy")]
    ana, bo, cy = labelers
    assert ana.batch == bo.batch  # a second pair of eyes on the same items
    assert not set(cy.batch) & set(ana.batch)
    for _ in range(3):
        for labeler in labelers:
            labeler.sync()
            _answer(labeler, y)
    events = ana.store.events
    per_item = events.groupby("item_id")["annotator"].agg(list)
    assert (per_item.map(len) <= 2).all()
    assert all(len(set(who)) == len(who) for who in per_item)  # never twice by one person
    assert (per_item.map(len) == 2).sum() >= 12
    ana.sync()
    assert (
        "κ 1.00 on" in ana.stats.state["team"]
    )  # the stats panel shows it  # true labels: full agreement


def test_the_annotator_defaults_to_the_hub_user(
    make_labeler: Callable[..., ActiveLabeler], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("JUPYTERHUB_USER", "hub-ana")
    labeler = make_labeler()
    labeler.label(labeler.batch[0], 3)
    assert labeler.annotator == "hub-ana"
    assert labeler.labels["annotator"].tolist() == ["hub-ana"]


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"overlap": 0}, "overlap must be a positive int"),
        ({"overlap": 1.5}, "overlap must be a positive int"),
        ({"lease_seconds": 0}, "lease_seconds must be a positive number"),
    ],
)
def test_bad_team_arguments(
    make_labeler: Callable[..., ActiveLabeler], tmp_path: Path, kwargs: dict, match: str
) -> None:
    with pytest.raises(InvalidInputError, match=match):
        make_labeler(store=tmp_path / "bad.alw", **kwargs)
    assert not (tmp_path / "bad.alw").exists()


def test_store_unreachable_is_shown_and_recovers(
    make_labeler: Callable[..., ActiveLabeler], digits: Any
) -> None:
    _, y, _ = digits
    url, data = needs("ALW_DATABASE_URL"), needs("ALW_PGDATA")
    session = f"down{uuid.uuid4().hex[:10]}"
    labeler = make_labeler(store=url, session=session, annotator="ana")
    first, second = labeler.batch[:2]
    labeler.label(first, int(y[first]))
    subprocess.run([sys.executable, str(SCRIPT), "pause", data], check=True, timeout=120)
    try:
        with pytest.raises(StoreError, match="store unreachable"):
            labeler.label(second, int(y[second]))
        assert labeler.batch_widget.status["detail"] == UNREACHABLE
        assert (
            labeler._ctl.mirror.pos(second) not in labeler._ctl.mirror.labels
        )  # not saved, not shown saved
    finally:
        subprocess.run([sys.executable, str(SCRIPT), "resume", data], check=True, timeout=120)
    labeler.label(second, int(y[second]))  # the same labeler, no rebuild
    assert labeler.batch_widget.status.get("detail") != UNREACHABLE
    assert labeler.labels.index.tolist() == [first, second]
    labeler.close()
    with SessionStore(url, session=session) as store:
        assert len(store.claims) == 0 and len(store.events) == 2
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "alw_{session}" CASCADE')


def test_team_models_are_numbered_after_the_sessions_last(
    make_labeler: Callable[..., ActiveLabeler], digits: Any, team_store: dict[str, Any]
) -> None:
    _, y, _ = digits
    ana = make_labeler(annotator="ana", retrain_every=0, **team_store)
    bo = make_labeler(annotator="bo", retrain_every=0, **team_store)
    for labeler in (ana, bo, ana, bo):
        _answer(labeler, y)
        labeler.sync()
        labeler.retrain(wait=True, force=True)
    versions = ana.store.models["version"].tolist()
    assert versions == sorted(set(versions)) and len(versions) == 4  # v1..v4, none twice

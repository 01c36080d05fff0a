"""Multi-label sessions shared by a team, on both store backends (a file and the test
PostgreSQL server), and answers kept unsaved while that server is paused.

Real parts: two labelers on one SQLite file or one PostgreSQL session (the suite's
cluster, ``scripts/pg_cluster.py``, paused and resumed), real retrains in a thread.
"""

from __future__ import annotations

import subprocess
import sys
import time
import uuid
import warnings
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import pytest
from app_helpers import front_end, needs
from helpers import import_or_skip
from sklearn.linear_model import LogisticRegression

from alwidgets import LabelConflictWarning
from alwidgets.app import ActiveLabeler
from alwidgets.store import SessionStore

SCRIPT = Path(__file__).parents[2] / "scripts" / "pg_cluster.py"
N_POOL = 200
VIEW = "view-ml-team"


@pytest.fixture(scope="module")
def yeast() -> tuple[np.ndarray, pd.DataFrame]:
    import_or_skip("river", 'the Yeast data set ships in river; pip install -e ".[data]"')
    from alwidgets.datasets import load_yeast

    X, Y = load_yeast()
    return X.to_numpy()[:N_POOL], Y.iloc[:N_POOL].reset_index(drop=True)


@pytest.fixture(params=["sqlite", "postgresql"])
def where(request: pytest.FixtureRequest, tmp_path: Path, yeast: Any) -> Iterator[dict[str, Any]]:
    if request.param == "sqlite":
        path = tmp_path / "team.alw"
        with SessionStore(path, annotator="cy", classes=list(yeast[1].columns),
                          multi_label=True) as colleague:  # fmt: skip
            colleague.claim([10_000], 1, lease_seconds=3600)  # a team is at work on the file
        yield {"store": path}
        return
    url = needs("ALW_DATABASE_URL")
    session = f"mlteam{uuid.uuid4().hex[:10]}"
    yield {"store": url, "session": session}
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "alw_{session}" CASCADE')


@pytest.fixture
def make(yeast: Any) -> Iterator[Any]:
    X, Y = yeast
    made: list[ActiveLabeler] = []

    def build(**kw: Any) -> ActiveLabeler:
        labeler = ActiveLabeler(
            X, classes=list(Y.columns), estimator=LogisticRegression(max_iter=300),
            multi_label=True, batch_size=4, random_state=0, retrain_in="thread", **kw,
        )  # fmt: skip
        made.append(labeler)
        return labeler

    yield build
    for labeler in made:
        labeler.close()


def truth(Y: pd.DataFrame, item: int) -> tuple[str, ...]:
    return tuple(c for c in Y.columns if Y.loc[item, c])


def store_of(where: dict[str, Any]) -> SessionStore:
    return SessionStore(where["store"], session=where.get("session"))


def test_a_team_labels_sets_claims_items_and_conflicts_are_kept(make, yeast, where) -> None:
    """Two annotators get different items (claims), train on each other's sets, and an
    answer on an item the other labeled first is kept as a conflict, not a label."""
    _, Y = yeast
    ana = make(annotator="ana", **where)
    bo = make(annotator="bo", **where)
    bo.sync()
    ana.sync()
    assert not set(ana.batch) & set(bo.batch)
    for person in (ana, bo):
        for item in list(person.batch):
            person.label(item, truth(Y, item))
    taken = bo.labels.index[bo.labels["annotator"] == "bo"][0]
    with pytest.warns(LabelConflictWarning, match="bo labeled this meanwhile"):
        ana.label(taken, ["Class1"])
    ana.sync()
    assert ana._ctl.mirror.n_labeled == 8  # the team's sets, to train on
    ana.retrain(wait=True)
    assert ana.learning_curve["n_labels"].iloc[-1] == 8
    assert ana.stats.state["per_annotator"] == {"ana": 4, "bo": 4}
    with store_of(where) as store:
        assert store.multi_label
        labels = store.labels
        assert labels.loc[taken, "label"] == truth(Y, taken)  # the first label stands
        events = store.events
        assert (events["action"] == "conflict").sum() == 1
        assert store.label_matrix().shape == (8, Y.shape[1])


def test_with_overlap_2_agreement_is_per_class(make, yeast, where) -> None:
    _, Y = yeast
    ana = make(annotator="ana", overlap=2, **where)
    bo = make(annotator="bo", overlap=2, **where)
    assert ana.batch == bo.batch
    for item in list(ana.batch):
        ana.label(item, truth(Y, item))
        bo.label(item, truth(Y, item) if item % 2 else ())
    ana.sync()
    assert "κ" in ana.stats.state["team"]
    with store_of(where) as store:
        table = store.agreement()
    assert any(c.startswith("kappa[") for c in table.columns)


def test_chip_answers_while_the_server_is_paused_are_saved_once_when_it_is_back(
    make, yeast
) -> None:
    url, data = needs("ALW_DATABASE_URL"), needs("ALW_PGDATA")
    _, Y = yeast
    session = f"mlunsaved{uuid.uuid4().hex[:10]}"
    lab = make(annotator="ana", store=url, session=session)
    cols = list(Y.columns)

    def press(seq: int, pos: int) -> list[dict[str, Any]]:
        front_end(lab.batch_widget, type="action", seq=seq, action="label", key=str(pos),
                  class_indices=[cols.index(c) for c in truth(Y, pos)], session=VIEW,
                  batch=lab.batch_widget.batch_id, seconds=1.0)  # fmt: skip
        return [m for m in lab.batch_widget.sent if m.get("seq") == seq]

    def switch(command: str) -> None:
        subprocess.run([sys.executable, str(SCRIPT), command, data], check=True, timeout=120)

    batch = [int(c["key"]) for c in lab.batch_widget.cards]
    try:
        assert [m["type"] for m in press(1, batch[0])] == ["ack"]
        switch("pause")
        (kept,) = press(2, batch[1])
        assert kept["type"] == "unsaved"
        (queued,) = press(3, batch[2])
        assert queued["type"] == "unsaved"
    finally:
        switch("resume")
    deadline = time.monotonic() + 60
    while lab._ctl.unsaved_items():
        assert time.monotonic() < deadline, "the kept answers were not saved"
        time.sleep(0.2)
    with SessionStore(url, session=session) as store, warnings.catch_warnings():
        events = store.events
        assert events["item_id"].tolist() == batch[:3]  # each once, in order
        assert store.labels["label"].to_dict() == {p: truth(Y, p) for p in batch[:3]}
    import psycopg

    lab.close()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "alw_{session}" CASCADE')

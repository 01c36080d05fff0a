"""The labeling core without a browser: what a lone labeler writes and reads on its key
path, when team mode starts, a retrain result that cannot be logged, the team line."""

from __future__ import annotations

import dataclasses
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from app_helpers import press

from alwidgets.app import ActiveLabeler
from alwidgets.app._fit import run_job
from alwidgets.exceptions import LabelConflictWarning
from alwidgets.store import SessionStore


def _forbid_on_the_main_thread(monkeypatch: pytest.MonkeyPatch, store: SessionStore) -> list[str]:
    """Make every store read of a view, and every write but an answer, fail when the
    kernel's thread (the key path) makes it; background threads may."""
    seen: list[str] = []
    kind = type(store)

    def guard(name: str, original: Any) -> Any:
        def check() -> None:
            if threading.current_thread() is threading.main_thread():
                seen.append(name)
                raise AssertionError(f"the key path called store.{name}")

        if isinstance(original, property):
            getter = original.fget
            return property(lambda self: (check(), getter(self))[1])  # type: ignore[misc]

        def call(self: Any, *args: Any, **kwargs: Any) -> Any:
            check()
            return original(self, *args, **kwargs)

        return call

    for name in ("events", "labels", "state", "models", "claims"):
        monkeypatch.setattr(kind, name, guard(name, getattr(kind, name)))
    for name in ("claim", "renew", "release", "changes_since", "stats", "agreement", "log_model"):
        monkeypatch.setattr(kind, name, guard(name, getattr(kind, name)))
    return seen


def test_a_lone_labeler_writes_only_answers_and_reads_no_view_on_its_key_path(
    make_labeler: Callable[..., ActiveLabeler], digits: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    _, y, _ = digits
    lab = make_labeler()  # a file, overlap=1, nobody else: no team
    assert lab._ctl.team is None
    forbidden = _forbid_on_the_main_thread(monkeypatch, lab.store)
    seq = 0
    for _ in range(3):  # three batch ends, each starting a retrain in the background
        for card in list(lab.batch_widget.cards):
            seq += 1
            (reply,) = press(lab, seq, card["key"], "label", int(y[int(card["key"])]))
            assert reply["type"] == "ack", reply
        lab.retrain(wait=True)  # the result is applied on the worker's thread
    lab.label(lab.batch[0], int(y[lab.batch[0]]))  # a Python call: the same path
    lab.skip(lab.batch[1])
    lab.next_batch()
    monkeypatch.undo()
    assert forbidden == []
    events = lab.store.events
    assert events["action"].tolist() == ["label"] * 13 + ["skip"]  # answers, nothing else
    assert events["annotator"].nunique() == 1
    assert len(lab.store.claims) == 0  # no lease was ever taken
    assert lab._ctl.team is None
    assert not [t for t in threading.enumerate() if t.name == "alwidgets-team"]
    lab.retrain(wait=True)  # the 13 labels' retrain may or may not have ended: wait for it
    assert lab.learning_curve["n_labels"].tolist() == [4, 8, 12, 13]  # retrains ran meanwhile


def test_team_mode_starts_when_someone_else_writes_to_the_file(
    make_labeler: Callable[..., ActiveLabeler], digits: Any, tmp_path: Path
) -> None:
    _, y, _ = digits
    path = tmp_path / "shared.alw"
    ana = make_labeler(store=path, annotator="ana")
    bo = make_labeler(store=path, annotator="bo")
    assert ana._ctl.team is None and bo._ctl.team is None  # a fresh file: nobody yet
    items = list(ana.batch)
    ana.label(items[0], int(y[items[0]]))  # event 1: ana is still alone
    assert ana._ctl.team is None
    bo.label(items[1], int(y[items[1]]))  # event 2, but bo last saw 0: someone else wrote
    assert bo._ctl.team is not None
    ana.label(items[2], int(y[items[2]]))  # event 3, ana last saw 1
    assert ana._ctl.team is not None
    ana.sync()
    bo.sync()
    assert ana._ctl.mirror.n_labeled == 3  # bo's label, followed incrementally
    assert ana.batch_widget.answers[str(items[1])]["class_index"] == int(y[items[1]])
    claims = ana.store.claims
    held = {who: set(group["item_id"]) for who, group in claims.groupby("annotator")}
    assert set(held) == {"ana", "bo"} and not held["ana"] & held["bo"]  # leases, disjoint
    assert held["ana"] >= {
        i for i in ana.batch if not ana._ctl.mirror.handled[ana._ctl.mirror.pos(i)]
    }
    assert ana.stats.state["team"].startswith("team: ana 2")  # the team line appears


def test_a_result_whose_curve_point_cannot_be_logged_leaves_retraining_possible(
    make_labeler: Callable[..., ActiveLabeler], digits: Any
) -> None:
    _, y, _ = digits
    lab = make_labeler(retrain_every=0)  # only explicit retrains
    for item in lab.batch:
        lab.label(item, int(y[item]))
    changes = lab._ctl.retrain(force=True)  # the job the worker would be given
    job, _applied = changes.retrain
    snap = run_job(job, lab._data)
    # a result the store refuses to log (a metric that is neither a number nor a str)
    bad = dataclasses.replace(snap, metrics={**snap.metrics, "calibration": [0.1, 0.9]})
    changes = lab._ctl.apply(bad)
    assert lab._ctl.job_event() is None  # not "running" forever
    assert lab.model_version == job.version  # the model itself is in use
    assert "curve point was not saved" in changes.status["detail"]
    assert changes.status["state"] == "error"
    assert len(lab.learning_curve) == 0
    new = next(i for i in lab.batch if not lab._ctl.mirror.handled[lab._ctl.mirror.pos(i)])
    lab.label(new, int(y[new]))
    lab.retrain(wait=True, timeout=60)  # retrains again, and logs
    assert lab.model_version == job.version + 1
    assert lab.learning_curve["n_labels"].tolist() == [5]
    assert "curve point" not in lab.batch_widget.status.get("detail", "")


def test_the_team_line_is_fresh_after_own_answers_a_batch_end_and_colleagues(
    make_labeler: Callable[..., ActiveLabeler], digits: Any, tmp_path: Path
) -> None:
    _, y, _ = digits
    path = tmp_path / "line.alw"
    with SessionStore(path, annotator="cy") as colleague:  # a team works on this file
        colleague.claim([10_000], 1, lease_seconds=3600)
    ana = make_labeler(store=path, annotator="ana", retrain_every=0)
    bo = make_labeler(store=path, annotator="bo", retrain_every=0)
    for item in bo.batch[:3]:
        bo.label(item, int(y[item]))
    ana.sync()  # a colleague's labels: in the line at the next tick
    assert ana.stats.state["per_annotator"] == {"bo": 3}
    first = list(ana.batch)
    ana.label(first[0], int(y[first[0]]))  # one's own answer: at once, no store read
    state = ana.stats.state
    assert state["per_annotator"] == {"bo": 3, "ana": 1}
    assert state["team"].startswith("team: bo 3") and "ana 1" in state["team"]
    for item in first[1:]:  # the batch ends
        ana.label(item, int(y[item]))
    assert ana.stats.state["per_annotator"] == {"bo": 3, "ana": len(first)}
    assert f"ana {len(first)}" in ana.stats.state["team"]
    with SessionStore(path) as store:  # the store agrees
        assert store.stats()["per_annotator"] == {"bo": 3, "ana": len(first)}
    bo.undo()  # a colleague's undo is followed too
    ana.sync()
    assert ana.stats.state["per_annotator"] == {"bo": 2, "ana": len(first)}


def test_an_answer_on_an_item_a_colleague_labeled_first_is_kept_as_a_conflict(
    make_labeler: Callable[..., ActiveLabeler], digits: Any, tmp_path: Path
) -> None:
    _, y, _ = digits
    path = tmp_path / "conflict.alw"
    ana = make_labeler(store=path, annotator="ana")  # alone at open: claims nothing
    items = list(ana.batch)
    with SessionStore(path, annotator="bo") as bo:  # bo labels what ana shows
        for item in items[:2]:
            bo.label(item, int(y[item]))
    text = "bo labeled this meanwhile — kept as a conflict, not a label"
    with pytest.warns(LabelConflictWarning, match=text):
        ana.label(items[0], int(y[items[0]]))  # a Python call warns and returns
    assert ana.batch_widget.sent[-1] == {
        "type": "conflict", "seq": None, "key": str(items[0]), "text": text
    }  # fmt: skip
    (reply,) = press(ana, 1, str(items[1]), "label", int(y[items[1]]))  # a key press
    assert reply == {"type": "conflict", "seq": 1, "key": str(items[1]), "text": text}
    answer = ana.batch_widget.answers[str(items[1])]
    assert answer["action"] == "conflict" and answer["note"] == text  # shown on the card
    assert ana._ctl.team is not None  # bo's writes showed in the event ids
    first = ana.batch_widget.batch_id
    for item in items[2:]:  # conflicts count as answered: the batch ends as usual
        ana.label(item, int(y[item]))
    assert ana.batch_widget.batch_id != first
    with SessionStore(path) as store:
        events = store.events
        assert store.labels.loc[items[:2], "annotator"].tolist() == ["bo", "bo"]
    conflicts = events[events["action"] == "conflict"]
    assert conflicts["item_id"].tolist() == items[:2]
    assert set(conflicts["annotator"]) == {"ana"}
    live = events[(events["action"] == "label") & ~events["undone"]]
    assert live.groupby("item_id")["annotator"].nunique().max() == 1  # no item twice
    ana.sync()  # following bo happens off the key path (the team thread); sync() is now
    assert ana._ctl.mirror.n_labeled == len(items)  # trains on bo's two and its own


def test_retrain_while_a_job_runs_on_fewer_labels_ends_on_all_of_them(
    make_labeler: Callable[..., ActiveLabeler], digits: Any, tmp_path: Path
) -> None:
    """In manual mode (``retrain_every=0``), ``retrain(wait=True)`` while a job runs on an
    older label set (a colleague's labels followed meanwhile): the follow-up runs although
    the mode starts no job by itself, and the wait ends with a model on every label."""
    import time

    from sklearn.linear_model import LogisticRegression

    class SlowFit(LogisticRegression):
        def fit(self, X: Any, y: Any, sample_weight: Any = None) -> Any:  # type: ignore[override]
            time.sleep(0.5)
            return super().fit(X, y, sample_weight)

    _, y, _ = digits
    path = tmp_path / "team.alw"
    ana = make_labeler(store=path, annotator="ana", estimator=SlowFit(max_iter=200),
                       retrain_every=0)  # fmt: skip
    for item in list(ana.batch):
        ana.label(item, int(y[item]))
    ana.retrain()  # a slow job on ana's labels, not waited for
    running = ana._ctl.job_event()
    assert running is not None and not running.is_set()
    mine = set(ana.labels.index)
    with SessionStore(path, annotator="bo") as bo:
        theirs = [i for i in range(len(y)) if i not in mine and i not in set(ana.batch)][:3]
        for item in theirs:
            bo.label(item, int(y[item]))
    ana.sync()  # bo's labels reach the mirror while the job runs
    assert ana._ctl.mirror.n_labeled == len(mine) + len(theirs)
    ana.retrain(wait=True, timeout=60)
    assert ana.snapshot.n_labels == len(mine) + len(theirs)
    assert ana.learning_curve["n_labels"].iloc[-1] == len(mine) + len(theirs)

"""When to stop, live: the learning curve's stable columns and its empty panel, the
stop signal (stabilizing predictions) in the stats panel and on the curve, and the
prequential accuracy — headless, through the labeler's public API and an oracle."""

from __future__ import annotations

import time
from collections.abc import Callable
from types import SimpleNamespace
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import make_blobs

from alwidgets.app._signals import PREQUENTIAL_SERIES, Signals, empty_reason
from alwidgets.stopping import PrequentialAccuracy, stability_report

COLUMNS = ["version", "n_labels", "time", "score", "score_std", "metric", "strategy"]


def eventually(check: Callable[[], Any], what: str, timeout: float = 20.0) -> Any:
    """Plots are redrawn off the key path: wait for them (a failure names what)."""
    deadline = time.monotonic() + timeout
    while not (value := check()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


def counts(labels: Any) -> dict[Any, int]:
    return {int(k): int(v) for k, v in labels["label"].value_counts().items()}


def test_the_curve_has_its_columns_and_says_why_it_is_empty(make_labeler, digits) -> None:
    _, y, _ = digits
    lab = make_labeler()
    curve = lab.learning_curve
    assert curve.columns.tolist()[:7] == COLUMNS and len(curve) == 0
    plot = lab.learning_curve_plot
    assert plot.note == (
        "the curve starts with the first model: it needs labels from at least 2 classes (have 0)"
    )
    assert plot.widget.layout.yaxis.visible is False  # no empty axis from -1 to 4
    for item in lab.batch:
        lab.label(item, int(y[item]))
    lab.retrain(wait=True)
    assert lab.model_version == 1
    curve = lab.learning_curve  # a model, but too few labels per class to cross-validate
    assert curve.columns.tolist()[:7] == COLUMNS
    assert curve["n_labels"].tolist() == [4] and curve["score"].isna().all()
    expected = empty_reason(counts(lab.labels), lab.classes, eval_set=False)
    assert expected.startswith("the curve starts when every labeled class has 3 labels")
    assert "1/3 for" in expected
    eventually(lambda: plot.note == expected, f"the note {expected!r}")
    for _ in range(30):  # label until every labeled class has 3 labels: the first point
        if np.isfinite(lab.learning_curve["score"].to_numpy(dtype=float)).any():
            break
        for item in lab.batch:
            lab.label(item, int(y[item]))
        lab.retrain(wait=True)
    eventually(lambda: plot.note is None, "the note to go once the curve has a point")
    assert plot.widget.layout.yaxis.visible is True
    assert np.isfinite(plot.widget.data[0].y).all() and len(plot.widget.data[0].y) >= 1


def test_the_stop_signal_holds_on_an_easy_pool_and_is_marked(make_labeler, tmp_path) -> None:
    """Two well-separated blobs: successive models soon predict the stop set alike. The
    stats panel shows κ of the last 3 retrains, the changed shares and the sentence; the
    curve marks where the rule first held. Checked against the models themselves."""
    X, y = make_blobs(n_samples=120, centers=[[-4, 0], [4, 0]], random_state=0)
    lab = make_labeler(X=X, classes=[0, 1], items=None, display="auto", oracle=y,
                       compare_with=[], batch_size=4, store=tmp_path / "blobs.alw")  # fmt: skip
    stop_set = lab._ctl.sched.stop_set
    history, n_labels = [], []
    for step in range(6):
        lab.step()
        history.append(lab.learner.predict(X[stop_set]))
        n_labels.append(len(lab.labels))
        shown = lab.stats.state["stability"]
        if step == 0:
            assert (
                shown["sentence"]
                == "stop signal: needs 4 models predicting the stop set (1 so far)"
            )
    report = stability_report(history, n_labels=n_labels)
    shown = lab.stats.state["stability"]
    assert report["holds"] and shown["holds"]
    assert shown["sentence"] == report["sentence"]
    assert shown["sentence"].startswith("predictions stable: the last 4 models agree on")
    assert shown["kappas"] == pytest.approx(report["kappas"][-3:])
    assert shown["changed"] == pytest.approx(report["changed"][-3:])
    assert shown["n_items"] == len(stop_set) == len(X)
    assert "stop set of 120: κ" in lab.stats.html and 'data-holds="true"' in lab.stats.html
    plot = lab.learning_curve_plot
    eventually(lambda: plot.mark == report["first_held_labels"], "the curve's stop mark")
    labels = [a.text for a in plot.widget.layout.annotations]
    assert "predictions stable (mean κ > 0.99)" in labels


def test_the_prequential_figure_from_the_first_model(make_labeler, digits) -> None:
    """Each batch's cards carry the model's guess made before the answers; at the batch
    end they are compared with the oracle's answers (the first, cold-start batch has no
    model guess and is left out)."""
    _, y, _ = digits
    lab = make_labeler(oracle=y, compare_with=[], batch_size=6)
    expected = PrequentialAccuracy(window=50)
    points = []
    for _ in range(5):
        cards = lab.batch_widget.cards
        suggested = [None if c["model_suggestion"] is None else lab.classes[c["model_suggestion"]]
                     for c in cards]  # fmt: skip
        answered = [int(y[c["item_id"]]) for c in cards]
        lab.step()
        if any(s is not None for s in suggested):
            expected.update(suggested, answered)
            matched, n = expected.recent()
            points.append((len(lab.labels), matched / n))
    assert len(points) == 4  # every batch after the first model
    shown = lab.stats.state["prequential"]
    assert shown == expected.report()
    assert (
        "matched your answer on" in shown["sentence"]
        and "not held-out accuracy" in shown["sentence"]
    )
    plot = lab.learning_curve_plot
    trace = eventually(
        lambda: next((t for t in plot.widget.data if t.name == PREQUENTIAL_SERIES), None),
        "the prequential trace",
    )
    eventually(lambda: len(trace.x) == len(points), "every prequential point")
    assert list(trace.x) == [n for n, _ in points]
    assert list(trace.y) == pytest.approx([a for _, a in points])


def snap(predictions: Any, n_labels: int) -> Any:
    return SimpleNamespace(fitted=True, stop_predictions=predictions, n_labels=n_labels)


def test_signals_take_indicator_predictions_and_label_sets() -> None:
    """Multi-label: stop-set predictions are 0/1 indicator matrices, suggestions and
    answers are sets of classes; nothing assumes one label per item."""
    classes = ["a", "b", "c"]
    signals = Signals(classes, eval_set=True, window=2)
    rng = np.random.default_rng(0)
    first = rng.integers(0, 2, size=(50, 3))
    later = first.copy()
    later[:5, 0] ^= 1
    for i, preds in enumerate([first, later, later, later]):
        curve = signals.take(snap(preds, 10 * (i + 1)), None, {"a": 3, "b": 2})
    report = stability_report([first, later, later, later], window=2, n_labels=[10, 20, 30, 40])
    assert signals.stability == report and report["holds"]
    assert curve.mark == (report["first_held_labels"], "predictions stable (mean κ > 0.99)")
    cards = [{"key": "0", "model_suggestion": [0, 2]}, {"key": "1", "model_suggestion": [1]}]
    answers = {0: ("a", "c"), 1: ("a",)}
    queue = SimpleNamespace(current=SimpleNamespace(cards=cards), review=None)
    mirror = SimpleNamespace(label_of=answers.get, n_labeled=2, per_class={"a": 2, "c": 1})
    signals.batch_done(queue, mirror)
    assert signals.prequential.recent() == (1, 2)  # {a, c} matched, {b} against {a} did not
    assert signals.stats()["stability"]["holds"] is True


def test_an_eval_set_curve_waits_for_the_first_model_only() -> None:
    assert empty_reason({"x": 1}, ["x", "y"], eval_set=True).endswith("(have 1)")
    assert empty_reason({"x": 1, "y": 1}, ["x", "y"], eval_set=True) == (
        "the curve starts when the first model is scored on the eval set"
    )

"""ActiveLabeler through its Python API: labels, retrain, plots, resume, errors in fit."""

from __future__ import annotations

import logging

import numpy as np
import pytest
from app_helpers import press
from sklearn.linear_model import LogisticRegression

from alwidgets import UnknownLabelError


class FailingAfter(LogisticRegression):
    """A real classifier that refuses to fit once it sees more than ``limit`` labels."""

    def __init__(self, limit: int = 4, max_iter: int = 200) -> None:
        super().__init__(max_iter=max_iter)
        self.limit = limit

    def fit(self, X, y, sample_weight=None):  # type: ignore[override]
        if len(y) > self.limit:
            raise ValueError(f"refusing to fit on {len(y)} labels")
        return super().fit(X, y, sample_weight)


def answer_batch(lab, y) -> list:
    done = list(lab.batch)
    for item in done:
        lab.label(item, int(y[item]))
    return done


def test_programmatic_label_uses_the_same_path_as_keys(make_labeler, digits) -> None:
    _, y, _ = digits
    lab = make_labeler()
    item = lab.batch[0]
    lab.label(item, int(y[item]))
    assert lab.batch_widget.answers[str(item)]["class_index"] == int(y[item])
    assert lab.batch_widget.sent[-1] == {"type": "ack", "seq": None, "key": str(item)}
    assert lab.labels.loc[item, "label"] == int(y[item])


def test_labels_outside_classes_and_pool_are_rejected(make_labeler) -> None:
    lab = make_labeler()
    with pytest.raises(UnknownLabelError, match="not one of the classes"):
        lab.label(lab.batch[0], 11)
    with pytest.raises(ValueError, match="not in the pool"):
        lab.label(10_000, 1)
    assert len(lab.store.events) == 0


def test_status_explains_why_there_is_no_model_yet(make_labeler) -> None:
    lab = make_labeler()
    assert lab.batch_widget.status["state"] == "waiting"
    assert "at least 2 classes (have 0)" in lab.batch_widget.status["text"]
    lab.label(lab.batch[0], 3)
    lab.retrain(wait=True)
    assert "have 1" in lab.batch_widget.status["text"]
    assert lab.model_version == 0 and lab.learner is None


def test_retrain_swaps_ranking_and_feeds_the_plots(make_labeler, digits) -> None:
    _, y, _ = digits
    lab = make_labeler(retrain_every=1000)  # only explicit retrains in this test
    # two batches: a third would use up the 16-item cold-start ranking, and a used-up
    # ranking starts a job by itself (racing the asserts below)
    for _ in range(2):
        answer_batch(lab, y)
    before = lab.snapshot
    assert lab.model_version == 0 and lab.histogram.n_scores == 0
    lab.retrain(wait=True)
    snap = lab.snapshot
    assert snap is not before and lab.model_version == 1 and snap.n_labels == 8
    assert lab.learner.is_fitted
    # the prefetched batch now comes from the new ranking, with the model's suggestions
    cards = lab.batch_widget.next_cards
    assert [c["item_id"] for c in cards] == [lab.ids[p] for p in snap.order[: len(cards)]]
    assert all(c["suggestion"] is not None and 0 < c["confidence"] <= 1 for c in cards)
    assert all(c["why"].startswith("margin") for c in cards)
    # the cards on screen keep their items (and why they were picked) but show the
    # new model's guesses
    shown = lab.batch_widget.cards
    assert [c["item_id"] for c in shown] == lab.batch
    assert all(c["suggestion"] is not None for c in shown)
    assert all(c["why"].startswith("cold start") for c in shown)
    # plots: a learning-curve point (CV needs 3 per class: not yet) and the histogram
    assert lab.learning_curve[["version", "n_labels"]].values.tolist() == [[1, 8]]
    assert lab.histogram.n_scores == lab.n_items - 8
    status = lab.batch_widget.status
    assert status["state"] == "ready" and status["text"] == "model v1, 8 labels"


def test_learning_curve_gets_points_on_the_eval_set(make_labeler, digits) -> None:
    from sklearn.datasets import load_digits

    d = load_digits()
    X_test, y_test = d.data[1500:], d.target[1500:]
    _, y, _ = digits
    lab = make_labeler(eval_set=(X_test, y_test))
    for _ in range(2):
        answer_batch(lab, y)
        lab.retrain(wait=True)
    curve = lab.learning_curve
    assert curve["n_labels"].tolist() == sorted(curve["n_labels"].tolist())
    assert curve["n_labels"].iloc[-1] == 8
    assert curve["score"].between(0, 1).all() and curve["metric"].iloc[-1] == "accuracy (eval set)"
    trace = lab.learning_curve_plot.widget.data[0]
    assert len(trace.x) == len(curve) and np.allclose(trace.y, curve["score"].to_numpy())


def test_cross_validated_curve_once_each_class_has_three_labels(make_labeler, digits) -> None:
    _, y, _ = digits
    X, _, images = digits
    keep = np.flatnonzero(y < 2)[:60]  # two classes: reaches 3 per class quickly
    lab = make_labeler(X=X[keep], items=images[keep], classes=[0, 1], batch_size=6)
    for _ in range(2):
        for item in lab.batch:
            lab.label(item, int(y[keep][item]))
    lab.retrain(wait=True)
    row = lab.learning_curve.iloc[-1]
    assert row["metric"] == "accuracy (CV)" and 0 <= row["score"] <= 1
    assert row["score_std"] >= 0


def test_resume_from_file_continues_the_session(make_labeler, digits, tmp_path) -> None:
    _, y, _ = digits
    path = tmp_path / "resume.alw"
    first = make_labeler(store=path)
    labeled = answer_batch(first, y) + answer_batch(first, y)
    skipped = first.batch[0]
    first.skip(skipped)
    first.retrain(wait=True)
    curve = first.learning_curve
    labels = first.labels["label"].to_dict()
    first.close()

    again = make_labeler(store=path)
    assert again.labels["label"].to_dict() == labels
    assert again.learning_curve[["version", "n_labels"]].equals(curve[["version", "n_labels"]])
    queued = set(again.batch) | {c["item_id"] for c in again.batch_widget.next_cards}
    assert not queued & (set(labeled) | {skipped})
    assert again.batch_widget.progress["labeled"] == len(labeled)
    # the undo history survives too: the last action was the skip
    assert again.undo()["item_id"] == skipped
    again.retrain(wait=True)
    assert again.model_version == curve["version"].max() + 1


def test_errors_in_fit_are_shown_logged_and_keep_labels(make_labeler, digits, caplog) -> None:
    _, y, _ = digits
    lab = make_labeler(estimator=FailingAfter(limit=4), retrain_every=1000)
    answer_batch(lab, y)  # 4 labels: fits
    lab.retrain(wait=True)
    assert lab.model_version == 1 and lab.last_error is None
    good = lab.snapshot
    answer_batch(lab, y)  # 8 labels: the model refuses
    with caplog.at_level(logging.ERROR, logger="alwidgets"):
        lab.retrain(wait=True)
    assert "refusing to fit on 8 labels" in lab.last_error
    assert "refusing to fit" in caplog.text and "Traceback" in caplog.text
    status = lab.batch_widget.status
    assert status["state"] == "error" and "refusing to fit" in status["detail"]
    assert any(m.get("kind") == "error" for m in lab.batch_widget.sent)
    assert lab.snapshot is good  # the previous model stays in use
    assert len(lab.labels) == 8  # no label lost
    # labeling goes on
    press(lab, 1, lab.batch_widget.cards[0]["key"], "skip")
    assert len(lab.store.state) == 9


def test_next_batch_returns_unanswered_items_to_the_pool(make_labeler) -> None:
    lab = make_labeler()
    first = lab.batch
    second = lab.next_batch()
    assert second == lab.batch and not set(first) & set(second)
    assert not lab._ctl.queue.queued[[lab._ctl.mirror.pos(i) for i in first]].any()


def test_retrain_every_n_labels_runs_in_the_background(make_labeler) -> None:
    lab = make_labeler(retrain_every=2, batch_size=8)  # no batch ends in this test
    items = lab.batch
    lab.label(items[0], 0)
    assert lab._ctl.job_event() is None and lab.model_version == 0  # 1 label: not yet
    lab.label(items[1], 1)  # 2 labels from 2 classes: a retrain starts by itself
    started = lab._ctl.job_event()
    assert started is not None or lab.model_version == 1  # running, or done already
    if started is not None:
        assert started.wait(60)  # waited for, never forced: retrain() is not called
    assert lab.model_version == 1
    assert lab.learning_curve["n_labels"].tolist() == [2]
    lab.label(items[2], 2)
    assert lab._ctl.job_event() is None  # 1 new label: no retrain yet


def test_app_is_the_cell_output(make_labeler) -> None:
    lab = make_labeler()
    bundle = lab._repr_mimebundle_()
    data = bundle[0] if isinstance(bundle, tuple) else bundle
    view = data["application/vnd.jupyter.widget-view+json"]
    assert view["model_id"] == lab.widget.model_id
    assert lab.widget.children[0] is lab.batch_widget


def test_text_pool_with_a_vectorizing_pipeline(make_labeler) -> None:
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.pipeline import make_pipeline

    words = {"spam": ["win", "cash", "prize", "free"], "ham": ["meeting", "lunch", "notes"]}
    rng = np.random.default_rng(0)
    texts, truth = [], []
    for i in range(60):
        kind = "spam" if i % 3 == 0 else "ham"
        texts.append(" ".join(rng.choice(words[kind], size=4)) + f" #{i}")
        truth.append(kind)
    lab = make_labeler(
        X=texts,
        items=None,
        display="text",
        classes=["ham", "spam"],
        estimator=make_pipeline(TfidfVectorizer(), LogisticRegression()),
    )
    assert "alw-text" in lab.batch_widget.cards[0]["html"]
    for _ in range(2):
        for item in lab.batch:
            lab.label(item, truth[item])
    lab.retrain(wait=True)
    assert lab.last_error is None and lab.model_version >= 1
    card = lab.batch_widget.next_cards[0]
    assert card["suggestion"] in (0, 1) and card["why"].startswith("margin")


def test_classes_that_are_single_characters_are_their_own_keys(make_labeler) -> None:
    lab = make_labeler()  # digits 0-9
    assert [c["key"] for c in lab.batch_widget.classes] == [str(d) for d in range(10)]
    named = make_labeler(classes=["cat", "dog", "x"], store=None, oracle=None)
    assert [c["key"] for c in named.batch_widget.classes] == ["1", "2", "x"]


def test_plots_carry_their_traces_in_the_synced_state(make_labeler) -> None:
    # what a view reads on first render, whatever the timing of one-off messages
    lab = make_labeler()
    curve, hist = lab.learning_curve_plot.widget, lab.histogram.widget
    assert [t["type"] for t in curve._widget_data] == ["scatter"]
    assert [t["type"] for t in hist._widget_data] == ["bar", "scatter"]
    assert curve._widget_layout["width"] == hist._widget_layout["width"] == 420
    assert curve._widget_layout["xaxis"]["title"]["text"] == "labels"


def test_cards_show_the_score_of_the_model_in_use_after_a_retrain(make_labeler, digits) -> None:
    _, y, _ = digits
    lab = make_labeler(batch_size=6)
    for _ in range(2):  # the second batch on screen was picked by model v1
        for item in lab.batch:
            lab.label(item, int(y[item]))
        lab.retrain(wait=True)
    assert lab.model_version == 2
    scores = np.asarray(lab.learner.scores_)
    cards = lab.batch_widget.cards
    assert cards
    for card in cards:
        expected = float(scores[int(card["key"])])
        assert card["score"] == pytest.approx(expected)
        assert f"{expected:.3f}" in card["why"] and f"{expected:.3f}" in card["why_long"]
    # the histogram marks the batch at the same scores the cards show
    shown = sorted(c["score"] for c in cards)
    marked = lab.histogram.widget.data[1].x
    assert shown == pytest.approx(sorted(float(x) for x in marked))
    # and they differ from one another: not one rounded or normalised value for all
    assert len({round(s, 3) for s in shown}) > 1


def test_retrain_without_new_labels_adds_no_duplicate_curve_point(make_labeler, digits) -> None:
    _, y, _ = digits
    lab = make_labeler(retrain_every=0)  # manual: only retrain() fits
    labeled = list(lab.batch)
    for item in labeled:
        lab.label(item, int(y[item]))
    lab.retrain(wait=True)
    first = lab.snapshot
    assert lab.learning_curve["n_labels"].tolist() == [len(labeled)]
    lab.retrain(wait=True)  # same labels: nothing to learn, nothing logged
    assert lab.snapshot is first and lab.model_version == 1
    assert lab.learning_curve["n_labels"].tolist() == [len(labeled)]
    lab.retrain(wait=True, force=True)  # asked for explicitly: refit and log
    assert lab.model_version == 2 and len(lab.learning_curve) == 2
    # a changed label (same count) is new information: it is learned from
    item = labeled[0]
    lab.label(item, (int(y[item]) + 1) % 10)
    lab.retrain(wait=True)
    assert lab.model_version == 3
    assert lab.learning_curve["n_labels"].tolist() == [len(labeled)] * 3
    new = next(i for i in lab.batch if i not in labeled)
    lab.label(new, int(y[new]))
    lab.retrain(wait=True)
    assert lab.learning_curve["n_labels"].tolist()[-1] == len(labeled) + 1

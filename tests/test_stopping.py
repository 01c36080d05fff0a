"""Stopping signals and the combined hint."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.metrics import cohen_kappa_score

from alwidgets.exceptions import InvalidInputError
from alwidgets.stopping import (
    Budget,
    Plateau,
    StabilizingPredictions,
    StoppingHint,
    TargetScore,
    cohen_kappa,
    stopping_hint,
)

labels = st.lists(st.integers(0, 3), min_size=1, max_size=40)


@settings(max_examples=60, deadline=None)
@given(st.data())
def test_cohen_kappa_matches_scikit_learn(data: st.DataObject) -> None:
    a = data.draw(labels)
    b = data.draw(st.lists(st.integers(0, 3), min_size=len(a), max_size=len(a)))
    ours = cohen_kappa(a, b)
    assert ours == pytest.approx(cohen_kappa(b, a), nan_ok=True)
    if len(set(a) | set(b)) > 1:
        assert ours == pytest.approx(cohen_kappa_score(a, b))
    if len(set(a)) > 1:
        assert cohen_kappa(a, a) == 1.0
    else:  # one label throughout: chance agreement is 1, kappa undefined
        assert np.isnan(cohen_kappa(a, a))


def test_cohen_kappa_rejects_mismatched_predictions() -> None:
    with pytest.raises(InvalidInputError, match="equal length"):
        cohen_kappa([0, 1], [0, 1, 1])
    stop = StabilizingPredictions()
    stop.update(predictions=[0, 1])
    with pytest.raises(InvalidInputError, match="same fixed stop set"):
        stop.update(predictions=[0, 1, 1])


def test_undefined_kappa_is_one_answer_for_both_callers() -> None:
    from alwidgets.store._views import agreement_frame

    assert np.isnan(cohen_kappa([1, 1, 1], [1, 1, 1]))
    table = agreement_frame({"ann": {1: "a", 2: "a"}, "bo": {1: "a", 2: "a"}})
    assert table["agreement"].tolist() == [1.0] and np.isnan(table["kappa"].iloc[0])
    stop = StabilizingPredictions(window=2, threshold=0.9)
    for _ in range(4):  # a one-class model is never "stable"
        assert not stop.update(predictions=np.zeros(5, dtype=int))
    assert len(stop.kappas) == 3 and all(np.isnan(k) for k in stop.kappas)


def test_kappa_compares_numpy_and_python_labels_by_value() -> None:
    assert cohen_kappa(np.array([0, 1, 1]), [0, 1, 1]) == 1.0
    assert cohen_kappa([1, 0], ["1", "0"]) < 1.0


def test_budget() -> None:
    b = Budget(10)
    assert not b.update(n_labels=9) and b.reason == ""
    assert b.update(n_labels=12)
    assert b.reason == "label budget reached (12 of 10 labels)"
    b.reset()
    assert not b.should_stop
    with pytest.raises(InvalidInputError, match="positive integer"):
        Budget(0)


def test_target_score_ignores_missing_scores() -> None:
    t = TargetScore(0.9, metric="f1")
    assert not t.update(score=None) and not t.update(score=float("nan"))
    assert t.update(score=0.91) and t.reason.startswith("f1 0.910 reached")


def test_plateau_resets_on_improvement() -> None:
    p = Plateau(patience=2, min_delta=0.01)
    for s in (0.5, 0.6, 0.601):  # one flat round
        p.update(score=s)
    assert not p.should_stop
    p.update(score=0.7)  # real gain: counter restarts
    p.update(score=0.702)
    assert not p.should_stop
    assert p.update(score=0.703)
    assert "flat for 2 rounds" in p.reason and "0.703" in p.reason
    p.reset()
    assert not p.should_stop and not p.update(score=0.1)


def test_stabilizing_predictions_window_and_threshold() -> None:
    rng = np.random.default_rng(0)
    base = rng.integers(0, 3, 200)
    stop = StabilizingPredictions(window=3, threshold=0.99)
    noisy = base.copy()
    noisy[:40] = (noisy[:40] + 1) % 3
    assert not stop.update(predictions=noisy)  # first round: nothing to compare
    assert not stop.update(predictions=base)  # kappa well below 0.99
    assert not stop.update(predictions=base)
    assert not stop.update(predictions=base)  # window still holds the unstable pair
    assert stop.update(predictions=base)
    assert stop.kappas[-3:] == [1.0, 1.0, 1.0]
    assert stop.reason == (
        "predictions stable for 3 rounds (κ=1.000): more labels are unlikely to help"
    )
    mutable = base.copy()
    s2 = StabilizingPredictions(window=1)
    s2.update(predictions=mutable)
    mutable[:] = 0  # later changes to the caller's array do not leak in
    assert s2.update(predictions=base)


def test_stopping_hint_combines_reasons() -> None:
    hint = StoppingHint([Budget(30), TargetScore(0.8)])
    assert hint.update(n_labels=10, score=0.5) is None and not hint.should_stop
    text = hint.update(n_labels=30, score=0.85)
    assert text == (
        "label budget reached (30 of 30 labels); accuracy 0.850 reached the target 0.800"
    )
    assert hint.should_stop
    default = StoppingHint()
    assert {type(c).__name__ for c in default.criteria} == {"Plateau", "StabilizingPredictions"}


def test_stopping_hint_from_history() -> None:
    curve = pd.DataFrame(
        {"n_labels": [10, 20, 30, 40, 50], "accuracy": [0.5, 0.7, 0.7, 0.701, 0.7]}
    )
    assert "flat for 3 rounds" in stopping_hint(curve)
    assert stopping_hint(curve.iloc[:3]) is None
    assert "budget reached (50 of 50" in stopping_hint(curve, budget=50)
    assert "reached the target 0.650" in stopping_hint(curve.iloc[:2], target=0.65)
    preds = [np.array([0, 1, 1, 0])] * 4
    assert "predictions stable for 3 rounds" in stopping_hint(None, preds)
    assert stopping_hint(None, preds[:3]) is None
    other = pd.DataFrame({"n_labels": [1, 2], "f1": [0.1, 0.2]})
    assert stopping_hint(other) is None, "missing score column is skipped"
    assert stopping_hint([{"n_labels": 5, "f1": 0.9}], score_column="f1", target=0.8) == (
        "f1 0.900 reached the target 0.800"
    )


def test_stabilizing_predictions_on_multi_label_indicators() -> None:
    """Indicator predictions: kappa over the flattened (item, class) bits."""
    from alwidgets.stopping import StabilizingPredictions, cohen_kappa

    rng = np.random.default_rng(0)
    first = (rng.random((50, 4)) > 0.6).astype(int)
    second = first.copy()
    second[:5, 0] = 1 - second[:5, 0]
    stop = StabilizingPredictions(window=1, threshold=0.99)
    stop.update(predictions=first)
    assert stop.update(predictions=second) is False
    assert stop.kappas[-1] == pytest.approx(cohen_kappa(first.ravel(), second.ravel()))
    assert 0.8 < stop.kappas[-1] < 1.0
    assert stop.update(predictions=second) is True  # identical sets: kappa 1
    with pytest.raises(InvalidInputError, match="same shape every round"):
        stop.update(predictions=second[:, :3])

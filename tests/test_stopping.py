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
    PrequentialAccuracy,
    StabilizingPredictions,
    StoppingHint,
    TargetScore,
    cohen_kappa,
    f_bound,
    prediction_kappa,
    prequential_accuracy,
    rule_holds,
    stability_report,
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


# -- the published rule, stability_report, prequential accuracy -----------------------


def _history(kappa_like: list[int], n: int = 400, k: int = 3, seed: int = 0) -> list[np.ndarray]:
    """Predictions whose successive models differ on ``kappa_like[i]`` items each time."""
    rng = np.random.default_rng(seed)
    out = [rng.integers(0, k, n)]
    for changed in kappa_like:
        nxt = out[-1].copy()
        where = rng.choice(n, size=changed, replace=False)
        nxt[where] = (nxt[where] + 1) % k
        out.append(nxt)
    return out


def test_the_rule_averages_kappa_itself_over_the_window() -> None:
    # mean of [0.98, 1, 1] is 0.993 > 0.99: the published rule stops, "each κ above
    # the threshold" would not
    assert rule_holds([0.98, 1.0, 1.0], 3, 0.99)
    assert not all(k > 0.99 for k in [0.98, 1.0, 1.0])
    # a constant but low κ: the change of κ is 0 (a variant would stop), κ itself is not stable
    assert not rule_holds([0.5, 0.5, 0.5], 3, 0.99)
    # strictly greater than the threshold, and never with an undefined κ in the window
    assert not rule_holds([0.5, 0.5, 0.5], 3, 0.5)
    assert not rule_holds([1.0, float("nan"), 1.0], 3, 0.5)
    stop = StabilizingPredictions(window=3, threshold=0.99)
    for preds in _history([120, 0, 0, 0]):
        stop.update(predictions=preds)
    assert stop.should_stop and stop.kappas[-3:] == [1.0, 1.0, 1.0]
    with pytest.raises(InvalidInputError, match="between 0 and 1"):
        StabilizingPredictions(threshold=1.0)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.sampled_from([0, 0, 0, 1, 2, 8, 40]), min_size=0, max_size=12))
def test_report_replays_the_criterion(changes: list[int]) -> None:
    history = _history(changes, n=300)
    crit = StabilizingPredictions(window=2, threshold=0.98)
    held = [crit.update(predictions=p) for p in history]
    report = stability_report(history, window=2, threshold=0.98, n_labels=list(range(len(history))))
    assert report["holds"] == held[-1]
    first = held.index(True) if True in held else None
    assert report["first_held"] == first and report["first_held_labels"] == first
    np.testing.assert_allclose(report["kappas"], crit.kappas)
    assert report["changed"] == pytest.approx([c / 300 for c in changes])
    if report["holds"]:
        since = report["since"]
        assert all(held[since:]) and (since == 0 or not held[since - 1])
        assert report["sentence"].startswith("predictions stable")
    else:
        assert report["since"] is None


def test_report_numbers_and_sentence() -> None:
    history = _history([200, 4, 2, 0], n=400)
    report = stability_report(history, window=3, threshold=0.99, n_labels=[10, 20, 30, 40, 50])
    kappas = report["kappas"]
    assert report["kappa"] == pytest.approx(np.mean(kappas[-3:]))
    assert report["min_kappa"] == pytest.approx(min(kappas[-3:]))
    assert report["bound"] == pytest.approx(4 * (1 - min(kappas[-3:])) / min(kappas[-3:]))
    assert report["changed_last"] == 0.0
    assert report["agree"] == pytest.approx(1 - 6 / 400, abs=1e-9)  # items changed in the window
    assert report["holds"] and report["since_labels"] == 50 and report["n_items"] == 400
    bound = np.ceil(report["bound"] * 100) / 100
    assert report["sentence"] == (
        f"predictions stable: the last 4 models agree on 98 % of the stop set (mean κ "
        f"{report['kappa']:.3f}) — one more retrain is unlikely to change F1 by more than "
        f"~{bound:.2f}"
    )
    changing = stability_report(_history([200, 40, 20], n=400))
    assert not changing["holds"] and changing["since"] is None
    assert changing["sentence"].startswith("predictions still changing: mean κ 0.")
    assert "5 % of the stop set changed at the last one" in changing["sentence"]
    early = stability_report(history[:2])
    assert early["sentence"] == "stop signal: needs 4 models predicting the stop set (2 so far)"
    assert np.isnan(early["kappa"]) and np.isnan(early["bound"]) and not early["holds"]
    one_class = stability_report([np.zeros(50, dtype=int)] * 5)
    assert one_class["sentence"].startswith("predictions not comparable yet")
    assert stability_report([])["n_models"] == 0


def test_report_on_indicator_matrices_and_what_it_refuses() -> None:
    rng = np.random.default_rng(3)
    Y = (rng.random((200, 5)) < 0.3).astype(int)
    moved = Y.copy()
    moved[:10, 0] = 1 - moved[:10, 0]
    report = stability_report([Y, moved, moved, moved])
    assert report["changed"] == [0.05, 0.0, 0.0]
    assert report["kappas"][0] == pytest.approx(cohen_kappa_score(Y.ravel(), moved.ravel()))
    assert prediction_kappa(Y, moved) == report["kappas"][0]
    with pytest.raises(InvalidInputError, match=r"label sets .*indicator matrix"):
        stability_report([[("a",), ("a", "b")], [("a",), ("b",)]])
    with pytest.raises(InvalidInputError, match="label sets"):
        stability_report([pd.Series([("a",), ("b",)]), pd.Series([("a",), ("b",)])])
    with pytest.raises(InvalidInputError, match="not 0/1"):
        stability_report([np.full((3, 2), 2), np.full((3, 2), 2)])
    with pytest.raises(InvalidInputError, match="same shape every round"):
        stability_report([Y, Y[:, :4]])
    with pytest.raises(InvalidInputError, match="one count per model"):
        stability_report([Y, Y], n_labels=[10])
    stop = StabilizingPredictions(window=1, threshold=0.9)
    stop.update(predictions=Y)
    assert stop.update(predictions=Y.astype(bool))


@settings(max_examples=200, deadline=None)
@given(st.data())
def test_f_bound_holds_for_binary_f1(data: st.DataObject) -> None:
    # Bloodgood & Grothendieck: κ(A, B) >= T > 0 implies |F1(A) - F1(B)| <= 4(1 - T)/T,
    # whatever the truth (F1 of the positive class on the same items).
    n = data.draw(st.integers(4, 40))
    bits = st.lists(st.integers(0, 1), min_size=n, max_size=n)
    truth, a, b = (np.array(data.draw(bits)) for _ in range(3))
    kappa = prediction_kappa(a, b)
    if not np.isfinite(kappa) or kappa <= 0:
        return

    def f1(pred: np.ndarray) -> float:
        tp = int(((pred == 1) & (truth == 1)).sum())
        denom = int(pred.sum() + truth.sum())
        return 2 * tp / denom if denom else 0.0

    assert abs(f1(a) - f1(b)) <= f_bound(kappa) + 1e-12


def test_prequential_accuracy() -> None:
    assert prequential_accuracy(["a", "b", None, "b"], ["a", "a", "b", None]) == 0.5
    assert np.isnan(prequential_accuracy([None, None], ["a", "b"]))
    assert prequential_accuracy(np.array([1, 2]), [1, 2]) == 1.0  # numpy and Python values
    assert prequential_accuracy([1, 2], ["1", "2"]) == 0.0  # 1 and "1" differ
    assert prequential_accuracy([("a", "b"), ("a",)], [("b", "a"), ("a", "c")]) == 0.5
    assert prequential_accuracy(np.array([[1, 0], [1, 1]]), np.array([[1, 0], [0, 1]])) == 0.5
    with pytest.raises(InvalidInputError, match="2 suggestions, 3 answers"):
        prequential_accuracy(["a", "b"], ["a", "b", "c"])
    p = PrequentialAccuracy(window=4)
    assert np.isnan(p.update([None, None], ["a", "b"], n_labels=2))
    assert p.report()["sentence"].startswith("suggestion vs answer: no answered item")
    assert p.update(["a", "a", "a"], ["a", "b", "a"], n_labels=5) == pytest.approx(2 / 3)
    assert p.update(["b", "b"], ["b", "b"], n_labels=7) == 1.0
    assert p.recent() == (3, 4)  # the newest 4 compared items: a≠b, a=a, b=b, b=b
    report = p.report()
    assert report["overall"] == pytest.approx(4 / 5) and report["accuracy"] == 0.75
    assert "matched your answer on 3 of the last 4 labels (75 %)" in report["sentence"]
    assert "not held-out accuracy" in report["sentence"]
    assert p.history["n"].tolist() == [0, 3, 2] and p.history["n_labels"].tolist() == [2, 5, 7]


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

"""Teaching mode: the oracle answers through the same code path as clicks."""

from __future__ import annotations

import numpy as np
import pytest

from alwidgets import InvalidInputError


def test_step_labels_the_batch_with_the_oracle_and_retrains(make_labeler, digits) -> None:
    _, y, _ = digits
    lab = make_labeler(oracle=y, compare_with=[])
    first = lab.batch
    done = lab.step()
    assert done == first
    assert lab.labels["label"].to_dict() == {i: int(y[i]) for i in first}
    # the store recorded them like clicks: strategy and rank at query time
    assert set(lab.store.events["strategy"]) == {"cold_start"}
    done = lab.step()
    assert lab.model_version >= 1
    assert lab.learning_curve["n_labels"].iloc[-1] == 8


def test_run_races_strategies_against_random(make_labeler, digits) -> None:
    from sklearn.datasets import load_digits

    d = load_digits()
    _, y, _ = digits
    lab = make_labeler(
        oracle=y,
        compare_with=["random", "entropy"],
        batch_size=6,
        eval_set=(d.data[1500:], d.target[1500:]),
    )
    lab.run(n_batches=3, delay=0, wait=True)
    curve = lab.learning_curve
    assert curve["n_labels"].tolist() == [6, 12, 18]
    for col in ("score", "random_score", "entropy_score"):  # accuracies on the eval set
        assert curve[col].between(0.05, 1).all(), curve[col]  # chance on 10 digits is 0.1
    assert (curve["random_score_std"] >= 0).all() and curve["random_score_std"].notna().all()
    assert curve["score"].iloc[-1] > curve["score"].iloc[0]  # the model learns
    series = lab.learning_curve_plot.series
    prequential = "suggestion = answer (prequential)"  # from the first model's batch on
    assert series == ["margin", "random (expected)", "entropy", prequential]
    assert list(lab.learning_curve_plot.widget.data[series.index(prequential)].x) == [12, 18]
    entropy_trace = lab.learning_curve_plot.widget.data[series.index("entropy")]
    assert list(entropy_trace.x) == [6, 12, 18]
    # the raced strategy labels its own items (same count, not the same set)
    assert len(lab._ctl.sched.compare_state["entropy"]) == 18


def test_run_in_background_can_be_stopped(make_labeler, digits) -> None:
    import time

    _, y, _ = digits
    lab = make_labeler(oracle=lambda i: int(y[i]), compare_with=[])
    lab.run(n_batches=None, delay=0.05)
    deadline = time.monotonic() + 60
    while len(lab.labels) < 2 * lab.batch_size:  # it labels by itself, batch after batch
        assert time.monotonic() < deadline, "run() labeled nothing"
        time.sleep(0.05)
    lab.stop()
    n = len(lab.labels)
    assert n >= 2 * lab.batch_size and n % lab.batch_size == 0  # whole steps only
    assert all(lab.labels.loc[i, "label"] == y[i] for i in lab.labels.index)
    time.sleep(0.3)
    assert len(lab.labels) == n  # nothing runs after stop()


def test_step_without_an_oracle_says_how_to_get_one(make_labeler) -> None:
    lab = make_labeler()
    with pytest.raises(InvalidInputError, match="oracle=y"):
        lab.step()
    with pytest.raises(InvalidInputError, match="oracle=y"):
        lab.run()


def test_process_worker_gives_the_same_result_as_a_thread(make_labeler, digits, tmp_path) -> None:
    _, y, _ = digits
    results = {}
    for mode in ("thread", "process"):
        lab = make_labeler(
            store=tmp_path / f"{mode}.alw", oracle=y, compare_with=[], retrain_in=mode
        )
        lab.step()
        lab.step()
        assert lab.retrain_mode == mode and lab._worker.fallback_reason is None
        assert lab.learner.is_fitted  # unpickled on first use in process mode
        results[mode] = (lab.snapshot.order.copy(), lab.learning_curve["n_labels"].tolist())
        lab.close()
    assert np.array_equal(results["thread"][0], results["process"][0])
    assert results["thread"][1] == results["process"][1]

"""Multi-label utilities against their definitions, and the tasks of every strategy."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from alwidgets import InvalidInputError
from alwidgets.strategies import (
    AutoStrategy,
    CardinalityModel,
    QueryContext,
    available_strategies,
    check_task,
    get_strategy,
    label_cardinality_inconsistency,
    max_loss_reduction,
    mean_margin,
)

probas = arrays(
    np.float64,
    st.tuples(st.integers(1, 8), st.integers(1, 6)),
    elements=st.floats(0, 1, allow_nan=False),
)


@settings(max_examples=60, deadline=None)
@given(proba=probas)
def test_mean_margin_is_the_mean_class_uncertainty(proba: np.ndarray) -> None:
    got = mean_margin(proba)
    expected = [np.mean([1 - abs(2 * p - 1) for p in row]) for row in proba]
    assert np.allclose(got, expected)
    assert got.dtype == np.float64 and ((got >= 0) & (got <= 1)).all()


@settings(max_examples=60, deadline=None)
@given(proba=probas, cardinality=st.floats(0, 6))
def test_lci_is_the_distance_of_the_predicted_count(proba: np.ndarray, cardinality: float) -> None:
    got = label_cardinality_inconsistency(proba, cardinality)
    expected = [abs(sum(p >= 0.5 for p in row) - cardinality) for row in proba]
    assert np.allclose(got, expected)


@settings(max_examples=60, deadline=None)
@given(proba=probas, data=st.data())
def test_max_loss_matches_the_svm_loss_with_f_equal_2p_minus_1(proba: np.ndarray, data) -> None:
    k = proba.shape[1]
    m = np.array(data.draw(st.lists(st.integers(0, k), min_size=len(proba), max_size=len(proba))))
    got = max_loss_reduction(proba, m)
    for row, count, score in zip(proba, m, got, strict=True):
        order = np.argsort(-row, kind="stable")
        y_hat = -np.ones(k)
        y_hat[order[:count]] = 1  # the predicted set: the m most probable classes
        f = 2 * row - 1
        assert score == pytest.approx(np.sum((1 - y_hat * f) / 2) / k)


def test_inputs_are_not_modified_and_bad_shapes_refused() -> None:
    proba = np.array([[0.2, 0.9], [0.6, 0.4]])
    keep = proba.copy()
    mean_margin(proba), label_cardinality_inconsistency(proba, 1.0)
    max_loss_reduction(proba, [1, 1])
    assert np.array_equal(proba, keep)
    with pytest.raises(InvalidInputError, match="shape"):
        mean_margin(np.array([0.1, 0.2]))
    with pytest.raises(InvalidInputError, match="n_labels has 1 entries for 2 items"):
        max_loss_reduction(proba, [1])


def test_cardinality_model_learns_counts_and_falls_back_to_a_constant() -> None:
    rng = np.random.default_rng(0)
    counts = rng.integers(1, 4, size=200)
    proba = np.where(np.arange(5)[None, :] < counts[:, None], 0.9, 0.1)
    proba = np.clip(proba + rng.normal(0, 0.05, proba.shape), 0, 1)
    model = CardinalityModel().fit(proba, counts)
    assert (model.predict(proba) == counts).mean() > 0.95
    constant = CardinalityModel().fit(proba[:5], np.full(5, 2))
    assert constant.predict(proba).tolist() == [2] * 200


def test_every_registered_strategy_names_its_tasks() -> None:
    for name in available_strategies():
        tasks = get_strategy(name).tasks
        assert tasks and tasks <= {"single", "multi"}, name
    multi = set(available_strategies("multi"))
    single = set(available_strategies("single"))
    assert {"mean_margin", "lci", "mmc", "random", "auto"} <= multi
    assert not {"mean_margin", "lci", "mmc"} & single
    assert multi | single == set(available_strategies())
    with pytest.raises(InvalidInputError, match="task must be 'single' or 'multi'"):
        available_strategies("both")


def test_check_task_resolves_auto_and_lists_what_fits() -> None:
    auto = get_strategy("auto")
    assert isinstance(auto, AutoStrategy)
    assert check_task(auto, False).name == "margin"
    assert check_task(auto, True).name == "mmu"
    assert check_task(auto, True) is check_task(auto, True)  # one object per task
    assert check_task(auto, None) is auto
    with pytest.raises(
        InvalidInputError, match="use one of: adaptive, auto, cluster_mean_margin, cold_start"
    ):
        check_task(get_strategy("entropy"), True)


def test_auto_on_a_context_follows_its_task() -> None:
    class Fixed:
        def __init__(self, proba: np.ndarray) -> None:
            self.proba = proba

        def predict_proba(self, X: np.ndarray) -> np.ndarray:
            return self.proba[: len(X)]

    proba = np.array([[0.5, 0.5, 0.0], [0.9, 0.05, 0.05], [0.45, 0.45, 0.1], [0.1, 0.1, 0.8]])
    X = np.zeros((4, 1))
    rng = np.random.default_rng(0)
    for multi in (False, True):
        ctx = QueryContext(X, estimator=Fixed(proba), multi_label=multi)
        got, scores = get_strategy("auto").select(ctx, 4, rng)
        name = "mmu" if multi else "margin"  # AUTO: the benchmarked default per task
        expected = get_strategy(name).select(ctx, 4, np.random.default_rng(1))[1]
        again = get_strategy("auto").select(ctx, 4, np.random.default_rng(1))[1]
        assert np.allclose(again, expected)
        assert scores[got[0]] == scores.max()


@pytest.mark.parametrize("name", ["lci", "mmc", "rare_margin", "cvirs", "adaptive"])
def test_label_strategies_need_the_labeled_sets(name: str) -> None:
    class Const:
        def predict_proba(self, X: np.ndarray) -> np.ndarray:
            return np.full((len(X), 3), 0.5)

    ctx = QueryContext(np.zeros((5, 1)), estimator=Const(), multi_label=True)
    with pytest.raises(Exception, match="labeled"):
        get_strategy(name).select(ctx, 2, np.random.default_rng(0))


def test_mmc_prefers_items_whose_predicted_set_is_least_sure() -> None:
    sure = [0.99, 0.01, 0.01]
    unsure = [0.6, 0.45, 0.4]
    proba = np.array([sure, unsure] * 3)
    scores = max_loss_reduction(proba, np.ones(6, dtype=int))
    assert all(a < b for a, b in itertools.pairwise(scores[:2]))

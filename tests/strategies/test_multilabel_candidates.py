"""The multi-label candidates for the default (mmu, adaptive, cvirs, rare_margin,
cluster_mean_margin) against their papers' definitions, computed the slow way."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy.stats import rankdata
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression

from alwidgets import ActiveLearner, InvalidInputError
from alwidgets.strategies import (
    AdaptiveMultiLabel,
    QueryContext,
    approximate_error,
    entropy_distance,
    get_strategy,
    label_cardinality_inconsistency,
    margin_rank_score,
    max_margin_uncertainty,
    mean_margin,
    rare_class_margin,
    vector_inconsistency,
)

probas = arrays(
    np.float64,
    st.tuples(st.integers(1, 8), st.integers(1, 6)),
    elements=st.floats(0, 1, allow_nan=False),
)
bits = arrays(np.uint8, st.tuples(st.integers(1, 6), st.just(5)), elements=st.integers(0, 1))


@settings(max_examples=80, deadline=None)
@given(proba=probas)
def test_mmu_is_the_inverse_separation_margin(proba: np.ndarray) -> None:
    for row, got in zip(proba, max_margin_uncertainty(proba), strict=True):
        f = 2 * row - 1
        pos, neg = f[f >= 0], f[f < 0]
        gap = (pos.min() if len(pos) else 0.0) - (neg.max() if len(neg) else 0.0)
        assert got == pytest.approx(1 / max(gap, 1e-12))
        assert 0.5 <= got <= 1e12


@settings(max_examples=60, deadline=None)
@given(proba=probas)
def test_approximate_error_is_the_sum_of_the_worst_hinge_losses(proba: np.ndarray) -> None:
    total = 0.0
    for row in proba:
        f = 2 * row - 1
        total += max([1 - v for v in f if v >= 0], default=0.0)
        total += max([1 + v for v in f if v < 0], default=0.0)
    assert approximate_error(proba) == pytest.approx(total, abs=1e-9)


@settings(max_examples=60, deadline=None)
@given(proba=probas, data=st.data())
def test_rare_class_margin_weights_classes_by_inverse_prevalence(proba: np.ndarray, data) -> None:
    k = proba.shape[1]
    prev = np.array(data.draw(st.lists(st.floats(0.01, 1), min_size=k, max_size=k)))
    w = (1 / prev) / (1 / prev).sum()
    expected = [(w * (1 - np.abs(2 * row - 1))).sum() for row in proba]
    assert np.allclose(rare_class_margin(proba, prev), expected)
    # equal prevalences: the plain mean margin
    assert np.allclose(rare_class_margin(proba, np.full(k, 0.3)), mean_margin(proba))


def test_rare_class_margin_refuses_a_bad_prevalence() -> None:
    with pytest.raises(InvalidInputError, match="one share in \\(0, 1\\] per class"):
        rare_class_margin(np.full((2, 3), 0.5), [0.5, 0.0, 0.2])
    with pytest.raises(ValueError, match="per class \\(3\\)"):
        rare_class_margin(np.full((2, 3), 0.5), [0.5, 0.2])


@settings(max_examples=60, deadline=None)
@given(proba=probas)
def test_margin_rank_score_is_the_borda_count_of_margin_ranks(proba: np.ndarray) -> None:
    n, q = proba.shape
    m = np.abs(2 * proba.astype(np.float32) - 1)
    if n == 1:
        assert margin_rank_score(proba).tolist() == [1.0]
        return
    ranks = np.column_stack([rankdata(m[:, j], method="average") for j in range(q)])
    expected = ((n - ranks) / (n - 1)).sum(axis=1) / q
    assert np.allclose(margin_rank_score(proba), expected)


def _slow_distance(a: np.ndarray, b: np.ndarray) -> float:
    q = len(a)
    if (a != b).all():
        return 1.0

    def h(*counts: float) -> float:
        return -sum(c / q * np.log2(c / q) for c in counts if c)

    joint = h(*[np.sum((a == u) & (b == v)) for u, v in itertools.product((0, 1), repeat=2)])
    if joint == 0:
        return 0.0
    return (2 * joint - h(a.sum(), q - a.sum()) - h(b.sum(), q - b.sum())) / joint


@settings(max_examples=60, deadline=None)
@given(A=bits, B=bits)
def test_entropy_distance_and_vector_inconsistency_match_the_definition(A, B) -> None:
    D = entropy_distance(A, B)
    slow = np.array([[_slow_distance(a, b) for b in B] for a in A])
    assert np.allclose(D, slow, atol=1e-9)
    assert ((D >= 0) & (D <= 1)).all()
    assert np.allclose(np.diag(entropy_distance(A, A)), 0)
    assert np.allclose(vector_inconsistency(A, B), slow.mean(axis=1))


def test_cvirs_scores_rank_times_inconsistency_among_the_unlabeled_rows(multi_problem) -> None:
    p = multi_problem
    learner = p.learner("cvirs")
    free = np.setdiff1d(np.arange(len(p.X)), p.labeled)
    learner.query(p.X, 5, exclude=p.labeled)
    proba = learner.predict_proba(p.X[free])
    expected = margin_rank_score(proba) * vector_inconsistency(proba >= 0.5, p.y[p.labeled])
    assert np.allclose(learner.scores_[free], expected)
    assert np.isnan(learner.scores_[p.labeled]).all()


def test_adaptive_picks_the_beta_whose_refit_model_errs_least(multi_problem) -> None:
    p = multi_problem
    learner = p.learner("adaptive", random_state=3)
    free = np.setdiff1d(np.arange(len(p.X)), p.labeled)
    got = learner.query(p.X, 4, exclude=p.labeled)
    strategy = learner.strategy_
    assert isinstance(strategy, AdaptiveMultiLabel) and strategy.beta_ in strategy.betas
    proba = learner.predict_proba(p.X)
    y = p.y[p.labeled]
    u = max_margin_uncertainty(proba)
    c = label_cardinality_inconsistency(proba, y.sum(axis=1).mean())
    beta = strategy.beta_
    assert np.allclose(learner.scores_[free], u[free] ** beta * c[free] ** (1 - beta))
    assert learner.scores_[got[0]] == np.nanmax(learner.scores_)
    # every β's best item, refit with its predicted set: none errs less than the chosen β's
    errors = {}
    for b in strategy.betas:
        s = u[free] ** b * c[free] ** (1 - b)
        for item in free[s == s.max()]:
            model = clone(learner.estimator_).fit(
                np.vstack([p.X[p.labeled], p.X[item]]), np.vstack([y, proba[item] >= 0.5])
            )
            errors.setdefault(b, []).append(approximate_error(model.predict_proba(p.X[free])))
    assert min(errors[beta]) <= min(min(e) for e in errors.values()) + 1e-9


def test_adaptive_refuses_bad_betas() -> None:
    with pytest.raises(InvalidInputError, match="betas must be numbers in \\[0, 1\\]"):
        AdaptiveMultiLabel(betas=[0.5, 2.0])


def test_cluster_mean_margin_picks_among_the_most_uncertain_rows(multi_problem) -> None:
    p = multi_problem
    learner = p.learner("cluster_mean_margin")
    got = learner.query(p.X, 3, exclude=p.labeled)
    free = np.setdiff1d(np.arange(len(p.X)), p.labeled)
    mm = mean_margin(learner.predict_proba(p.X[free]))
    candidates = set(free[mm >= np.sort(mm)[-30]].tolist())  # the 10·n most uncertain (+ ties)
    assert set(got.tolist()) <= candidates
    assert learner.last_strategy_ == "cluster_mean_margin"
    assert get_strategy("cluster_margin").tasks == {"single"}


def test_rare_margin_favours_the_item_uncertain_on_a_rare_class() -> None:
    class Fixed:
        def predict_proba(self, X: np.ndarray) -> np.ndarray:
            return np.array([[0.5, 0.02], [0.98, 0.5]])[: len(X)]

    y = np.array([[1, 0]] * 9 + [[0, 1]])  # class 1 is rare among the labeled items
    ctx = QueryContext(np.zeros((2, 1)), estimator=Fixed(), multi_label=True, y_labeled=y)
    got, _ = get_strategy("rare_margin").select(ctx, 1, np.random.default_rng(0))
    assert got.tolist() == [1]
    mm = mean_margin(Fixed().predict_proba(np.zeros((2, 1))))
    assert mm[0] == pytest.approx(mm[1])  # the plain mean margin cannot tell them apart


def test_every_candidate_runs_through_the_learner_on_sparse_rows(multi_problem) -> None:
    import scipy.sparse as sp

    p = multi_problem
    for name in ("mmu", "adaptive", "cvirs", "rare_margin", "cluster_mean_margin"):
        learner = ActiveLearner(LogisticRegression(max_iter=300), name, random_state=0)
        learner.fit(sp.csr_matrix(p.X[p.labeled]), p.y[p.labeled])
        got = learner.query(sp.csr_matrix(p.X), 4, exclude=p.labeled)
        assert len(set(got.tolist())) == 4 and not set(got.tolist()) & set(p.labeled.tolist())

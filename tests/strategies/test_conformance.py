"""One suite, every registered strategy on every task it is for: the invariants a query must keep.

Shapes, score ranges, determinism under ``random_state``, independence from the
chunk size, excluded items never returned, no duplicates, ``n`` larger than what
remains, inputs not mutated — for each name in ``available_strategies(task)``, on a
single-label problem and on a multi-label one (``Strategy.tasks``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from alwidgets.strategies import AutoStrategy, available_strategies, get_strategy

STRATEGIES = available_strategies()
CASES = [(name, task) for task in ("single", "multi") for name in available_strategies(task)]
IDS = [f"{name}-{task}" for name, task in CASES]


def cases(test):  # every (strategy, task) case, with the task's problem as `problem`
    test = pytest.mark.parametrize("name,task_problem", CASES, ids=IDS, indirect=["task_problem"])(
        test
    )
    return test


def _expected_name(name: str, multi: bool) -> str:
    strategy = get_strategy(name)
    return strategy.resolve(multi).name if isinstance(strategy, AutoStrategy) else strategy.name


def _same(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.array_equal(a, b, equal_nan=True))


def test_every_builtin_name_is_covered() -> None:
    expected = {
        "random",
        "least_confidence",
        "margin",
        "entropy",
        "qbc",
        "density",
        "coreset",
        "cluster_margin",
        "badge",
        "cold_start",
        "auto",
        "mean_margin",
        "lci",
        "mmc",
    }
    assert expected <= set(STRATEGIES)
    assert {"random", "mean_margin", "lci", "mmc", "auto"} <= set(available_strategies("multi"))
    assert not {"margin", "entropy", "qbc"} & set(available_strategies("multi"))


@cases
def test_shapes_and_score_range(task_problem, name: str) -> None:
    problem = task_problem
    learner = problem.learner(name)
    idx = learner.query(problem.X, 7)
    assert idx.dtype == np.int64 and idx.shape == (7,)
    scores = learner.scores_
    assert scores.dtype == np.float64 and scores.shape == (len(problem.X),)
    lo, hi = get_strategy(learner.last_strategy_).bounds  # 'auto': the strategy it chose
    finite = scores[~np.isnan(scores)]
    assert len(finite) > 0
    assert np.all(finite >= lo - 1e-12) and np.all(finite <= hi + 1e-12)
    assert not np.isnan(scores[idx]).any(), "every returned item has a score"
    assert learner.last_strategy_ == _expected_name(name, problem.y.ndim == 2)
    assert learner.multi_label_ is (problem.y.ndim == 2)


@cases
def test_deterministic_under_random_state(task_problem, name: str) -> None:
    problem = task_problem
    a, b = problem.learner(name, random_state=3), problem.learner(name, random_state=3)
    ia, ib = a.query(problem.X, 6), b.query(problem.X, 6)
    assert np.array_equal(ia, ib)
    assert _same(a.scores_, b.scores_)
    # a second query continues the same seeded stream on both
    assert np.array_equal(a.query(problem.X, 6, exclude=ia), b.query(problem.X, 6, exclude=ib))


@cases
def test_result_does_not_depend_on_chunk_size(task_problem, name: str) -> None:
    problem = task_problem
    whole = problem.learner(name, chunk_size=10_000)
    small = problem.learner(name, chunk_size=7)
    assert np.array_equal(whole.query(problem.X, 5), small.query(problem.X, 5))
    assert np.allclose(whole.scores_, small.scores_, equal_nan=True)


@cases
def test_excluded_never_returned_and_no_duplicates(task_problem, name: str) -> None:
    problem = task_problem
    rng = np.random.default_rng(1)
    exclude = rng.choice(len(problem.X), 100, replace=False)
    learner = problem.learner(name)
    idx = learner.query(problem.X, 20, exclude=exclude)
    assert len(idx) == 20
    assert len(np.unique(idx)) == len(idx)
    assert not set(idx.tolist()) & set(exclude.tolist())
    assert np.isnan(learner.scores_[exclude]).all()


@cases
def test_n_larger_than_what_remains(task_problem, name: str) -> None:
    problem = task_problem
    n_pool = len(problem.X)
    exclude = np.arange(n_pool - 4)
    learner = problem.learner(name)
    idx = learner.query(problem.X, 50, exclude=exclude)
    assert sorted(idx.tolist()) == list(range(n_pool - 4, n_pool))
    mask = np.ones(n_pool, dtype=bool)
    assert learner.query(problem.X, 3, exclude=mask).size == 0


@cases
def test_inputs_not_mutated(task_problem, name: str) -> None:
    problem = task_problem
    X = problem.X.copy()
    exclude = np.arange(0, 150, 3)
    exclude_copy = exclude.copy()
    learner = problem.learner(name)
    learner.query(X, 5, exclude=exclude)
    assert np.array_equal(X, problem.X)
    assert np.array_equal(exclude, exclude_copy)
    mask = np.zeros(150, dtype=bool)
    mask[::4] = True
    learner.query(X, 5, exclude=mask)
    assert mask.sum() == len(range(0, 150, 4))


@cases
def test_sparse_and_dataframe_pools_give_the_same_batch(task_problem, name: str) -> None:
    problem = task_problem
    lab = problem.labeled
    frame_X = pd.DataFrame(problem.X, columns=list("abcde"))
    dense = problem.learner(name).query(problem.X, 5)
    sparse = problem.learner(name).query(sp.csr_matrix(problem.X), 5)
    frame_learner = problem.unfitted(name)
    frame = frame_learner.fit(frame_X.iloc[lab], problem.y[lab]).query(frame_X, 5)
    assert dense.tolist() == sparse.tolist() == frame.tolist()


@cases
def test_works_on_a_pool_of_one(task_problem, name: str) -> None:
    problem = task_problem
    learner = problem.learner(name)
    assert learner.query(problem.X[:1], 3).tolist() == [0]

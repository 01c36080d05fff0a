"""Names, registration, and user functions as strategies."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression

from alwidgets import ActiveLearner, InvalidInputError, UnknownStrategyError
from alwidgets.strategies import (
    CallableStrategy,
    QueryContext,
    Strategy,
    UtilityStrategy,
    available_strategies,
    get_strategy,
    register_strategy,
    unregister_strategy,
)


def test_unknown_name_lists_available_and_suggests() -> None:
    with pytest.raises(UnknownStrategyError) as info:
        get_strategy("entropyy")
    msg = str(info.value)
    assert "did you mean 'entropy'" in msg
    for name in available_strategies():
        assert name in msg
    assert isinstance(info.value, ValueError)


def test_unknown_name_through_the_learner(problem) -> None:
    learner = ActiveLearner(LogisticRegression(), strategy="nope")
    with pytest.raises(UnknownStrategyError, match="available: adaptive, auto, badge"):
        learner.fit(problem.X[problem.labeled], problem.y[problem.labeled])


def test_names_build_fresh_objects_and_objects_pass_through() -> None:
    assert get_strategy("margin") is not get_strategy("margin")
    s = get_strategy("badge")
    assert get_strategy(s) is s
    with pytest.raises(UnknownStrategyError, match="a name, a Strategy or a function"):
        get_strategy(42)  # type: ignore[arg-type]


def test_register_and_unregister() -> None:
    register_strategy("smallest_max", lambda: UtilityStrategy(lambda p: -p.max(1), "smallest_max"))
    try:
        assert "smallest_max" in available_strategies()
        with pytest.raises(UnknownStrategyError, match="already registered"):
            register_strategy("smallest_max", RandomStrategyFactory)
        register_strategy("smallest_max", RandomStrategyFactory, overwrite=True)
        assert get_strategy("smallest_max").name == "random"
    finally:
        unregister_strategy("smallest_max")
    assert "smallest_max" not in available_strategies()
    with pytest.raises(UnknownStrategyError, match="callable"):
        register_strategy("x", "not callable")  # type: ignore[arg-type]
    register_strategy("broken", lambda: object())  # type: ignore[arg-type,return-value]
    try:
        with pytest.raises(UnknownStrategyError, match="not a Strategy"):
            get_strategy("broken")
    finally:
        unregister_strategy("broken")


def RandomStrategyFactory() -> Strategy:
    return get_strategy("random")


def test_user_utility_function(problem) -> None:
    calls: list[int] = []

    def smallest_top(proba: np.ndarray) -> np.ndarray:
        calls.append(len(proba))
        return -proba.max(axis=1)

    learner = problem.learner(smallest_top, chunk_size=40)
    idx = learner.query(problem.X, 5)
    assert learner.last_strategy_ == "smallest_top"
    assert sum(calls) == len(problem.X) and max(calls) <= 40, "scored in chunks"
    same = problem.learner("least_confidence").query(problem.X, 5)
    assert np.array_equal(idx, same)  # -max p ranks exactly like 1 - max p


def test_user_selector_function(problem) -> None:
    def lowest_positions(ctx: QueryContext, n: int, rng: np.random.Generator) -> np.ndarray:
        free = np.flatnonzero(~ctx.exclude) if ctx.exclude is not None else np.arange(ctx.n_pool)
        return free[:n]

    learner = problem.learner(lowest_positions)
    assert learner.query(problem.X, 3, exclude=[0, 2]).tolist() == [1, 3, 4]
    assert np.isnan(learner.scores_).all()


@pytest.mark.parametrize(
    ("ret", "match"),
    [
        (np.array([0, 0]), "unique"),
        (np.array([999]), "outside"),
        (np.array([1.5]), "integer"),
        (np.arange(10), "at most"),
        ((np.array([1]), np.ones(3)), "one score per pool row"),
    ],
)
def test_user_selector_output_is_checked(problem, ret: object, match: str) -> None:
    def bad(ctx: QueryContext, n: int, rng: np.random.Generator) -> object:
        return ret

    with pytest.raises(InvalidInputError, match=match):
        problem.learner(bad).query(problem.X, 3)


def test_user_selector_may_not_return_excluded(problem) -> None:
    with pytest.raises(InvalidInputError, match="excluded"):
        problem.learner(lambda ctx, n, rng: np.array([0])).query(problem.X, 1, exclude=[0])


def test_function_with_wrong_arity_is_rejected() -> None:
    with pytest.raises(UnknownStrategyError, match="takes 1 argument"):
        CallableStrategy(lambda a, b: a)


def test_utility_returning_wrong_length_is_reported(problem) -> None:
    with pytest.raises(InvalidInputError, match="one score per row"):
        problem.learner(lambda p: p[:1, 0]).query(problem.X, 2)


def test_removed_qbc_kl_says_why_and_what_to_use() -> None:
    from alwidgets.strategies import QueryByCommittee, available_strategies, get_strategy

    assert "qbc_kl" not in available_strategies()
    with pytest.raises(UnknownStrategyError, match=r"removed.*lost to random.*'qbc'"):
        get_strategy("qbc_kl")
    assert get_strategy(QueryByCommittee("kl_max")).name == "qbc_kl"  # still there explicitly

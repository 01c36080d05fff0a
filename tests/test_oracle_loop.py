"""The one oracle loop: a whole run (simulate/compare) and one step (the app's raced strategies)."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from alwidgets import ActiveLearner
from alwidgets._utils import take_rows
from alwidgets.exceptions import InvalidInputError
from alwidgets.simulation import OracleRound, run_oracle_loop


@pytest.fixture(scope="module")
def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    X, y = load_digits(return_X_y=True)
    X = X / 16.0
    return X[:600], y[:600], X[600:900], y[600:900]


def _old_shadow_loop(
    estimator, X, oracle, name, start, target, batch_size, random_state, X_eval, y_eval
):
    """The app's ``_retrain._shadow_loop`` before the one loop existed (verbatim logic)."""
    positions = np.asarray(start, dtype=np.int64)
    learner = ActiveLearner(estimator, strategy=name, random_state=random_state)
    while positions.size < target:
        y = oracle[positions]
        if len(np.unique(y)) >= 2:
            learner.fit(take_rows(X, positions), y)
        else:
            learner = ActiveLearner(estimator, strategy=name, random_state=random_state)
        n = min(batch_size, target - positions.size)
        picked = learner.query(X, n, exclude=positions)
        if len(picked) == 0:
            break
        positions = np.concatenate([positions, np.asarray(picked, dtype=np.int64)])
    y = oracle[positions]
    model = clone(estimator).fit(take_rows(X, positions), y)
    return positions, float(model.score(X_eval, y_eval))


@pytest.mark.parametrize("strategy", ["margin", "entropy", "qbc", "random"])
@pytest.mark.parametrize("start", [[0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], [0, 10, 20]])
def test_one_app_step_matches_the_old_shadow_loop(digits, strategy: str, start: list[int]) -> None:
    X, y, X_eval, y_eval = digits
    est = LogisticRegression(max_iter=300)
    target = len(start) + 8  # the app: the person gave one more batch of 8 labels
    old_pos, old_score = _old_shadow_loop(est, X, y, strategy, start, target, 8, 7, X_eval, y_eval)
    new_pos = run_oracle_loop(
        est, X, y, strategy, start=start, target=target, batch_size=8, random_state=7
    )
    new_score = clone(est).fit(X[new_pos], y[new_pos]).score(X_eval, y_eval)
    assert new_pos.tolist() == old_pos.tolist()
    assert new_score == pytest.approx(old_score)
    assert len(set(new_pos.tolist())) == target and new_pos[: len(start)].tolist() == start


def test_a_run_from_one_class_uses_cold_start_then_fits(digits) -> None:
    X, y, _, _ = digits
    start = np.flatnonzero(y == 3)[:2]  # one class: no model yet
    rounds: list[OracleRound] = []
    out = run_oracle_loop(
        LogisticRegression(max_iter=300),
        X,
        y,
        "margin",
        start=start,
        target=42,
        batch_size=10,
        random_state=0,
        on_round=rounds.append,
    )
    assert [len(r.positions) for r in rounds] == [2, 12, 22, 32, 42]
    assert not rounds[0].fitted and rounds[1].fitted  # the cold-start batch found other digits
    assert rounds[-1].fitted and rounds[-1].learner.is_fitted
    assert rounds[-1].positions.tolist() == out.tolist()
    assert all(r.seconds >= 0 for r in rounds)
    np.testing.assert_array_equal(rounds[-1].labels, y[out])


def test_step_in_steps_equals_one_run_for_a_deterministic_strategy(digits) -> None:
    X, y, _, _ = digits
    est = LogisticRegression(max_iter=300)
    kw = dict(batch_size=5, random_state=1)
    whole = run_oracle_loop(est, X, y, "margin", start=np.arange(20), target=40, **kw)
    pos = np.arange(20)
    for target in (25, 30, 35, 40):  # the app: one batch per retrain
        pos = run_oracle_loop(est, X, y, "margin", start=pos, target=target, **kw)
    assert pos.tolist() == whole.tolist()


def test_target_already_reached_makes_no_query(digits) -> None:
    X, y, _, _ = digits
    start = [0, 1, 2, 3]  # digits 0, 1, 2, 3: four classes
    out = run_oracle_loop(
        LogisticRegression(), X, y, "margin", start=start, target=4, batch_size=5, random_state=0
    )
    assert out.tolist() == start
    rounds: list[OracleRound] = []
    run_oracle_loop(
        LogisticRegression(), X, y, "margin", start=start, target=4, batch_size=5,
        random_state=0, on_round=rounds.append,
    )  # fmt: skip
    assert len(rounds) == 1 and rounds[0].fitted and rounds[0].positions.tolist() == start


def test_a_strategy_returning_labeled_rows_is_an_error(digits) -> None:
    X, y, _, _ = digits

    def always_first(ctx, n, rng):
        return np.arange(n), np.zeros(ctx.n_pool)

    with pytest.raises(InvalidInputError, match=r"excluded|unlabeled"):
        run_oracle_loop(
            LogisticRegression(), X, y, always_first, start=np.arange(10), target=20,
            batch_size=5, random_state=0,
        )  # fmt: skip


def test_random_baseline_as_the_app_draws_it(digits) -> None:
    """The app's random baseline: ``n`` random labels in one step, no model fitted."""
    X, y, _, _ = digits

    def draw(seed: int) -> np.ndarray:
        return run_oracle_loop(
            LogisticRegression(), X, y, "random", start=(), target=50, batch_size=50,
            random_state=np.random.default_rng([7, seed]),
        )  # fmt: skip

    a, b, c = draw(0), draw(0), draw(1)
    assert len(a) == 50 and len(set(a.tolist())) == 50 and a.min() >= 0 and a.max() < len(y)
    assert a.tolist() == b.tolist() and a.tolist() != c.tolist()
    # uniform over the pool: across 40 draws every tenth of the pool gets a fair share
    counts = np.bincount(np.concatenate([draw(s) for s in range(40)]) * 10 // len(y), minlength=10)
    assert counts.min() > 120 and counts.max() < 280  # expected 200 each

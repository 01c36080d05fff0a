"""The description phase: the descriptions keep choosing until every class has a few labels
(or the model beats them), then the learner's strategy; the same in the learner, the
oracle loop, ``simulate`` and ``compare``.

Deterministic data: every class is a tight cloud around its own axis, and the
"description" of a class embeds to that axis (``PrecomputedEmbeddings``), so zero-shot
is exact and nothing needs the sentence model.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

import alwidgets
from alwidgets import ActiveLearner, InvalidInputError, compare, simulate
from alwidgets._handover import DESCRIBE_PER_CLASS, description_phase
from alwidgets.features import PrecomputedEmbeddings
from alwidgets.simulation import run_oracle_loop
from alwidgets.strategies import DescriptionColdStart, QueryContext

K = 4
DESCRIPTIONS = {c: f"class {c}" for c in range(K)}


def embed(texts: list[str]) -> np.ndarray:
    """Description ``"class c"`` → the unit vector of axis ``c``."""
    return np.eye(K)[[int(t.split()[1]) for t in texts]]


def data(n_per: int = 40, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    y = np.repeat(np.arange(K), n_per)
    X = np.eye(K)[y] + rng.normal(scale=0.15, size=(len(y), K))
    return X, y


def model() -> Any:
    return make_pipeline(PrecomputedEmbeddings(embed), LogisticRegression(max_iter=500))


# ------------------------------------------------------------------- the rule (pure)
def test_descriptions_choose_while_a_class_has_fewer_than_per_class_labels() -> None:
    phase = description_phase([0, 0, 0, 1, 1, 1, 2], [0, 1, 2], per_class=3)
    assert phase.describe
    assert phase.counts == {0: 3, 1: 3, 2: 1}
    assert phase.reason == "descriptions: class 2 has 1 label (fewer than 3)"
    # a class never labeled counts as zero (the descriptions know every class)
    assert description_phase([0, 0, 0, 1, 1, 1], [0, 1, 2], per_class=3).counts[2] == 0


def test_strategy_takes_over_once_every_class_has_per_class_labels() -> None:
    phase = description_phase([0, 0, 1, 1, 2, 2], [0, 1, 2], per_class=2)
    assert not phase.describe
    assert phase.reason == "strategy: every class has 2+ labels"


def test_the_model_takes_over_early_when_it_beats_the_descriptions_on_the_labels() -> None:
    y = ["a", "a", "b", "b"]
    beaten = description_phase(
        y, ["a", "b"], per_class=3, model_predictions=y, zero_shot_predictions=["a"] * 4
    )
    assert not beaten.describe and beaten.preference is not None
    assert beaten.preference.use_model
    tie = description_phase(
        y, ["a", "b"], per_class=3, model_predictions=y, zero_shot_predictions=y
    )
    assert tie.describe, "a tie keeps the descriptions (as for the cards)"


def test_per_class_zero_hands_over_at_the_first_fit_and_bad_values_are_refused() -> None:
    assert not description_phase([0], [0, 1], per_class=0).describe
    with pytest.raises(InvalidInputError, match="per_class"):
        description_phase([0], [0, 1], per_class=-1)
    with pytest.raises(InvalidInputError, match="classes"):
        description_phase([0], [], per_class=1)
    assert ActiveLearner(LogisticRegression()).describe_per_class == DESCRIBE_PER_CLASS


# --------------------------------------------- the batch goes to the classes short of labels
def test_counts_give_the_batch_to_the_classes_with_the_fewest_labels() -> None:
    X, y = data()
    S = embed([f"class {c}" for c in range(K)]) @ X.T
    strategy = DescriptionColdStart(S.T, counts=[5, 0, 2, 5])
    idx, _ = strategy.select(QueryContext(X), 4, np.random.default_rng(0))
    # water-filling: class 1 goes 0 → 3, class 2 goes 2 → 3
    assert np.bincount(y[idx], minlength=K).tolist() == [0, 3, 1, 0]
    without = DescriptionColdStart(S.T).select(QueryContext(X), 4, np.random.default_rng(0))[0]
    assert np.bincount(y[without], minlength=K).tolist() == [1, 1, 1, 1]
    with pytest.raises(InvalidInputError, match="counts"):
        DescriptionColdStart(S.T, counts=[1, 2]).select(
            QueryContext(X), 4, np.random.default_rng(0)
        )


# ------------------------------------------------------------------------ the learner
def test_learner_keeps_describing_until_every_class_has_enough_labels() -> None:
    X, y = data()
    learner = ActiveLearner(model(), random_state=0, descriptions=DESCRIPTIONS)
    labeled = np.array([0, 1, 2, 40, 41, 42, 80, 81, 82, 120])  # class 3: one label
    learner.fit(X[labeled], y[labeled])
    assert learner.description_phase_ is not None and learner.description_phase_.describe
    batch = learner.query(X, 4, exclude=labeled)
    assert learner.last_strategy_ == "describe"
    assert np.bincount(y[batch], minlength=K)[3] >= 2, "the short class gets the picks"
    labeled = np.r_[labeled, 121, 122]
    learner.fit(X[labeled], y[labeled])
    assert not learner.description_phase_.describe
    learner.query(X, 4, exclude=labeled)
    assert learner.last_strategy_ == "margin"


def test_per_class_zero_is_the_old_switch_after_the_first_batch() -> None:
    X, y = data()
    learner = ActiveLearner(
        model(), random_state=0, descriptions=DESCRIPTIONS, describe_per_class=0
    )
    first = learner.query(X, 4)
    assert learner.last_strategy_ == "describe"
    learner.fit(X[first], y[first])
    learner.query(X, 4, exclude=first)
    assert learner.last_strategy_ == "margin"


def test_a_strategy_that_needs_no_model_is_used_as_asked() -> None:
    X, y = data()
    labeled = np.array([0, 40, 80, 120])
    learner = ActiveLearner(model(), "random", random_state=0, descriptions=DESCRIPTIONS)
    learner.fit(X[labeled], y[labeled])
    assert learner.description_phase_.describe  # the phase is reported ...
    learner.query(X, 4, exclude=labeled)
    assert learner.last_strategy_ == "random"  # ... but random stays random


# --------------------------------------------------- the oracle loop, simulate, compare
@pytest.fixture
def strategies_used(monkeypatch: pytest.MonkeyPatch) -> list[tuple[str, dict[Any, int] | None]]:
    """Every query of every learner: (strategy that served it, labels per class before it)."""
    seen: list[tuple[str, dict[Any, int] | None]] = []
    original = ActiveLearner.query

    def recording(self: ActiveLearner, X_pool: Any, n: int, exclude: Any = None) -> np.ndarray:
        phase = getattr(self, "description_phase_", None) if self.is_fitted else None
        out = original(self, X_pool, n, exclude)
        seen.append((self.last_strategy_, None if phase is None else dict(phase.counts)))
        return out

    monkeypatch.setattr(ActiveLearner, "query", recording)
    return seen


def _check_the_rule(seen: list[tuple[str, dict[Any, int] | None]], per_class: int) -> None:
    assert seen[0] == ("describe", None), "before the first fit: the descriptions"
    for name, counts in seen[1:]:
        if counts is not None and min(counts.values()) < per_class:
            assert name == "describe", (name, counts)
    assert any(name == "margin" for name, _ in seen), "the strategy took over in the end"
    switched = next(i for i, (name, _) in enumerate(seen) if name == "margin")
    assert all(name == "margin" for name, _ in seen[switched:]), "no way back"


def test_oracle_loop_follows_the_phase(strategies_used: list[Any]) -> None:
    X, y = data()
    run_oracle_loop(
        model(), X, y, "margin", start=[], target=40, batch_size=4, random_state=0,
        descriptions=DESCRIPTIONS,
    )  # fmt: skip
    _check_the_rule(strategies_used, DESCRIBE_PER_CLASS)
    n_describe = sum(name == "describe" for name, _ in strategies_used)
    assert n_describe >= DESCRIBE_PER_CLASS, "three labels for each of 4 classes: 3+ batches of 4"


def test_simulate_and_compare_use_the_phase(strategies_used: list[Any]) -> None:
    X, y = data()
    curve = simulate(
        model(), X, y, initial=0, batch_size=4, budget=32, random_state=0, progress=False,
        descriptions=DESCRIPTIONS,
    )  # fmt: skip
    assert curve["n_labels"].max() == 32
    _check_the_rule(strategies_used, DESCRIBE_PER_CLASS)
    strategies_used.clear()
    compare(
        model(), X, y, ["margin"], seeds=1, initial=0, batch_size=4, budget=24, progress=False,
        descriptions=DESCRIPTIONS,
    )  # fmt: skip
    margin_runs = [s for s in strategies_used if s[0] in ("describe", "margin")]
    assert ("margin", None) not in margin_runs
    assert any(name == "describe" and counts for name, counts in margin_runs), (
        "after the shared description start, margin's run kept describing while classes were short"
    )
    assert any(name == "random" for name, _ in strategies_used), "random stays random"


# ---------------------------------------------------------------------- module size
def test_learner_module_stays_small() -> None:
    """learner.py delegates descriptions, the pool fit and the Dask path (limit: 400 lines)."""
    package = Path(alwidgets.__file__).parent
    assert len((package / "learner.py").read_text(encoding="utf-8").splitlines()) < 400
    too_long = [
        p.relative_to(package).as_posix()
        for p in package.rglob("*.py")
        if len(p.read_text(encoding="utf-8").splitlines()) > 600
    ]
    assert too_long == []


@pytest.mark.parametrize("bad", [-1, 1.5, True, "3"])
def test_bad_describe_per_class_is_a_clear_error_before_any_work(bad: Any) -> None:
    X, y = data()
    learner = ActiveLearner(model(), descriptions=DESCRIPTIONS, describe_per_class=bad)
    with pytest.raises(InvalidInputError, match="describe_per_class"):
        learner.query(X, 4)
    with pytest.raises(InvalidInputError, match="describe_per_class"):
        learner.fit(X[::20], y[::20])
    assert not learner.is_fitted

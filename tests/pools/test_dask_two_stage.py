"""Two-stage diversity strategies, cold start and fitting from a Dask pool."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pool_helpers import DIVERSITY, first_labels, make_pool, require_dask
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from alwidgets import ActiveLearner
from alwidgets.pools import fetch_rows

da = require_dask()

X, Y = make_pool(3000, seed=1)
LABELED = first_labels(Y)
POOL = da.from_array(X, chunks=(400, X.shape[1]))


def learner(strategy: str, seed: int = 0, pipeline: bool = False) -> ActiveLearner:
    est: Any = LogisticRegression(max_iter=300)
    if pipeline:
        est = make_pipeline(StandardScaler(), est)
    return ActiveLearner(est, strategy, random_state=seed).fit(X[LABELED], Y[LABELED])


@pytest.mark.parametrize("strategy", [*DIVERSITY, "random"])
@pytest.mark.parametrize("pipeline", [False, True], ids=["plain", "pipeline"])
def test_valid_unique_non_excluded_batch(client: Any, strategy: str, pipeline: bool) -> None:
    lrn = learner(strategy, pipeline=pipeline)
    exclude = np.r_[LABELED, np.arange(0, 3000, 7)]
    got = lrn.query(POOL, 25, exclude=exclude)
    assert got.dtype == np.int64 and len(got) == 25 == len(np.unique(got))
    assert not np.isin(got, exclude).any() and got.min() >= 0 and got.max() < len(X)
    assert lrn.last_strategy_ == strategy
    assert set(got) <= set(lrn.candidate_scores_.index)
    counts, edges = lrn.score_histogram_
    assert len(edges) == len(counts) + 1 and counts.sum() > 0


@pytest.mark.parametrize("strategy", DIVERSITY)
def test_seeded_two_stage_is_reproducible_and_chunking_free_for_candidates(
    client: Any, strategy: str
) -> None:
    a = learner(strategy, seed=5).query(POOL, 10, exclude=LABELED)
    b = learner(strategy, seed=5).query(POOL, 10, exclude=LABELED)
    np.testing.assert_array_equal(a, b)


def test_badge_gets_the_in_memory_candidates(client: Any) -> None:
    """Stage one keeps exactly the rows the in-memory BADGE pre-filters to."""
    mem, dsk = learner("badge", seed=2), learner("badge", seed=2)
    mem.query(X, 10, exclude=LABELED)
    dsk.query(POOL, 10, exclude=LABELED)
    in_memory = np.flatnonzero(np.isfinite(mem.scores_))  # badge scores every non-excluded row
    top = in_memory[np.argsort(-mem.scores_[in_memory], kind="stable")][:1000]
    assert set(dsk.candidate_scores_.index) == set(top)


def test_cold_start_before_fit_on_dask(client: Any) -> None:
    lrn = ActiveLearner(LogisticRegression(), "margin", random_state=0)
    got = lrn.query(POOL, 8, exclude=np.arange(30))
    assert lrn.last_strategy_ == "cold_start" and len(set(got)) == 8 and got.min() >= 30


def test_fit_on_labeled_rows_taken_by_position(client: Any) -> None:
    order = LABELED[::-1]
    rows = fetch_rows(POOL, order)
    np.testing.assert_array_equal(rows, X[order])
    a = ActiveLearner(LogisticRegression(max_iter=300), random_state=0).fit(rows, Y[order])
    b = ActiveLearner(LogisticRegression(max_iter=300), random_state=0).fit(POOL[order], Y[order])
    np.testing.assert_allclose(a.estimator_.coef_, b.estimator_.coef_)


def test_fetch_rows_keeps_order_and_repeats(client: Any) -> None:
    pos = np.array([2999, 0, 401, 0, 1200])
    np.testing.assert_array_equal(fetch_rows(POOL, pos), X[pos])
    assert fetch_rows(POOL, []).shape == (0, X.shape[1])

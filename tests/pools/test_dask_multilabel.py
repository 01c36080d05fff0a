"""Multi-label queries on a Dask pool pick exactly the in-memory rows (on a real cluster)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from pool_helpers import require_dask
from sklearn.datasets import make_multilabel_classification
from sklearn.linear_model import LogisticRegression

from alwidgets import ActiveLearner, InvalidInputError

da = require_dask()

X, Y = make_multilabel_classification(
    n_samples=2000, n_features=6, n_classes=5, n_labels=2, random_state=0
)
X = X.astype(np.float64)
LABELED = np.arange(40)
CHUNKINGS = [(2000,), (97,), (1, 700, 1299)]


@pytest.mark.parametrize("strategy", ["mean_margin", "lci", "mmc", "mmu", "rare_margin"])
@pytest.mark.parametrize("rows", CHUNKINGS, ids=lambda c: f"chunks{len(c)}x{c[0]}")
def test_same_batch_and_histogram_as_in_memory(client: Any, strategy: str, rows: Any) -> None:
    def one() -> ActiveLearner:
        learner = ActiveLearner(LogisticRegression(max_iter=300), strategy, random_state=2)
        return learner.fit(X[LABELED], Y[LABELED])

    mem, dsk = one(), one()
    expected = mem.query(X, 12, exclude=LABELED)
    pool = da.from_array(X, chunks=(rows if len(rows) > 1 else rows[0], X.shape[1]))
    got = dsk.query(pool, 12, exclude=LABELED)
    np.testing.assert_array_equal(got, expected)
    np.testing.assert_array_equal(dsk.score_histogram_[0], mem.score_histogram_[0])
    assert dsk.last_strategy_ == mem.last_strategy_ == strategy
    np.testing.assert_allclose(dsk.candidate_scores_.loc[got].to_numpy(), mem.scores_[got])


@pytest.mark.parametrize("strategy", ["cvirs", "adaptive"])
def test_whole_pool_strategies_are_refused_blockwise(client: Any, strategy: str) -> None:
    learner = ActiveLearner(LogisticRegression(max_iter=300), strategy, random_state=2)
    learner.fit(X[LABELED], Y[LABELED])
    pool = da.from_array(X, chunks=(500, X.shape[1]))
    with pytest.raises(InvalidInputError, match="cannot run blockwise on a Dask pool"):
        learner.query(pool, 12, exclude=LABELED)
    assert len(learner.query(X, 12, exclude=LABELED)) == 12  # in memory it runs

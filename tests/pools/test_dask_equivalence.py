"""Dask and in-memory queries pick the same rows (uncertainty strategies: exactly)."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from pool_helpers import UNCERTAINTY, first_labels, make_pool, require_dask, strategy_for
from sklearn.linear_model import LogisticRegression

from alwidgets import ActiveLearner

da = require_dask()

X, Y = make_pool()
LABELED = first_labels(Y)
CHUNKINGS = [(2000,), (97,), (1, 700, 1299), (512,)]


def pair(strategy: Any, seed: int = 3) -> tuple[ActiveLearner, ActiveLearner]:
    def one() -> ActiveLearner:
        est = LogisticRegression(max_iter=300)
        return ActiveLearner(est, strategy_for(strategy), random_state=seed).fit(
            X[LABELED], Y[LABELED]
        )

    return one(), one()


@pytest.mark.parametrize("strategy", UNCERTAINTY)
@pytest.mark.parametrize("rows", CHUNKINGS, ids=lambda c: f"chunks{len(c)}x{c[0]}")
def test_same_batch_and_histogram_on_a_cluster(client: Any, strategy: str, rows: Any) -> None:
    mem, dsk = pair(strategy)
    expected = mem.query(X, 12, exclude=LABELED)
    pool = da.from_array(X, chunks=(rows if len(rows) > 1 else rows[0], X.shape[1]))
    got = dsk.query(pool, 12, exclude=LABELED)
    np.testing.assert_array_equal(got, expected)
    counts, edges = dsk.score_histogram_
    np.testing.assert_array_equal(counts, mem.score_histogram_[0])
    np.testing.assert_array_equal(edges, mem.score_histogram_[1])
    assert counts.sum() == len(X) - len(LABELED)
    assert dsk.scores_ is None
    np.testing.assert_allclose(
        dsk.candidate_scores_.loc[got].to_numpy(), mem.scores_[got], rtol=1e-12
    )


def test_a_second_query_continues_the_same_random_stream(client: Any) -> None:
    mem, dsk = pair("margin")
    pool = da.from_array(X, chunks=(300, X.shape[1]))
    for _ in range(3):
        np.testing.assert_array_equal(
            dsk.query(pool, 5, exclude=LABELED), mem.query(X, 5, exclude=LABELED)
        )


def test_exact_ties_are_broken_like_in_memory(client: Any) -> None:
    """Many identical rows: the seeded tie key of the global position decides, not the chunk."""
    Xt = np.repeat(X[:20], 50, axis=0)
    mem, dsk = pair("margin", seed=11)
    expected = mem.query(Xt, 30)
    for rows in (7, 333, 1000):
        _, dsk = pair("margin", seed=11)
        np.testing.assert_array_equal(dsk.query(da.from_array(Xt, chunks=(rows, 6)), 30), expected)


def test_a_mask_and_positions_exclude_the_same_rows(client: Any) -> None:
    _, a = pair("entropy")
    _, b = pair("entropy")
    mask = np.zeros(len(X), dtype=bool)
    mask[LABELED] = True
    pool = da.from_array(X, chunks=(250, 6))
    np.testing.assert_array_equal(a.query(pool, 9, exclude=mask), b.query(pool, 9, exclude=LABELED))


@settings(max_examples=25, deadline=None)
@given(
    n_pool=st.integers(20, 300),
    chunk=st.integers(1, 120),
    n=st.integers(1, 25),
    strategy=st.sampled_from(UNCERTAINTY),
    drop=st.lists(st.integers(0, 299), max_size=40),
    seed=st.integers(0, 2**31 - 1),
)
def test_property_same_picks_on_any_chunking(
    n_pool: int, chunk: int, n: int, strategy: str, drop: list[int], seed: int
) -> None:
    """Dask's default (local) scheduler: any size, chunking, batch size and exclusion."""
    import dask

    exclude = np.array(sorted({d for d in drop if d < n_pool}), dtype=np.int64)
    mem, dsk = pair(strategy, seed)
    pool = X[:n_pool]
    expected = mem.query(pool, n, exclude=exclude)
    with dask.config.set(scheduler="synchronous"):
        got = dsk.query(da.from_array(pool, chunks=(chunk, 6)), n, exclude=exclude)
    np.testing.assert_array_equal(got, expected)
    assert len(got) == min(n, n_pool - len(exclude))
    np.testing.assert_array_equal(dsk.score_histogram_[0], mem.score_histogram_[0])


def test_everything_excluded_returns_nothing(client: Any) -> None:
    _, dsk = pair("margin")
    got = dsk.query(da.from_array(X[:50], chunks=(20, 6)), 5, exclude=np.arange(50))
    assert got.shape == (0,) and dsk.score_histogram_[0].sum() == 0

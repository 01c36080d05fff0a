"""The histogram and tie-break helpers that ``alwidgets.strategies`` exports for Dask pools.

Blocks of a pool are counted and ranked on separate workers, so these helpers must
give the same answer for any split of a score vector (hypothesis).
"""

from __future__ import annotations

import numpy as np
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

import alwidgets.strategies as strategies
from alwidgets.strategies import (
    RunningTopK,
    histogram_counts,
    score_edges,
    score_histogram,
    tie_keys,
    trim_histogram,
)

SETTINGS = settings(max_examples=60, deadline=None)

scores_st = arrays(
    np.float64,
    st.integers(0, 200),
    elements=st.one_of(
        st.floats(-1e7, 1e7), st.sampled_from([0.0, 0.5, 1.0]), st.just(np.nan), st.just(np.inf)
    ),
)
bounds_st = st.sampled_from([(0.0, 1.0), (0.0, np.inf), (-np.inf, np.inf), (0.0, 2.0)])


def test_exported_publicly() -> None:
    for name in (
        "histogram_counts",
        "score_edges",
        "score_histogram",
        "tie_keys",
        "trim_histogram",
    ):
        assert name in strategies.__all__
        assert getattr(strategies, name).__doc__


@SETTINGS
@given(scores_st, bounds_st, st.lists(st.integers(0, 200), max_size=4))
def test_counts_of_blocks_add_up_to_the_whole(
    scores: np.ndarray, bounds: tuple[float, float], cuts: list[int]
) -> None:
    edges = score_edges(bounds, bins=8)
    whole = histogram_counts(scores, edges, chunk=7)
    parts = np.split(scores, sorted(c for c in cuts if c <= len(scores)))
    summed = sum((histogram_counts(p, edges) for p in parts), np.zeros_like(whole))
    np.testing.assert_array_equal(summed, whole)
    inside = scores[np.isfinite(scores) & (scores >= edges[0]) & (scores <= edges[-1])]
    assert whole.sum() == len(inside)  # NaN, inf and out-of-range scores are not counted
    np.testing.assert_array_equal(whole, np.histogram(inside, bins=edges)[0])


def test_edges_depend_on_bounds_only() -> None:
    np.testing.assert_array_equal(score_edges((0.0, 1.0), bins=4), [0, 0.25, 0.5, 0.75, 1.0])
    wide = score_edges((0.0, np.inf))
    assert wide[0] == 0.0 and np.all(np.diff(wide) > 0)
    np.testing.assert_array_equal(wide, score_edges((0.0, np.inf)))


def test_score_histogram_trims_a_wide_grid_to_its_occupied_bins() -> None:
    scores = np.array([0.02, 3.0, 40.0, np.nan])
    counts, edges = score_histogram(scores, (0.0, np.inf))
    assert counts.sum() == 3 and counts[0] > 0 and counts[-1] > 0
    assert edges[0] <= 0.02 and edges[-1] >= 40.0 and len(edges) == len(counts) + 1
    full = score_edges((0.0, np.inf))
    trimmed_counts, trimmed_edges = trim_histogram(histogram_counts(scores, full), full)
    np.testing.assert_array_equal(counts, trimmed_counts)
    np.testing.assert_array_equal(edges, trimmed_edges)
    counts, edges = score_histogram(scores[:2], (0.0, 1.0), bins=4)  # equal bins: kept as are
    assert counts.tolist() == [1, 0, 0, 0] and len(edges) == 5


@SETTINGS
@given(st.integers(0, 2**32), st.integers(1, 50), st.integers(0, 1000))
def test_tie_keys_depend_on_position_and_seed_only(seed: int, n: int, offset: int) -> None:
    positions = np.arange(offset, offset + n)
    keys = tie_keys(positions, seed)
    assert keys.dtype == np.uint64
    np.testing.assert_array_equal(tie_keys(positions[n // 2 :], seed), keys[n // 2 :])
    if n > 4:
        assert len(np.unique(keys)) == n  # a 64-bit hash: no collisions among a few keys
        assert not np.array_equal(tie_keys(positions, seed + 1), keys)


def test_running_top_k_breaks_ties_by_tie_keys() -> None:
    scores = np.full(40, 0.5)
    run = RunningTopK(5, seed=11)
    for start in range(0, 40, 9):
        run.push(scores[start : start + 9], offset=start)
    expected = np.argsort(tie_keys(np.arange(40), 11))[::-1][:5]
    assert sorted(run.result().tolist()) == sorted(expected.tolist())

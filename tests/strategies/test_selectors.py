"""top_k and the running top-k: exact, seeded, chunk-size independent (hypothesis)."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from alwidgets.exceptions import InvalidInputError
from alwidgets.strategies import RunningTopK, resolve_rng, top_k

SETTINGS = settings(max_examples=80, deadline=None)

scores_st = arrays(
    np.float64,
    st.integers(0, 60),
    elements=st.one_of(st.sampled_from([0.0, 0.5, 1.0]), st.floats(-5, 5), st.just(np.nan)),
)


@SETTINGS
@given(scores_st, st.integers(1, 70), st.integers(0, 2**32), st.data())
def test_top_k_invariants(scores: np.ndarray, k: int, seed: int, data: st.DataObject) -> None:
    n = len(scores)
    exclude = data.draw(st.lists(st.integers(0, max(n - 1, 0)), max_size=n)) if n else []
    before = scores.copy()
    out = top_k(scores, k, exclude=exclude, random_state=seed)
    assert np.array_equal(scores, before, equal_nan=True)
    remaining = n - len(set(exclude))
    assert len(out) == min(k, remaining)
    assert len(set(out.tolist())) == len(out)
    assert not set(out.tolist()) & set(exclude)
    ranked = np.where(np.isnan(scores), -np.inf, scores)
    rest = np.setdiff1d(np.setdiff1d(np.arange(n), out), exclude)
    if len(out) and len(rest):
        assert ranked[out].min() >= ranked[rest].max()
    assert np.all(ranked[out][:-1] >= ranked[out][1:]), "best first"


@SETTINGS
@given(scores_st, st.integers(1, 20), st.integers(1, 25), st.integers(0, 2**32))
def test_running_top_k_is_chunk_size_independent(
    scores: np.ndarray, k: int, chunk: int, seed: int
) -> None:
    whole = RunningTopK(k, seed)
    if len(scores):
        whole.push(scores, 0)
    parts = RunningTopK(k, seed)
    for start in range(0, len(scores), chunk):
        parts.push(scores[start : start + chunk], start)
    assert np.array_equal(whole.result(), parts.result())


def test_ties_are_broken_at_random_but_seeded() -> None:
    flat = np.zeros(1000)
    a = top_k(flat, 10, random_state=1)
    assert np.array_equal(a, top_k(flat, 10, random_state=1))
    assert not np.array_equal(a, top_k(flat, 10, random_state=2))
    assert not np.array_equal(np.sort(a), np.arange(10)), "not simply the first rows"
    firsts = [top_k(flat, 1, random_state=s)[0] for s in range(200)]
    assert len(set(firsts)) > 150  # spread over the pool


def test_nan_scores_rank_last_but_remain_selectable() -> None:
    out = top_k([np.nan, 0.1, np.nan], 3, random_state=0)
    assert out[0] == 1 and sorted(out.tolist()) == [0, 1, 2]


def test_resolve_rng_accepts_the_usual_seeds() -> None:
    g = np.random.default_rng(5)
    assert resolve_rng(g) is g
    assert resolve_rng(3).integers(100) == resolve_rng(3).integers(100)
    assert isinstance(resolve_rng(np.random.RandomState(0)), np.random.Generator)
    with pytest.raises(InvalidInputError, match="random_state"):
        resolve_rng("seed")


@pytest.mark.parametrize("k", [0, -1, 1.5, True])
def test_top_k_rejects_bad_k(k: object) -> None:
    with pytest.raises(InvalidInputError, match="positive integer"):
        top_k([1.0, 2.0], k)  # type: ignore[arg-type]


def test_top_k_rejects_2d_scores() -> None:
    with pytest.raises(InvalidInputError, match="1-D"):
        top_k(np.ones((2, 2)), 1)

"""Utilities: known values, ranges and invariants (hypothesis), inputs never touched."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from alwidgets.exceptions import InvalidInputError
from alwidgets.strategies import (
    entropy,
    kl_max,
    knn_density,
    least_confidence,
    margin,
    vote_entropy,
)

SETTINGS = settings(max_examples=60, deadline=None)


@st.composite
def probas(draw: st.DrawFn) -> np.ndarray:
    n = draw(st.integers(1, 30))
    k = draw(st.integers(2, 8))
    raw = draw(arrays(np.float64, (n, k), elements=st.floats(0.0, 1.0)))
    raw = raw + 1e-9
    return raw / raw.sum(axis=1, keepdims=True)


def test_known_values() -> None:
    p = np.array([[0.7, 0.2, 0.1], [1 / 3, 1 / 3, 1 / 3], [1.0, 0.0, 0.0]])
    assert np.allclose(margin(p), [0.5, 1.0, 0.0])
    assert np.allclose(least_confidence(p), [0.3, 2 / 3, 0.0])
    assert np.allclose(
        entropy(p), [-(0.7 * np.log(0.7) + 0.2 * np.log(0.2) + 0.1 * np.log(0.1)), np.log(3), 0.0]
    )


def test_float32_input_gives_float64_scores() -> None:
    p = np.array([[0.6, 0.4]], dtype=np.float32)
    for fn in (margin, least_confidence, entropy):
        assert fn(p).dtype == np.float64


@SETTINGS
@given(probas())
def test_ranges_and_no_mutation(p: np.ndarray) -> None:
    before = p.copy()
    k = p.shape[1]
    m, lc, h = margin(p), least_confidence(p), entropy(p)
    assert np.array_equal(p, before)
    assert m.shape == lc.shape == h.shape == (len(p),)
    assert np.all((m >= 0) & (m <= 1))
    assert np.all((lc >= 0) & (lc <= 1 - 1 / k + 1e-12))
    assert np.all((h >= 0) & (h <= np.log(k) + 1e-9))


@SETTINGS
@given(probas(), st.randoms(use_true_random=False))
def test_invariant_to_class_order(p: np.ndarray, rnd) -> None:
    perm = list(range(p.shape[1]))
    rnd.shuffle(perm)
    for fn in (margin, least_confidence, entropy):
        assert np.allclose(fn(p), fn(p[:, perm]))


@SETTINGS
@given(probas())
def test_margin_orders_like_top_two_gap(p: np.ndarray) -> None:
    s = np.sort(p, axis=1)
    assert np.allclose(margin(p), 1 - (s[:, -1] - s[:, -2]))


@SETTINGS
@given(st.integers(1, 6), st.integers(1, 20), st.integers(2, 5), st.data())
def test_vote_entropy_range(m: int, n: int, k: int, data: st.DataObject) -> None:
    votes = data.draw(arrays(np.int64, (m, n), elements=st.integers(0, k - 1)))
    ve = vote_entropy(votes, k)
    assert ve.shape == (n,)
    assert np.all(ve >= 0) and np.all(ve <= np.log(min(m, k)) + 1e-9)
    unanimous = np.all(votes == votes[0], axis=0)
    assert np.allclose(ve[unanimous], 0.0)


@SETTINGS
@given(st.integers(1, 5), probas())
def test_kl_max_zero_iff_members_agree(m: int, p: np.ndarray) -> None:
    same = np.stack([p] * m)
    assert np.allclose(kl_max(same), 0.0)
    other = np.roll(p, 1, axis=1)
    assert np.all(kl_max(np.stack([p, other])) >= -1e-12)


def test_kl_max_positive_on_disagreement() -> None:
    probas_ = np.array([[[0.9, 0.1]], [[0.1, 0.9]]])
    assert kl_max(probas_)[0] > 0.3


def test_knn_density_prefers_dense_regions_and_uses_a_reference() -> None:
    rng = np.random.default_rng(0)
    cluster = rng.normal(0, 0.1, size=(50, 2))
    outlier = np.array([[5.0, 5.0]])
    pts = np.vstack([cluster, outlier])
    d = knn_density(pts, n_neighbors=5)
    assert d.shape == (51,) and np.all((d > 0) & (d <= 1))
    assert d[-1] < d[:-1].min()
    d_ref = knn_density(pts, cluster[:20], n_neighbors=5)
    assert d_ref[-1] < d_ref[:-1].min()


def test_knn_density_large_path_matches_small_path() -> None:
    rng = np.random.default_rng(1)
    pts = rng.normal(size=(600, 3))
    ref = rng.normal(size=(500, 3))  # 600*500 > 2**18 -> NearestNeighbors path
    big = knn_density(pts, ref, n_neighbors=7)
    small = np.concatenate(
        [knn_density(pts[i : i + 100], ref, n_neighbors=7) for i in range(0, 600, 100)]
    )
    assert np.allclose(big, small)


@pytest.mark.parametrize("bad", [np.array([0.5, 0.5]), np.array([["a", "b"]])])
def test_bad_proba_raises(bad: np.ndarray) -> None:
    with pytest.raises(InvalidInputError, match=r"predict_proba|numeric"):
        margin(bad)


def test_bad_votes_raise() -> None:
    with pytest.raises(InvalidInputError, match="class indices"):
        vote_entropy(np.array([[0, 3]]), n_classes=2)
    with pytest.raises(InvalidInputError, match="n_members"):
        vote_entropy(np.array([0.5, 1.0]))
    with pytest.raises(InvalidInputError, match="n_members, n_items, n_classes"):
        kl_max(np.ones((2, 2)))

"""Diversity selectors and the batch strategies built on them."""

from __future__ import annotations

import numpy as np
import scipy.sparse as sp
from sklearn.linear_model import LogisticRegression

from alwidgets import ActiveLearner
from alwidgets.strategies import (
    ClusterMargin,
    QueryContext,
    k_center_greedy,
    kmeans_pp_gradients,
    round_robin_clusters,
    typiclust,
)


def _blobs(n_per: int = 30, centers: int = 4, seed: int = 0) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    c = rng.normal(0, 10, size=(centers, 3))
    X = np.vstack([c[i] + rng.normal(0, 0.3, size=(n_per, 3)) for i in range(centers)])
    return X, np.repeat(np.arange(centers), n_per)


def test_k_center_greedy_covers_every_blob_first() -> None:
    X, blob = _blobs()
    sel, before = k_center_greedy(X, 4, rng=np.random.default_rng(0))
    assert sorted(blob[sel].tolist()) == [0, 1, 2, 3]
    assert np.isnan(before).all()  # no centers given


def test_k_center_greedy_avoids_labeled_regions_and_accepts_sparse() -> None:
    X, blob = _blobs()
    labeled = X[blob < 3][:5:1]  # rows of blob 0 only
    labeled = X[blob == 0][:3]
    for F, C in ((X, labeled), (sp.csr_matrix(X), sp.csr_matrix(labeled))):
        sel, before = k_center_greedy(F, 3, centers=C, rng=np.random.default_rng(0))
        assert 0 not in blob[sel]
        assert np.all(before >= 0)
        assert before[sel[0]] == before.max()


def test_kmeans_pp_gradients_matches_explicit_embeddings() -> None:
    rng = np.random.default_rng(0)
    F = rng.normal(size=(40, 3))
    P = rng.dirichlet(np.ones(4), size=40)
    R = P.copy()
    R[np.arange(40), P.argmax(1)] -= 1
    for intercept in (False, True):
        sel = kmeans_pp_gradients(F, R, 6, intercept=intercept, rng=np.random.default_rng(7))
        sparse = kmeans_pp_gradients(
            sp.csr_matrix(F), R, 6, intercept=intercept, rng=np.random.default_rng(7)
        )
        assert np.array_equal(sel, sparse)
        X = np.hstack([F, np.ones((40, 1))]) if intercept else F
        assert sel.tolist() == _reference_badge(X, R, 6, np.random.default_rng(7))
        assert len(set(sel.tolist())) == 6


def _reference_badge(F: np.ndarray, R: np.ndarray, k: int, ref_rng: np.random.Generator) -> list:
    """k-means++ seeding on materialised embeddings g_i = r_i ⊗ x_i."""
    G = np.einsum("ik,id->ikd", R, F).reshape(len(F), -1)
    first = int(np.argmax((G**2).sum(1)))
    chosen = [first]
    d2 = ((G - G[first]) ** 2).sum(1)
    while len(chosen) < k:
        w = d2.copy()
        w[chosen] = 0
        j = int(ref_rng.choice(len(F), p=w / w.sum()))
        chosen.append(j)
        d2 = np.minimum(d2, ((G - G[j]) ** 2).sum(1))
    return chosen


def test_kmeans_pp_gradients_handles_identical_embeddings() -> None:
    F = np.ones((5, 2))
    R = np.zeros((5, 2))
    sel = kmeans_pp_gradients(F, R, 5, rng=np.random.default_rng(0))
    assert sorted(sel.tolist()) == [0, 1, 2, 3, 4]


def test_round_robin_visits_small_clusters_first() -> None:
    ids = np.array([0] * 10 + [1] * 2 + [2] * 5)
    sel = round_robin_clusters(ids, 6, rng=np.random.default_rng(0))
    assert ids[sel].tolist() == [1, 2, 0, 1, 2, 0]
    everything = round_robin_clusters(ids, 100, rng=np.random.default_rng(0))
    assert sorted(everything.tolist()) == list(range(len(ids)))


def test_typiclust_takes_typical_points_of_distinct_clusters() -> None:
    X, blob = _blobs(n_per=40)
    X = np.vstack([X, [[100.0, 100.0, 100.0]]])  # an outlier is never typical
    blob = np.r_[blob, -1]
    sel, typ = typiclust(X, 5, n_neighbors=10, rng=np.random.default_rng(0))
    assert set(blob[sel].tolist()) == {0, 1, 2, 3}, "the outlier's cluster comes last"
    assert len(sel) == 5
    assert typ[-1] < np.median(typ)
    everything, _ = typiclust(X, len(X), n_neighbors=10, rng=np.random.default_rng(0))
    assert sorted(everything.tolist()) == list(range(len(X)))
    # with labeled rows in two blobs, the uncovered blobs come first
    centers = np.vstack([X[blob == 0][:2], X[blob == 1][:2]])
    sel2, _ = typiclust(X, 2, centers=centers, n_neighbors=10, rng=np.random.default_rng(0))
    assert sorted(blob[sel2].tolist()) == [2, 3]


def test_cluster_margin_clusters_once_per_pool() -> None:
    X, blob = _blobs(n_per=50)
    y = blob % 2
    lab = np.r_[0, 1, 50, 51, 100, 150]
    strategy = ClusterMargin(n_clusters=4)
    learner = ActiveLearner(LogisticRegression(), strategy, random_state=0).fit(X[lab], y[lab])
    first = learner.query(X, 8)
    candidates = np.argsort(-learner.scores_)[:80]  # the 10·n most uncertain rows
    cache = learner._pool_cache.get(X, 0)
    model = next(iter(cache.values()))
    second = learner.query(X, 8, exclude=first)
    assert next(iter(learner._pool_cache.get(X, 0).values())) is model, "the clustering is reused"
    assert not set(first.tolist()) & set(second.tolist())
    # round-robin: the batch spans as many clusters as its candidates do
    assert set(first.tolist()) <= set(candidates.tolist())
    in_batch = np.bincount(model.predict(X[first]), minlength=4)
    in_candidates = np.bincount(model.predict(X[candidates]), minlength=4)
    assert (in_candidates > 0).sum() >= 2, "the test needs candidates in several clusters"
    assert np.array_equal(in_batch > 0, in_candidates > 0)
    assert in_batch.max() - in_batch[in_batch > 0].min() <= 1, "evenly, round-robin"
    learner.query(X.copy(), 4)  # another pool object gets a fresh cache
    assert next(iter(learner._pool_cache.get(X, 0).values()), None) is not model


def test_batch_strategies_spread_over_blobs() -> None:
    X, blob = _blobs(n_per=60)
    y = (blob >= 2).astype(int)
    lab = np.r_[0, 60, 120, 180]
    for name in ("coreset", "badge", "cluster_margin", "cold_start"):
        learner = ActiveLearner(LogisticRegression(), name, random_state=0).fit(X[lab], y[lab])
        sel = learner.query(X, 8, exclude=lab)
        assert len(set(blob[sel].tolist())) >= 2, name


def test_query_context_sample_respects_exclusion_and_size() -> None:
    X = np.zeros((1000, 2))
    exclude = np.zeros(1000, dtype=bool)
    exclude[:900] = True
    ctx = QueryContext(X, exclude=exclude)
    pos = ctx.sample(50, np.random.default_rng(0))
    assert len(pos) == 50 and len(set(pos.tolist())) == 50 and np.all(pos >= 900)
    assert len(ctx.sample(500, np.random.default_rng(0))) == 100


def test_cold_start_treats_excluded_rows_as_covered_before_fit() -> None:
    X, blob = _blobs(n_per=40)
    learner = ActiveLearner(LogisticRegression(), "margin", random_state=0)
    handled = np.array([0, 40])  # one row of blob 0 and one of blob 1, e.g. labeled "no"
    sel = learner.query(X, 2, exclude=handled)
    assert learner.last_strategy_ == "cold_start"
    assert sorted(blob[sel].tolist()) == [2, 3]

"""Diversity selectors: pick a batch that covers the data, not k near-duplicates.

Each works on a candidate set of ``m`` rows (the learner pre-filters large pools),
so the cost is ``O(m · batch · d)`` and nothing is quadratic in the pool. Dense
arrays and scipy sparse matrices (text) are both accepted.

* :func:`k_center_greedy` — core-set (Sener & Savarese 2018).
* :func:`kmeans_pp_gradients` — BADGE's k-means++ seeding on gradient embeddings
  (Ash et al. 2020), computed without materialising the embeddings.
* :func:`round_robin_clusters` — cluster-margin's sampling (Citovsky et al. 2021).
* :func:`typiclust` — TypiClust cold start (Hacohen et al. 2022).

Examples
--------
>>> import numpy as np
>>> pts = np.array([[0.0, 0.0], [0.1, 0.0], [5.0, 5.0], [5.1, 5.0]])
>>> sel, _ = k_center_greedy(pts, 2, rng=np.random.default_rng(0))
>>> sorted((pts[sel, 0] > 1).tolist())
[False, True]
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import scipy.sparse as sp

__all__ = ["k_center_greedy", "kmeans_pp_gradients", "round_robin_clusters", "typiclust"]


def sq_norms(F: Any) -> np.ndarray:
    """Squared row norms as float64, without a float64 copy of a float32 matrix."""
    if sp.issparse(F):
        return np.asarray(F.multiply(F).sum(axis=1), dtype=np.float64).ravel()
    F = np.asarray(F)
    if F.dtype.kind != "f":
        F = F.astype(np.float64)
    return np.einsum("ij,ij->i", F, F).astype(np.float64)


def quiet_kmeans(algo: Any, X: Any, **params: Any) -> Any:
    """Fit a k-means model, silencing the warning about fewer distinct points than clusters."""
    from sklearn.exceptions import ConvergenceWarning

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        return algo(**params).fit(X)


def _dots(F: Any, j: int) -> np.ndarray:
    """Dot product of every row of F with row j, as float64."""
    row = F[j]
    if sp.issparse(F):
        return np.asarray((F @ row.T).todense(), dtype=np.float64).ravel()
    return np.asarray(F @ np.asarray(row).ravel(), dtype=np.float64)


def _sq_dist_to(F: Any, sq: np.ndarray, j: int) -> np.ndarray:
    return np.maximum(sq + sq[j] - 2.0 * _dots(F, j), 0.0)


def k_center_greedy(
    features: Any,
    k: int,
    *,
    centers: Any | None = None,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """Greedy k-center: repeatedly take the row farthest from every chosen center.

    Parameters
    ----------
    features : array or sparse matrix of shape (m, d)
        Candidate rows.
    k : int
        Batch size (at most ``m``).
    centers : array or sparse matrix of shape (c, d), optional
        Already-labeled rows; the first pick is the candidate farthest from them.
        Without centers the first pick is random (seeded).
    rng : numpy Generator

    Returns
    -------
    selected : ndarray of int64, shape (min(k, m),)
        Row positions in ``features``, in pick order.
    min_dist : ndarray of float64, shape (m,)
        Distance of every candidate to its nearest center *before* the batch was chosen
        (NaN when there were no centers).
    """
    from sklearn.metrics import pairwise_distances_argmin_min

    m = features.shape[0]
    k = min(k, m)
    sq = sq_norms(features)
    if centers is not None and centers.shape[0] > 0:
        _, dist = pairwise_distances_argmin_min(features, centers)
        d2 = np.asarray(dist, dtype=np.float64) ** 2
        before = np.sqrt(d2)
    else:
        d2 = np.full(m, np.inf)
        before = np.full(m, np.nan)
    selected = np.empty(k, dtype=np.int64)
    for i in range(k):
        j = int(rng.integers(m)) if np.isinf(d2).all() else int(np.argmax(d2))
        selected[i] = j
        np.minimum(d2, _sq_dist_to(features, sq, j), out=d2)
        d2[j] = -1.0  # never again
    return selected, before


def kmeans_pp_gradients(
    features: Any,
    residual: np.ndarray,
    k: int,
    *,
    intercept: bool = True,
    rng: np.random.Generator,
) -> np.ndarray:
    """BADGE's k-means++ seeding on gradient embeddings ``g_i = r_i ⊗ x_i``.

    For a linear (softmax) model the last-layer gradient of the loss at the
    predicted label is the outer product of the residual ``r = p - onehot(ŷ)``
    and the features ``x``. Distances between such embeddings only need
    ``‖g_i - g_j‖² = ‖r_i‖²‖x_i‖² + ‖r_j‖²‖x_j‖² - 2 (r_i·r_j)(x_i·x_j)``,
    so the ``m × (k·d)`` embedding matrix is never built (sparse text stays sparse).
    With ``intercept`` the features are taken as ``[x, 1]`` (the bias's gradient is
    the residual itself), which adds 1 to every ``x·x`` term.

    Parameters
    ----------
    features : array or sparse matrix of shape (m, d)
    residual : ndarray of shape (m, n_classes)
        ``predict_proba - onehot(argmax)`` for each candidate.
    k : int
    intercept : bool, default=True
    rng : numpy Generator

    Returns
    -------
    ndarray of int64, row positions in pick order. The first pick is the largest
    gradient norm (most uncertain and far from the origin), as in BADGE.
    """
    m = features.shape[0]
    k = min(k, m)
    R = np.asarray(residual, dtype=np.float64)
    bias = 1.0 if intercept else 0.0
    g2 = (sq_norms(features) + bias) * np.einsum("ij,ij->i", R, R)
    first = int(np.argmax(g2))
    selected = [first]
    taken = np.zeros(m, dtype=bool)
    taken[first] = True

    def dist2(j: int) -> np.ndarray:
        return np.maximum(g2 + g2[j] - 2.0 * (R @ R[j]) * (_dots(features, j) + bias), 0.0)

    d2 = dist2(first)
    while len(selected) < k:
        w = np.where(taken, 0.0, d2)
        total = w.sum()
        if total <= 0 or not np.isfinite(total):  # all remaining embeddings coincide
            rest = np.flatnonzero(~taken)
            j = int(rest[rng.integers(len(rest))])
        else:
            j = int(rng.choice(m, p=w / total))
        selected.append(j)
        taken[j] = True
        np.minimum(d2, dist2(j), out=d2)
    return np.asarray(selected, dtype=np.int64)


def round_robin_clusters(
    cluster_ids: np.ndarray, k: int, *, rng: np.random.Generator
) -> np.ndarray:
    """Cluster-margin sampling: visit clusters smallest first, one random row each, repeat.

    Parameters
    ----------
    cluster_ids : ndarray of int, shape (m,)
        Cluster of each (already uncertainty-filtered) candidate.
    k : int
    rng : numpy Generator

    Returns
    -------
    ndarray of int64, row positions in pick order.

    Examples
    --------
    >>> ids = np.array([0, 0, 0, 1, 2, 2])
    >>> sel = round_robin_clusters(ids, 3, rng=np.random.default_rng(0))
    >>> sorted(ids[sel].tolist())
    [0, 1, 2]
    """
    labels, sizes = np.unique(cluster_ids, return_counts=True)
    order = labels[np.lexsort((rng.random(len(labels)), sizes))]
    queues = [rng.permutation(np.flatnonzero(cluster_ids == c)).tolist() for c in order]
    out: list[int] = []
    k = min(k, len(cluster_ids))
    while len(out) < k:
        for q in queues:
            if q and len(out) < k:
                out.append(q.pop())
    return np.asarray(out, dtype=np.int64)


def typiclust(
    features: Any,
    k: int,
    *,
    centers: Any | None = None,
    n_neighbors: int = 20,
    min_cluster_size: int = 5,
    rng: np.random.Generator,
) -> tuple[np.ndarray, np.ndarray]:
    """TypiClust: cluster, then take the most *typical* row of each uncovered cluster.

    Clusters ``n_labeled + k`` groups with k-means; clusters that already hold a
    labeled row (``centers``) are covered. Uncovered clusters are visited largest
    first, and from each the row with the highest typicality
    ``1 / mean distance to its n_neighbors nearest neighbours in the cluster`` is taken.
    Clusters smaller than ``min_cluster_size`` (outliers) are used only when the
    others are exhausted. Works with zero labels, which is what a cold start needs.

    Returns
    -------
    selected : ndarray of int64, row positions in pick order
    typicality : ndarray of float64, shape (m,)
    """
    from sklearn.cluster import KMeans, MiniBatchKMeans

    from alwidgets.strategies._utilities import knn_density

    m = features.shape[0]
    k = min(k, m)
    n_centers = 0 if centers is None else centers.shape[0]
    n_clusters = min(m, k + n_centers)
    seed = int(rng.integers(2**31 - 1))
    algo = KMeans if m <= 20_000 else MiniBatchKMeans
    km = quiet_kmeans(algo, features, n_clusters=n_clusters, n_init=1, random_state=seed)
    ids = km.labels_
    typicality = np.zeros(m)
    for c in range(n_clusters):
        rows = np.flatnonzero(ids == c)
        if len(rows) > 1:  # a lone point has no neighbours: typicality 0
            typicality[rows] = knn_density(features[rows], n_neighbors=n_neighbors)
    covered = set() if n_centers == 0 else set(np.unique(km.predict(centers)).tolist())
    sizes = np.bincount(ids, minlength=n_clusters)
    order = np.lexsort((rng.random(n_clusters), -sizes)).tolist()
    big = [c for c in order if sizes[c] >= min_cluster_size]
    # uncovered clusters first (largest first), then covered ones; tiny clusters
    # (outliers) only once the others are used up, as in TypiClust
    tiers = [
        [c for c in big if c not in covered] + [c for c in big if c in covered],
        [c for c in order if 0 < sizes[c] < min_cluster_size],
    ]
    picked: list[int] = []
    taken = np.zeros(m, dtype=bool)
    for tier in tiers:
        while len(picked) < k:
            before = len(picked)
            for c in tier:
                rows = np.flatnonzero((ids == c) & ~taken)
                if len(rows) and len(picked) < k:
                    j = int(rows[np.argmax(typicality[rows])])
                    picked.append(j)
                    taken[j] = True
            if len(picked) == before:  # this tier is used up
                break
    return np.asarray(picked, dtype=np.int64), typicality

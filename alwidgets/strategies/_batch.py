"""Strategies beyond one-score-per-row: committees, density, and diverse batches.

Diversity strategies never look at the whole pool at once: they pre-filter
``m`` candidates (:func:`candidate_budget`: ``10·n`` within [1,000, 20,000];
cluster-margin uses the paper's ``10·n``) — the most uncertain ones, or a seeded
random sample where uncertainty plays no part — and run their batch selection on
those, so nothing is quadratic in the pool.

Examples
--------
>>> from alwidgets.strategies import ClusterMargin
>>> ClusterMargin(n_clusters=20).name
'cluster_margin'
"""

from __future__ import annotations

from typing import Any

import numpy as np

from alwidgets.strategies._base import Selection, Strategy, candidate_budget
from alwidgets.strategies._context import QueryContext
from alwidgets.strategies._diversity import (
    k_center_greedy,
    kmeans_pp_gradients,
    quiet_kmeans,
    round_robin_clusters,
    sq_norms,
    typiclust,
)
from alwidgets.strategies._selectors import RunningTopK
from alwidgets.strategies._utilities import kl_max, knn_density, margin, vote_entropy

__all__ = ["Badge", "ClusterMargin", "ColdStart", "CoreSet", "DensityWeighted", "QueryByCommittee"]


def _ranked(local_scores: np.ndarray, k: int, rng: np.random.Generator) -> np.ndarray:
    run = RunningTopK(k, int(rng.integers(2**63)))
    run.push(local_scores, 0)
    return run.result()


class QueryByCommittee(Strategy):
    """Query by committee: disagreement of bagged copies of the model.

    The learner builds the committee when it fits (``n_members`` clones on
    stratified bootstrap resamples of the labeled set, seeded).

    Parameters
    ----------
    disagreement : {"vote_entropy", "kl_max"}, default="vote_entropy"
        ``"kl_max"`` ranks by the largest KL divergence of a member from the
        consensus (McCallum & Nigam 1998). It is not registered: with this bagged
        committee, soft disagreement is largest next to items already labeled (one
        member's bootstrap sample holds the nearby labeled item, another's does not),
        and on digits and MNIST it lost to random sampling, with mean-KL as well. Vote
        entropy counts only flipped predictions, which avoids that, and is the default.
    n_members : int, default=5
    """

    name = "qbc"
    needs: frozenset[str] = frozenset({"committee"})
    bounds = (0.0, np.inf)

    def __init__(self, disagreement: str = "vote_entropy", n_members: int = 5) -> None:
        if disagreement not in ("vote_entropy", "kl_max"):
            from alwidgets.exceptions import UnknownStrategyError

            raise UnknownStrategyError(
                f"disagreement must be 'vote_entropy' or 'kl_max', got {disagreement!r}."
            )
        self.disagreement = disagreement
        self.n_members = n_members
        self.name = "qbc" if disagreement == "vote_entropy" else "qbc_kl"

    def select(self, ctx: QueryContext, n: int, rng: np.random.Generator) -> Selection:
        k = len(ctx.classes) if ctx.classes is not None else None

        def score(rows: slice) -> np.ndarray:
            probas = ctx.committee_proba(rows)
            if self.disagreement == "kl_max":
                return kl_max(probas)
            return vote_entropy(probas.argmax(axis=2), k or probas.shape[2])

        size = max(1024, ctx.chunk_size // max(1, len(ctx.committee or [])))
        return ctx.stream(score, n, rng, chunk_size=size)


class DensityWeighted(Strategy):
    """Information density (Settles & Craven 2008): ``margin × (density / max density)^beta``.

    Density is a kNN estimate against a seeded sample of the pool
    (:func:`knn_density`), computed for the ``m`` most uncertain candidates only;
    other rows get NaN scores.
    """

    name = "density"
    needs: frozenset[str] = frozenset({"proba", "features"})
    bounds = (0.0, 1.0)

    def __init__(
        self,
        beta: float = 1.0,
        n_neighbors: int = 10,
        n_reference: int = 2000,
        candidates: int | None = None,
    ) -> None:
        self.beta = beta
        self.n_neighbors = n_neighbors
        self.n_reference = n_reference
        self.candidates = candidates

    def select(self, ctx: QueryContext, n: int, rng: np.random.Generator) -> Selection:
        m = candidate_budget(n, ctx.n_remaining, self.candidates)
        cand, scores = ctx.stream(lambda rows: margin(ctx.predict_proba(rows)), m, rng)
        ref = np.sort(rng.choice(ctx.n_pool, min(self.n_reference, ctx.n_pool), replace=False))
        dens = knn_density(ctx.features(cand), ctx.features(ref), n_neighbors=self.n_neighbors)
        weighted = scores[cand] * (dens / dens.max()) ** self.beta
        scores.fill(np.nan)
        scores[cand] = weighted
        return cand[_ranked(weighted, n, rng)], scores


class CoreSet(Strategy):
    """Core-set by greedy k-center (Sener & Savarese 2018) on the model's input features.

    Uncertainty plays no part, so large pools are pre-filtered by a seeded random
    sample of ``m`` rows; the labeled rows are the initial centers. Scores are each
    candidate's distance to the nearest labeled row (NaN outside the sample).
    """

    name = "coreset"
    needs: frozenset[str] = frozenset({"features"})
    tasks: frozenset[str] = frozenset({"single", "multi"})  # features only: any task
    bounds = (0.0, np.inf)

    def __init__(self, candidates: int | None = None) -> None:
        self.candidates = candidates

    def select(self, ctx: QueryContext, n: int, rng: np.random.Generator) -> Selection:
        cand = ctx.sample(candidate_budget(n, ctx.n_remaining, self.candidates), rng)
        sel, before = k_center_greedy(
            ctx.features(cand), n, centers=ctx.labeled_features(), rng=rng
        )
        scores = np.full(ctx.n_pool, np.nan)
        scores[cand] = before
        return cand[sel], scores


class ClusterMargin(Strategy):
    """Cluster-margin (Citovsky et al. 2021): diverse batches from the most uncertain rows.

    The pool is clustered **once** (k-means on a seeded sample of ``sample_size``
    rows, cached for later queries on the same pool and feature space); each query
    takes the ``m`` rows with the highest margin score, groups them by cluster, and
    visits the clusters smallest first, one random row each, round-robin.
    The paper clusters with average-linkage HAC over the whole pool; k-means on a
    sample keeps the cost bounded on million-row pools.

    Parameters
    ----------
    n_clusters : int, optional
        Default ``round(sqrt(sample rows))``, at least 2.
    sample_size : int, default=5000
    candidates : int, optional
        ``m``, how many of the most uncertain rows are grouped; default ``10·n`` as in
        the paper.
    utility : callable, optional
        The uncertainty that picks the candidates; default :func:`margin`. With
        :func:`~alwidgets.strategies.mean_margin` it serves multi-label tasks: the
        registry's ``cluster_mean_margin``.
    name : str, optional
        Default ``"cluster_margin"``.
    tasks : iterable of str, default ("single",)
    """

    name = "cluster_margin"
    needs: frozenset[str] = frozenset({"proba", "features"})
    bounds = (0.0, 1.0)

    def __init__(
        self,
        n_clusters: int | None = None,
        sample_size: int = 5_000,
        candidates: int | None = None,
        utility: Any = None,
        name: str | None = None,
        tasks: Any = ("single",),
    ) -> None:
        self.n_clusters = n_clusters
        self.sample_size = sample_size
        self.candidates = candidates
        self.utility = margin if utility is None else utility
        self.name = name or "cluster_margin"
        self.tasks = frozenset(tasks)

    def _clusterer(self, ctx: QueryContext, rng: np.random.Generator) -> Any:
        key = f"cluster_margin:{self.n_clusters}:{self.sample_size}"
        if key not in ctx.cache:
            from sklearn.cluster import KMeans

            rows = np.sort(rng.choice(ctx.n_pool, min(self.sample_size, ctx.n_pool), replace=False))
            n_clusters = self.n_clusters or max(2, round(np.sqrt(len(rows))))
            ctx.cache[key] = quiet_kmeans(
                KMeans,
                ctx.features(rows),
                n_clusters=min(n_clusters, len(rows)),
                n_init=1,
                max_iter=30,
                random_state=int(rng.integers(2**31 - 1)),
            )
        return ctx.cache[key]

    def select(self, ctx: QueryContext, n: int, rng: np.random.Generator) -> Selection:
        # the paper's k_m = 10·k most uncertain rows (not the larger diversity budget:
        # more candidates would drift towards random sampling of small clusters)
        m = min(ctx.n_remaining, max(n, 10 * n if self.candidates is None else self.candidates))
        cand, scores = ctx.stream(lambda rows: self.utility(ctx.predict_proba(rows)), m, rng)
        ids = self._clusterer(ctx, rng).predict(ctx.features(cand))
        return cand[round_robin_clusters(ids, n, rng=rng)], scores


def _residual(proba: np.ndarray) -> np.ndarray:
    """``p - onehot(argmax p)``: the softmax-loss gradient w.r.t. the logits at the guessed label."""
    res = np.array(proba, dtype=np.float64)
    res[np.arange(len(res)), res.argmax(axis=1)] -= 1.0
    return res


class Badge(Strategy):
    """BADGE-style batches (Ash et al. 2020): k-means++ seeding on gradient embeddings.

    The embedding of a row is ``(p - onehot(ŷ)) ⊗ [x, 1]`` — exact for linear models
    (logistic regression, linear SVM with calibration); for other models ``x`` is
    the model's input features, an approximation. Its norm is the score; large
    pools are pre-filtered to the ``m`` rows with the largest norm, then seeded
    k-means++ picks a batch that is both uncertain and diverse.

    Parameters
    ----------
    candidates : int, optional
        ``m``; default ``10·n`` within [1,000, 20,000].
    intercept : bool, default=True
        Include the bias term's gradient (set False for a model without intercept).
    """

    name = "badge"
    needs: frozenset[str] = frozenset({"proba", "features"})
    bounds = (0.0, np.inf)

    def __init__(self, candidates: int | None = None, intercept: bool = True) -> None:
        self.candidates = candidates
        self.intercept = intercept

    def select(self, ctx: QueryContext, n: int, rng: np.random.Generator) -> Selection:
        bias = 1.0 if self.intercept else 0.0

        def score(rows: slice) -> np.ndarray:
            res = _residual(ctx.predict_proba(rows))
            x2 = sq_norms(ctx.features(rows)) + bias
            return np.sqrt(np.einsum("ij,ij->i", res, res) * x2)

        m = candidate_budget(n, ctx.n_remaining, self.candidates)
        cand, scores = ctx.stream(score, m, rng)
        res = _residual(ctx.predict_proba(cand))
        picks = kmeans_pp_gradients(ctx.features(cand), res, n, intercept=self.intercept, rng=rng)
        return cand[picks], scores


class ColdStart(Strategy):
    """TypiClust-style cold start (Hacohen et al. 2022): typical rows of distinct clusters.

    Needs no labels and no fitted model, which is why the learner uses it for any
    query before the first fit. Clusters holding a labeled row (or, before the
    first fit, an excluded row) count as covered and are visited last. Works on a seeded sample of ``m`` rows (default
    ``10·n`` within [1,000, 20,000]); scores are typicality (NaN outside the sample).
    """

    name = "cold_start"
    needs: frozenset[str] = frozenset({"features"})
    works_unfitted = True
    tasks: frozenset[str] = frozenset({"single", "multi"})
    bounds = (0.0, 1.0)

    def __init__(self, candidates: int | None = None, n_neighbors: int = 20) -> None:
        self.candidates = candidates
        self.n_neighbors = n_neighbors

    def select(self, ctx: QueryContext, n: int, rng: np.random.Generator) -> Selection:
        cand = ctx.sample(candidate_budget(n, ctx.n_remaining, self.candidates), rng)
        features = ctx.features(cand)  # first: an unfitted preprocessor is fitted on these rows
        centers = ctx.labeled_features()
        if centers is None and ctx.exclude is not None:
            # no model yet, but rows already handled (e.g. labels of one class only):
            # their clusters count as covered
            handled = np.flatnonzero(ctx.exclude)
            if len(handled) > 1000:
                handled = np.sort(rng.choice(handled, 1000, replace=False))
            centers = ctx.features(handled)
        sel, typ = typiclust(features, n, centers=centers, n_neighbors=self.n_neighbors, rng=rng)
        scores = np.full(ctx.n_pool, np.nan)
        scores[cand] = typ
        return cand[sel], scores

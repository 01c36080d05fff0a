"""Query strategies: pure-numpy utilities, seeded selectors, and a registry of names.

A *utility* maps model output to one score per item (higher = more worth
labeling); a *selector* turns scores (and, for diversity, features) into a batch.
A :class:`Strategy` combines them behind ``select(ctx, n, rng)``; the registry maps
names to strategies, and :func:`get_strategy` also accepts your own function.

Utilities: :func:`least_confidence`, :func:`margin`, :func:`entropy`,
:func:`vote_entropy`, :func:`kl_max`, :func:`knn_density`; for multi-label tasks
(``proba[:, j]`` = probability that class ``j`` applies): :func:`mean_margin`,
:func:`label_cardinality_inconsistency`, :func:`max_loss_reduction`,
:func:`max_margin_uncertainty`, :func:`rare_class_margin`, :func:`margin_rank_score`,
:func:`vector_inconsistency` (CVIRS's parts), :func:`approximate_error`.
Selectors: :func:`top_k`, :func:`k_center_greedy`, :func:`kmeans_pp_gradients`,
:func:`round_robin_clusters`, :func:`typiclust`; :func:`tie_keys` is the seeded
tie-break of :class:`RunningTopK` (the same in memory and on Dask blocks).
Histograms over fixed bins, so that counts of blocks add up: :func:`score_edges`,
:func:`histogram_counts`, :func:`trim_histogram`, :func:`score_histogram`.
Cold starts (no model yet): :class:`ColdStart` (typical items of distinct clusters) and
:class:`DescriptionColdStart` (items close to each class's description).

Examples
--------
>>> import numpy as np
>>> from alwidgets import strategies
>>> scores = strategies.margin(np.array([[0.5, 0.5], [0.9, 0.1], [0.6, 0.4]]))
>>> strategies.top_k(scores, 2, random_state=0).tolist()
[0, 2]
>>> strategies.available_strategies()  # doctest: +NORMALIZE_WHITESPACE
['adaptive', 'auto', 'badge', 'cluster_margin', 'cluster_mean_margin', 'cold_start',
 'coreset', 'cvirs', 'density', 'describe', 'entropy', 'lci', 'least_confidence', 'margin',
 'mean_margin', 'mmc', 'mmu', 'qbc', 'random', 'rare_margin']
>>> strategies.available_strategies(task="multi")  # doctest: +NORMALIZE_WHITESPACE
['adaptive', 'auto', 'cluster_mean_margin', 'cold_start', 'coreset', 'cvirs', 'describe',
 'lci', 'mean_margin', 'mmc', 'mmu', 'random', 'rare_margin']

Every strategy says which tasks it is for (``Strategy.tasks``); ``"auto"`` (the
default everywhere) is ``margin`` for single-label and ``mmu`` for multi-label (the one
multi-label strategy that met the default's rule on the real benchmark sets; see
``AutoStrategy``).
"""

from __future__ import annotations

from alwidgets.strategies._base import (
    CallableStrategy,
    RandomStrategy,
    Strategy,
    UtilityStrategy,
    candidate_budget,
)
from alwidgets.strategies._batch import (
    Badge,
    ClusterMargin,
    ColdStart,
    CoreSet,
    DensityWeighted,
    QueryByCommittee,
)
from alwidgets.strategies._context import PoolCache, QueryContext
from alwidgets.strategies._cvirs import (
    CVIRS,
    entropy_distance,
    margin_rank_score,
    vector_inconsistency,
)
from alwidgets.strategies._describe import DescriptionColdStart, class_margins
from alwidgets.strategies._diversity import (
    k_center_greedy,
    kmeans_pp_gradients,
    round_robin_clusters,
    typiclust,
)
from alwidgets.strategies._histogram import (
    histogram_counts,
    score_edges,
    score_histogram,
    trim_histogram,
)
from alwidgets.strategies._multilabel import (
    CardinalityModel,
    LabelCardinalityInconsistency,
    MaxLossReduction,
    label_cardinality_inconsistency,
    max_loss_reduction,
    mean_margin,
)
from alwidgets.strategies._multilabel_margin import (
    AdaptiveMultiLabel,
    MaxMarginUncertainty,
    RareClassMargin,
    approximate_error,
    max_margin_uncertainty,
    rare_class_margin,
)
from alwidgets.strategies._registry import (
    AutoStrategy,
    available_strategies,
    check_task,
    get_strategy,
    register_strategy,
    unregister_strategy,
)
from alwidgets.strategies._selectors import RunningTopK, resolve_rng, tie_keys, top_k
from alwidgets.strategies._utilities import (
    entropy,
    kl_max,
    knn_density,
    least_confidence,
    margin,
    vote_entropy,
)

__all__ = [
    "CVIRS",
    "AdaptiveMultiLabel",
    "AutoStrategy",
    "Badge",
    "CallableStrategy",
    "CardinalityModel",
    "ClusterMargin",
    "ColdStart",
    "CoreSet",
    "DensityWeighted",
    "DescriptionColdStart",
    "LabelCardinalityInconsistency",
    "MaxLossReduction",
    "MaxMarginUncertainty",
    "PoolCache",
    "QueryByCommittee",
    "QueryContext",
    "RandomStrategy",
    "RareClassMargin",
    "RunningTopK",
    "Strategy",
    "UtilityStrategy",
    "approximate_error",
    "available_strategies",
    "candidate_budget",
    "check_task",
    "class_margins",
    "entropy",
    "entropy_distance",
    "get_strategy",
    "histogram_counts",
    "k_center_greedy",
    "kl_max",
    "kmeans_pp_gradients",
    "knn_density",
    "label_cardinality_inconsistency",
    "least_confidence",
    "margin",
    "margin_rank_score",
    "max_loss_reduction",
    "max_margin_uncertainty",
    "mean_margin",
    "rare_class_margin",
    "register_strategy",
    "resolve_rng",
    "round_robin_clusters",
    "score_edges",
    "score_histogram",
    "tie_keys",
    "top_k",
    "trim_histogram",
    "typiclust",
    "unregister_strategy",
    "vector_inconsistency",
    "vote_entropy",
]

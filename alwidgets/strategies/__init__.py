"""Query strategies: pure-numpy utilities, seeded selectors, and a registry of names.

A *utility* maps model output to one score per item (higher = more worth
labeling); a *selector* turns scores (and, for diversity, features) into a batch.
A :class:`Strategy` combines them behind ``select(ctx, n, rng)``; the registry maps
names to strategies, and :func:`get_strategy` also accepts your own function.

Utilities: :func:`least_confidence`, :func:`margin`, :func:`entropy`,
:func:`vote_entropy`, :func:`kl_max`, :func:`knn_density`.
Selectors: :func:`top_k`, :func:`k_center_greedy`, :func:`kmeans_pp_gradients`,
:func:`round_robin_clusters`, :func:`typiclust`.
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
['badge', 'cluster_margin', 'cold_start', 'coreset', 'density', 'describe', 'entropy',
 'least_confidence', 'margin', 'qbc', 'random']
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
from alwidgets.strategies._context import QueryContext
from alwidgets.strategies._describe import DescriptionColdStart, class_margins
from alwidgets.strategies._diversity import (
    k_center_greedy,
    kmeans_pp_gradients,
    round_robin_clusters,
    typiclust,
)
from alwidgets.strategies._registry import (
    available_strategies,
    get_strategy,
    register_strategy,
    unregister_strategy,
)
from alwidgets.strategies._selectors import RunningTopK, resolve_rng, top_k
from alwidgets.strategies._utilities import (
    entropy,
    kl_max,
    knn_density,
    least_confidence,
    margin,
    vote_entropy,
)

__all__ = [
    "Badge",
    "CallableStrategy",
    "ClusterMargin",
    "ColdStart",
    "CoreSet",
    "DensityWeighted",
    "DescriptionColdStart",
    "QueryByCommittee",
    "QueryContext",
    "RandomStrategy",
    "RunningTopK",
    "Strategy",
    "UtilityStrategy",
    "available_strategies",
    "candidate_budget",
    "class_margins",
    "entropy",
    "get_strategy",
    "k_center_greedy",
    "kl_max",
    "kmeans_pp_gradients",
    "knn_density",
    "least_confidence",
    "margin",
    "register_strategy",
    "resolve_rng",
    "round_robin_clusters",
    "top_k",
    "typiclust",
    "unregister_strategy",
    "vote_entropy",
]

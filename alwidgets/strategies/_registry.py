"""The strategy registry: names → factories, and :func:`get_strategy` for names, objects or functions.

Examples
--------
>>> from alwidgets.strategies import available_strategies, get_strategy
>>> "cluster_margin" in available_strategies()
True
>>> get_strategy("margin").name
'margin'
>>> get_strategy("margn")
Traceback (most recent call last):
...
alwidgets.exceptions.UnknownStrategyError: unknown strategy 'margn' (did you mean 'margin'?); available: ...
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

import numpy as np

from alwidgets.exceptions import UnknownStrategyError
from alwidgets.strategies._base import CallableStrategy, RandomStrategy, Strategy, UtilityStrategy
from alwidgets.strategies._batch import (
    Badge,
    ClusterMargin,
    ColdStart,
    CoreSet,
    DensityWeighted,
    QueryByCommittee,
)
from alwidgets.strategies._describe import DescriptionColdStart
from alwidgets.strategies._utilities import entropy, least_confidence, margin

__all__ = ["available_strategies", "get_strategy", "register_strategy", "unregister_strategy"]

_REGISTRY: dict[str, Callable[[], Strategy]] = {
    "random": RandomStrategy,
    "least_confidence": lambda: UtilityStrategy(least_confidence, "least_confidence", (0.0, 1.0)),
    "margin": lambda: UtilityStrategy(margin, "margin", (0.0, 1.0)),
    "entropy": lambda: UtilityStrategy(entropy, "entropy", (0.0, np.inf)),
    "qbc": QueryByCommittee,
    "density": DensityWeighted,
    "coreset": CoreSet,
    "cluster_margin": ClusterMargin,
    "badge": Badge,
    "cold_start": ColdStart,
    "describe": DescriptionColdStart,
}


#: Names that were registered once, and why they are not any more.
_REMOVED = {
    "qbc_kl": (
        "'qbc_kl' (committee max-KL disagreement) was removed: on digits and MNIST it lost "
        "to random sampling, because a bagged committee disagrees most next to items already "
        "labeled (see benchmarks/results/label_efficiency.md); use 'qbc' (vote entropy), or "
        "QueryByCommittee('kl_max') explicitly to experiment"
    ),
}


def available_strategies() -> list[str]:
    """Registered strategy names, sorted.

    Examples
    --------
    >>> available_strategies()[:3]
    ['badge', 'cluster_margin', 'cold_start']
    """
    return sorted(_REGISTRY)


def register_strategy(
    name: str, factory: Callable[[], Strategy], *, overwrite: bool = False
) -> None:
    """Make ``get_strategy(name)`` (and ``ActiveLearner(strategy=name)``) build ``factory()``.

    Parameters
    ----------
    name : str
    factory : callable
        Called with no arguments; returns a :class:`Strategy` (a class works).
    overwrite : bool, default=False
        Replace an existing name instead of raising.

    Examples
    --------
    >>> from alwidgets.strategies import UtilityStrategy
    >>> register_strategy("neg_max", lambda: UtilityStrategy(lambda p: -p.max(axis=1), "neg_max"))
    >>> get_strategy("neg_max").name
    'neg_max'
    >>> unregister_strategy("neg_max")
    """
    if not isinstance(name, str) or not name:
        raise UnknownStrategyError(f"a strategy name must be a non-empty string, got {name!r}.")
    if not callable(factory):
        raise UnknownStrategyError(
            f"factory for {name!r} must be callable and return a Strategy, got {factory!r}."
        )
    if name in _REGISTRY and not overwrite:
        raise UnknownStrategyError(
            f"strategy {name!r} is already registered; pass overwrite=True to replace it."
        )
    _REGISTRY[name] = factory


def unregister_strategy(name: str) -> None:
    """Remove a registered name (no error if it is absent)."""
    _REGISTRY.pop(name, None)


def get_strategy(strategy: str | Strategy | Callable[..., Any]) -> Strategy:
    """Resolve a name, a :class:`Strategy` object, or a function into a strategy.

    Parameters
    ----------
    strategy : str, Strategy or callable
        A registered name (see :func:`available_strategies`), a strategy object
        (returned as is), or a function: ``fn(proba) -> scores`` (a utility) or
        ``fn(ctx, n, rng) -> indices`` (a full selector), see :class:`CallableStrategy`.

    Returns
    -------
    Strategy
        A fresh object for names, so per-pool caches are never shared.

    Raises
    ------
    UnknownStrategyError
        Unknown name (the message lists the available ones) or unusable object.
    """
    if isinstance(strategy, Strategy):
        return strategy
    if isinstance(strategy, str):
        if strategy in _REMOVED and strategy not in _REGISTRY:
            raise UnknownStrategyError(f"{_REMOVED[strategy]}.")
        if strategy not in _REGISTRY:
            close = difflib.get_close_matches(strategy, list(_REGISTRY), n=1)
            hint = f" (did you mean {close[0]!r}?)" if close else ""
            raise UnknownStrategyError(
                f"unknown strategy {strategy!r}{hint}; available: "
                f"{', '.join(available_strategies())}, or pass a function or Strategy object."
            )
        built = _REGISTRY[strategy]()
        if not isinstance(built, Strategy):
            raise UnknownStrategyError(
                f"the factory registered as {strategy!r} returned {type(built).__name__}, "
                "not a Strategy; register a factory that builds a Strategy."
            )
        return built
    if callable(strategy):
        return CallableStrategy(strategy)
    raise UnknownStrategyError(
        f"strategy must be a name, a Strategy or a function, got {type(strategy).__name__}; "
        f"available names: {', '.join(available_strategies())}."
    )

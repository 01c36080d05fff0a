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
>>> available_strategies(task="multi")  # doctest: +NORMALIZE_WHITESPACE
['adaptive', 'auto', 'cluster_mean_margin', 'cold_start', 'coreset', 'cvirs', 'describe',
 'lci', 'mean_margin', 'mmc', 'mmu', 'random', 'rare_margin']
>>> get_strategy("auto").resolve(multi_label=True).name
'mmu'
"""

from __future__ import annotations

import difflib
from collections.abc import Callable
from typing import Any

import numpy as np

from alwidgets.exceptions import InvalidInputError, UnknownStrategyError
from alwidgets.strategies._base import CallableStrategy, RandomStrategy, Strategy, UtilityStrategy
from alwidgets.strategies._batch import (
    Badge,
    ClusterMargin,
    ColdStart,
    CoreSet,
    DensityWeighted,
    QueryByCommittee,
)
from alwidgets.strategies._context import QueryContext
from alwidgets.strategies._cvirs import CVIRS
from alwidgets.strategies._describe import DescriptionColdStart
from alwidgets.strategies._multilabel import (
    LabelCardinalityInconsistency,
    MaxLossReduction,
    mean_margin,
)
from alwidgets.strategies._multilabel_margin import (
    AdaptiveMultiLabel,
    MaxMarginUncertainty,
    RareClassMargin,
)
from alwidgets.strategies._utilities import entropy, least_confidence, margin

__all__ = [
    "AutoStrategy",
    "available_strategies",
    "check_task",
    "get_strategy",
    "register_strategy",
    "unregister_strategy",
]

#: What ``strategy="auto"`` means for each task (the evidence: benchmarks/results/). On
#: the three real multi-label benchmark sets (bench_multilabel.py: yeast, emotions,
#: movies; 5 seeds) ``mmu`` is the only multi-label strategy that meets the default's
#: rule: at least as good as random on micro-F1 on every set, no macro-F1 loss on
#: average (mean_margin, lci, mmc, adaptive, cvirs, rare_margin and cluster_mean_margin
#: each lose macro-F1 to random).
AUTO = {False: "margin", True: "mmu"}


class AutoStrategy(Strategy):
    """``"auto"``: ``margin`` on a single-label task, ``mmu`` on a multi-label one.

    The defaults the benchmarks support: margin sampling beat random on every
    single-label set. On the three real multi-label sets only ``mmu`` (max-margin
    uncertainty, Li & Guo 2013) was at least as good as random on micro-F1 on every set
    without losing macro-F1 on average; ``mean_margin``, ``lci``, ``mmc``, ``adaptive``,
    ``cvirs``, ``rare_margin`` and ``cluster_mean_margin`` each lost macro-F1 to random
    (``benchmarks/results/multilabel.md``). Its gain is small (on yeast it ties random on
    micro-F1); name another strategy, or ``random``, to use it instead.

    The learner resolves it when it sees the task at ``fit`` (``strategy_`` and
    ``last_strategy_`` then name the strategy used); on a context directly it follows
    ``ctx.multi_label``. Single-label picks are exactly those of ``"margin"``.
    """

    name = "auto"
    tasks: frozenset[str] = frozenset({"single", "multi"})
    bounds = (0.0, 1.0)

    def __init__(self) -> None:
        self._resolved: dict[bool, Strategy] = {}

    def resolve(self, multi_label: bool) -> Strategy:
        """The strategy ``auto`` stands for on this task (one object per task)."""
        key = bool(multi_label)
        if key not in self._resolved:
            self._resolved[key] = get_strategy(AUTO[key])
        return self._resolved[key]

    def select(self, ctx: QueryContext, n: int, rng: np.random.Generator) -> Any:
        return self.resolve(ctx.multi_label).select(ctx, n, rng)


_REGISTRY: dict[str, Callable[[], Strategy]] = {
    "auto": AutoStrategy,
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
    "mean_margin": lambda: UtilityStrategy(mean_margin, "mean_margin", (0.0, 1.0), ("multi",)),
    "lci": LabelCardinalityInconsistency,
    "mmc": MaxLossReduction,
    "mmu": MaxMarginUncertainty,
    "adaptive": AdaptiveMultiLabel,
    "cvirs": CVIRS,
    "rare_margin": RareClassMargin,
    "cluster_mean_margin": lambda: ClusterMargin(
        utility=mean_margin, name="cluster_mean_margin", tasks=("multi",)
    ),
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


def available_strategies(task: str | None = None) -> list[str]:
    """Registered strategy names, sorted; with ``task``, only those for that task.

    Parameters
    ----------
    task : {"single", "multi"}, optional
        ``"multi"`` lists the strategies for multi-label tasks (``Strategy.tasks``).

    Examples
    --------
    >>> available_strategies()[:3]
    ['adaptive', 'auto', 'badge']
    >>> "margin" in available_strategies("multi")
    False
    """
    if task is None:
        return sorted(_REGISTRY)
    if task not in ("single", "multi"):
        raise InvalidInputError(f"task must be 'single' or 'multi', got {task!r}.")
    out = []
    for name in sorted(_REGISTRY):
        try:
            if task in get_strategy(name).tasks:
                out.append(name)
        except Exception:  # a broken user factory: not listed
            continue
    return out


def check_task(strategy: Strategy, multi_label: bool | None) -> Strategy:
    """The strategy to use on this task: ``auto`` resolved, else ``strategy`` if it fits.

    ``multi_label=None`` (task not known yet) returns ``strategy`` as is. A strategy not
    meant for the task raises, naming the ones that are.

    Examples
    --------
    >>> check_task(get_strategy("margin"), multi_label=True)
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: strategy 'margin' is for single-label tasks, but Y is a multi-label indicator; use one of: adaptive, auto, cluster_mean_margin, cold_start, coreset, cvirs, describe, lci, mean_margin, mmc, mmu, random, rare_margin (or a function fn(proba) -> scores).
    """
    if multi_label is None:
        return strategy
    if isinstance(strategy, AutoStrategy):
        return strategy.resolve(multi_label)
    task = "multi" if multi_label else "single"
    tasks = getattr(strategy, "tasks", frozenset({"single"}))
    if task in tasks:
        return strategy
    what = "a multi-label indicator" if multi_label else "one label per item (1-D)"
    kind = "single-label" if "single" in tasks else "multi-label"
    raise InvalidInputError(
        f"strategy {strategy.name!r} is for {kind} tasks, but Y is {what}; use one of: "
        f"{', '.join(available_strategies(task))} (or a function fn(proba) -> scores)."
    )


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

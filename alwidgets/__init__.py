"""alwidgets — active learning you can use inside a Jupyter notebook.

The public surface, layer by layer (see ``docs/ARCHITECTURE.md``):

* :mod:`alwidgets.strategies` — pure-numpy utilities and batch selectors.
* :class:`ActiveLearner` — a scikit-learn classifier plus a query strategy.
* :mod:`alwidgets.stopping` — when to stop labeling.
* :func:`simulate`, :func:`compare`, :func:`cost_reduction` — oracle loops and
  the honest measure of the saving against random sampling.
* :mod:`alwidgets.features` — ``TextFeatures``: TF-IDF next to sentence embeddings.
* :mod:`alwidgets.review` — ``suspect_labels``: which labels are likely wrong.
* :class:`SessionStore` — the durable, append-only record of every action.
* :class:`ActiveLabeler` — the labeling app for notebooks.

Names are imported lazily, so ``from alwidgets import SessionStore`` does not
pull in ipywidgets or plotly.

Examples
--------
>>> import alwidgets
>>> "ActiveLearner" in alwidgets.__all__
True
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

from alwidgets._version import __version__
from alwidgets.exceptions import (
    ALWidgetsError,
    ClusterError,
    DuplicateIdError,
    EstimatorError,
    InvalidDtypeError,
    InvalidInputError,
    LabelConflictError,
    LabelConflictWarning,
    NotFittedError,
    OptionalDependencyError,
    StoreError,
    StoreMismatchError,
    UnknownLabelError,
    UnknownStrategyError,
)

if TYPE_CHECKING:  # pragma: no cover - for type checkers and IDEs only
    from alwidgets import datasets, display, features, review, stopping, strategies, widgets
    from alwidgets.app import ActiveLabeler
    from alwidgets.learner import ActiveLearner
    from alwidgets.simulation import compare, cost_reduction, simulate
    from alwidgets.store import SessionStore

# public name -> module that defines it
_LAZY = {
    "ActiveLearner": "alwidgets.learner",
    "SessionStore": "alwidgets.store",
    "ActiveLabeler": "alwidgets.app",
    "simulate": "alwidgets.simulation",
    "compare": "alwidgets.simulation",
    "cost_reduction": "alwidgets.simulation",
}
_SUBMODULES = {"strategies", "stopping", "datasets", "display", "widgets", "features", "review"}

__all__ = [
    "ALWidgetsError",
    "ActiveLabeler",
    "ActiveLearner",
    "ClusterError",
    "DuplicateIdError",
    "EstimatorError",
    "InvalidDtypeError",
    "InvalidInputError",
    "LabelConflictError",
    "LabelConflictWarning",
    "NotFittedError",
    "OptionalDependencyError",
    "SessionStore",
    "StoreError",
    "StoreMismatchError",
    "UnknownLabelError",
    "UnknownStrategyError",
    "__version__",
    "compare",
    "cost_reduction",
    "datasets",
    "display",
    "features",
    "review",
    "simulate",
    "stopping",
    "strategies",
    "widgets",
]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        value = getattr(importlib.import_module(_LAZY[name]), name)
    elif name in _SUBMODULES:
        value = importlib.import_module(f"alwidgets.{name}")
    else:
        raise AttributeError(f"module 'alwidgets' has no attribute {name!r}")
    globals()[name] = value  # cache: the next lookup skips __getattr__
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))

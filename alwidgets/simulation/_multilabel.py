"""What a multi-label simulation does differently: targets, strategy names, curve rows.

A 2-D 0/1 indicator ``Y`` makes :func:`~alwidgets.simulate` and
:func:`~alwidgets.compare` multi-label: the oracle reveals rows of ``Y``, the curve
columns are :data:`MULTI_CURVE_COLUMNS` (``micro_f1``, ``macro_f1``, and ``score`` =
micro-F1), and ``strategy="auto"`` means ``mmu`` (the evidence: bench_multilabel).

Examples
--------
>>> import numpy as np
>>> curve_metrics(np.array([[1, 0], [0, 1]]), np.array([[1, 0], [0, 0]]))
{'micro_f1': 0.6666666666666666, 'macro_f1': 0.5, 'score': 0.6666666666666666}
>>> resolve_auto("auto", multi_label=True), resolve_auto("lci", multi_label=True)
('mmu', 'lci')
"""

from __future__ import annotations

from typing import Any

import numpy as np

from alwidgets._multilabel import (
    as_multilabel,
    check_classes_occur,
    check_indicator,
    is_indicator,
)
from alwidgets._thresholds import micro_macro_f1
from alwidgets._utils import n_rows
from alwidgets.exceptions import InvalidInputError

__all__ = [
    "MULTI_CURVE_COLUMNS",
    "MULTI_METRICS",
    "SINGLE_METRICS",
    "check_targets",
    "curve_metrics",
    "full_model",
    "resolve_auto",
    "resolve_metric",
]

#: Columns of a multi-label learning curve, in order.
MULTI_CURVE_COLUMNS = [
    "strategy",
    "seed",
    "n_labels",
    "micro_f1",
    "macro_f1",
    "score",
    "classes_seen",
    "seconds",
]
SINGLE_METRICS = ("accuracy", "f1_macro")
MULTI_METRICS = ("micro_f1", "macro_f1", "score")


def resolve_auto(strategy: Any, multi_label: bool) -> Any:
    """``"auto"`` (or an ``AutoStrategy``) → the registered name it stands for on this task."""
    from alwidgets.strategies import AutoStrategy

    if (isinstance(strategy, str) and strategy == "auto") or isinstance(strategy, AutoStrategy):
        return AutoStrategy().resolve(multi_label).name
    return strategy


def resolve_metric(metric: str, multi_label: bool) -> str:
    """``"auto"`` → ``accuracy`` / ``micro_f1``; a metric of the other task → a clear error."""
    if metric == "auto":
        return "micro_f1" if multi_label else "accuracy"
    allowed = MULTI_METRICS if multi_label else SINGLE_METRICS
    if metric not in allowed:
        kind = "multi-label" if multi_label else "single-label"
        raise InvalidInputError(
            f"unknown metric {metric!r} for a {kind} task; use one of {['auto', *allowed]}."
        )
    return metric


def check_targets(
    y: Any, n_samples: int, y_test: Any, n_test: int | None
) -> tuple[np.ndarray, np.ndarray | None]:
    """Validate a multi-label ``Y`` (and ``Y_test``): 0/1, matching rows, every class occurs."""
    Y, classes = check_indicator(y, n_samples, name="y")
    check_classes_occur(Y, classes, name="y")
    if y_test is None:
        return Y, None
    if not is_indicator(y_test):
        raise InvalidInputError(
            "y is a multi-label indicator but y_test is not; pass y_test with the same "
            f"{Y.shape[1]} 0/1 columns."
        )
    Y_test, _ = check_indicator(y_test, n_test, name="y_test")
    if Y_test.shape[1] != Y.shape[1]:
        raise InvalidInputError(
            f"y has {Y.shape[1]} classes but y_test has {Y_test.shape[1]}; pass the same columns."
        )
    return Y, Y_test


def curve_metrics(Y_true: np.ndarray, Y_pred: np.ndarray) -> dict[str, float]:
    """The multi-label curve's scores of one round."""
    micro, macro = micro_macro_f1(Y_true, Y_pred)
    return {"micro_f1": micro, "macro_f1": macro, "score": micro}


def full_model(estimator: Any, X: Any, Y: np.ndarray) -> Any:
    """The estimator fit on every labeled row (the full-data reference of ``compare``)."""
    from sklearn.base import clone

    if n_rows(X) != len(Y):  # pragma: no cover - guarded by the callers
        raise InvalidInputError("X and Y differ in length.")
    return clone(as_multilabel(estimator)).fit(X, Y)

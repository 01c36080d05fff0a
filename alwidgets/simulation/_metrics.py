"""Measures on learning curves: labels to a target, cost reduction, normalised area.

A learning curve is anything with columns ``n_labels`` (strictly increasing)
and a score column (``accuracy`` or ``f1_macro``; multi-label: ``micro_f1``,
``macro_f1`` or ``score``), like the DataFrame
:func:`alwidgets.simulate` returns. Public through :mod:`alwidgets.simulation`.

Examples
--------
>>> import pandas as pd
>>> from alwidgets.simulation import cost_reduction
>>> rnd = pd.DataFrame({"n_labels": [20, 40, 60], "accuracy": [0.6, 0.8, 0.9]})
>>> al = pd.DataFrame({"n_labels": [20, 40, 60], "accuracy": [0.6, 0.9, 0.95]})
>>> cost_reduction(al, rnd, target=0.9)
0.3333333333333333
"""

from __future__ import annotations

import math
import numbers
from typing import Any

import numpy as np

from alwidgets.exceptions import InvalidInputError

__all__ = ["METRICS", "area_under_curve", "cost_reduction", "labels_to_target"]

#: Metrics a curve records (single-label, then multi-label); any can drive targets and areas.
METRICS = ("accuracy", "f1_macro", "micro_f1", "macro_f1", "score")


def _curve_arrays(curve: Any, metric: str, name: str) -> tuple[np.ndarray, np.ndarray]:
    if metric not in METRICS and not (hasattr(curve, "columns") and metric in curve.columns):
        raise InvalidInputError(f"unknown metric {metric!r}; use one of {list(METRICS)}.")
    try:
        n = np.asarray(curve["n_labels"], dtype=float)
        score = np.asarray(curve[metric], dtype=float)
    except (KeyError, TypeError, IndexError) as err:
        raise InvalidInputError(
            f"{name} needs columns 'n_labels' and {metric!r}, like the DataFrame simulate() "
            "returns."
        ) from err
    if n.ndim != 1 or len(n) != len(score):
        raise InvalidInputError(f"{name} columns must be 1-D and of equal length.")
    if len(n) and np.any(np.diff(n) <= 0):
        raise InvalidInputError(
            f"{name}['n_labels'] must increase strictly (one curve per strategy and seed); "
            "filter a long DataFrame first, e.g. curves[curves.seed == 0]."
        )
    return n, score


def check_target(target: Any) -> float:
    if (
        isinstance(target, bool)
        or not isinstance(target, numbers.Real)
        or not math.isfinite(target)
    ):
        raise InvalidInputError(f"target must be a finite number (a score), got {target!r}.")
    return float(target)


def labels_to_target(curve: Any, target: float, *, metric: str = "accuracy") -> float:
    """Number of labels at which ``curve`` first reaches ``target`` (NaN if it never does).

    Parameters
    ----------
    curve : DataFrame
        Columns ``n_labels`` (strictly increasing) and ``metric``.
    target : float
        Absolute score, e.g. ``0.9`` accuracy.
    metric : str, default "accuracy"

    Returns
    -------
    float
        ``n_labels`` of the first row with ``curve[metric] >= target``; NaN when no
        row gets there within the curve's budget.

    Examples
    --------
    >>> import pandas as pd
    >>> curve = pd.DataFrame({"n_labels": [10, 20, 30], "accuracy": [0.6, 0.85, 0.8]})
    >>> labels_to_target(curve, 0.8)
    20.0
    >>> labels_to_target(curve, 0.9)
    nan
    """
    n, score = _curve_arrays(curve, metric, "curve")
    hit = np.flatnonzero(score >= check_target(target))
    return float(n[hit[0]]) if len(hit) else math.nan


def cost_reduction(
    curve: Any, baseline_curve: Any, target: float, *, metric: str = "accuracy"
) -> float:
    """Share of labels saved against a baseline: ``(n_baseline - n_curve) / n_baseline``.

    ``n`` is the number of labels each curve needs to first reach ``target``
    (:func:`labels_to_target`). Positive means fewer labels than the baseline
    (``0.5`` = half the labels); negative means more.

    Parameters
    ----------
    curve, baseline_curve : DataFrame
        Learning curves with columns ``n_labels`` and ``metric``; the baseline is
        usually random sampling on the same seed.
    target : float
        Absolute score to reach (``compare`` derives it from the full-data score).
    metric : str, default "accuracy"

    Returns
    -------
    float
        NaN when either curve never reaches the target: the saving is then
        unknown, not zero. (:func:`compare` reports how many runs reached it.)

    Examples
    --------
    >>> import pandas as pd
    >>> rnd = pd.DataFrame({"n_labels": [20, 60, 100, 140], "accuracy": [.5, .7, .85, .9]})
    >>> al = pd.DataFrame({"n_labels": [20, 60, 100, 140], "accuracy": [.5, .86, .9, .93]})
    >>> cost_reduction(al, rnd, target=0.85)
    0.4
    >>> cost_reduction(al, rnd, target=0.95)
    nan
    """
    n_curve = labels_to_target(curve, target, metric=metric)
    n_base = labels_to_target(baseline_curve, target, metric=metric)
    if math.isnan(n_curve) or math.isnan(n_base):
        return math.nan
    return (n_base - n_curve) / n_base


def area_under_curve(
    curve: Any, *, metric: str = "accuracy", n_range: tuple[float, float] | None = None
) -> float:
    """Normalised area under a learning curve: the mean score over a label range.

    The trapezoid area between ``n_range[0]`` and ``n_range[1]`` labels divided by
    the width of the range, so it reads as a score (1.0 = perfect from the first
    label). Compare curves only over the same range; :func:`compare` uses the
    range every run covers.

    Parameters
    ----------
    curve : DataFrame
        Columns ``n_labels`` (strictly increasing) and ``metric``.
    metric : str, default "accuracy"
    n_range : (float, float), optional
        Label range; defaults to the curve's own first and last ``n_labels``.
        Scores at the ends are interpolated linearly.

    Examples
    --------
    >>> import pandas as pd
    >>> curve = pd.DataFrame({"n_labels": [10, 20, 30], "accuracy": [0.5, 0.7, 0.9]})
    >>> area_under_curve(curve)
    0.7
    >>> area_under_curve(curve, n_range=(20, 30))
    0.8
    """
    n, score = _curve_arrays(curve, metric, "curve")
    if len(n) == 0:
        return math.nan
    lo, hi = (n[0], n[-1]) if n_range is None else (float(n_range[0]), float(n_range[1]))
    if lo < n[0] or hi > n[-1] or hi < lo:
        raise InvalidInputError(
            f"n_range {(lo, hi)} is outside the curve's labels [{n[0]:g}, {n[-1]:g}]; "
            "pass a range the curve covers."
        )
    if hi == lo:
        return float(np.interp(lo, n, score))
    inside = (n > lo) & (n < hi)
    xs = np.concatenate([[lo], n[inside], [hi]])
    ys = np.interp(xs, n, score)
    return float(np.sum((ys[1:] + ys[:-1]) * np.diff(xs)) / 2 / (hi - lo))

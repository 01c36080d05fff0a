"""Stabilizing predictions: successive models compared on a fixed stop set.

The pieces behind :class:`alwidgets.stopping.StabilizingPredictions` and
:func:`alwidgets.stopping.stability_report` (import them from there):

* :func:`check_predictions` — one model's predictions on the stop set: a 1-D label
  vector (single-label) or a 0/1 indicator matrix ``(n_items, n_classes)`` (multi-label).
* :func:`prediction_kappa` — Cohen's κ between two models' predictions. For an
  indicator matrix every (item, class) cell is one yes/no decision and κ is computed
  over all cells (the binary κ whose F-measure bound below then bounds micro-F1).
* :func:`changed_share` — the share of stop-set items whose prediction changed.
* :func:`f_bound` — Bloodgood & Grothendieck's bound on the F-measure change.
* :func:`rule_holds` — the published stopping rule.

The rule, as published (Bloodgood & Vijay-Shanker 2009, "A method for stopping active
learning based on stabilizing predictions and the need for user-adjustable stopping",
CoNLL): after every model, compute κ between its predictions and the previous model's
on the same unlabeled stop set; stop once the **mean of the last** ``window`` **κ
values** (k = 3 in the paper) is **greater than** the threshold (0.99 in the paper;
the paper's point is that users should be able to move it). It is κ itself that is
averaged, not the change of κ between rounds (a variant some libraries ship), and the
values are averaged, not each required to pass. The authors' group's own
implementation does the same (``mean(kappas[-k:]) > threshold``).

Bloodgood & Grothendieck (2013, "Analysis of stopping active learning based on
stabilizing predictions", CoNLL): when κ between two models is at least ``T > 0``,
their F-measures differ by at most ``4(1 - T)/T`` (binary F-measure, computed on data
like the stop set). For single-label predictions with more than two classes the bound
is a guide, not a theorem; the share of changed predictions bounds the change of
*accuracy* exactly (a model can only gain or lose accuracy on items whose prediction
changed).
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Sequence
from typing import Any

import numpy as np

from alwidgets._utils import cohen_kappa
from alwidgets.exceptions import InvalidInputError

__all__ = [
    "changed_share",
    "check_predictions",
    "f_bound",
    "prediction_kappa",
    "rule_holds",
    "stability_report",
]

_INDICATOR_HINT = (
    "multi-label predictions must be a 0/1 indicator matrix (n_items, n_classes), e.g. "
    "MultiLabelBinarizer().fit_transform(label_sets)"
)


def check_predictions(predictions: Any, *, name: str = "predictions") -> np.ndarray:
    """One model's predictions on the stop set, checked: 1-D labels or a 0/1 indicator matrix.

    Examples
    --------
    >>> check_predictions([0, 1, 1]).tolist()
    [0, 1, 1]
    >>> check_predictions([[1, 0], [1, 1]]).dtype
    dtype('int8')
    >>> check_predictions([(0,), (0, 1)])
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: predictions holds label sets (tuple); multi-label predictions must be a 0/1 indicator matrix ...
    """
    if hasattr(predictions, "toarray"):  # a sparse indicator matrix
        predictions = predictions.toarray()
    elif (
        isinstance(predictions, list | tuple)
        and predictions
        and all(isinstance(p, tuple | set | frozenset) for p in predictions)
    ):
        kinds = type(predictions[0]).__name__
        raise InvalidInputError(f"{name} holds label sets ({kinds}); {_INDICATOR_HINT}.")
    try:
        arr = np.array(predictions, copy=True)
    except ValueError as exc:  # ragged nested sequences
        raise InvalidInputError(
            f"{name} could not be read as one prediction per item; {_INDICATOR_HINT}."
        ) from exc
    if arr.ndim == 1:
        sets = [v for v in arr[:20] if isinstance(v, tuple | list | set | frozenset)]
        if arr.dtype == object and sets:
            raise InvalidInputError(
                f"{name} holds label sets ({type(sets[0]).__name__}); {_INDICATOR_HINT}."
            )
        return arr
    if arr.ndim == 2:
        numeric = arr.dtype.kind in "biuf"
        values = np.unique(arr) if numeric and arr.size else np.array([0])
        if not numeric or not np.isin(values, (0, 1)).all():
            shown = values[:5].tolist() if numeric else f"dtype {arr.dtype}"
            raise InvalidInputError(
                f"{name} is 2-D but not 0/1 (values {shown}); {_INDICATOR_HINT}, "
                "or pass one label per item (1-D) for single-label predictions."
            )
        return arr.astype(np.int8)
    raise InvalidInputError(
        f"{name} must be one label per item (1-D) or a 0/1 indicator matrix (2-D), got shape "
        f"{arr.shape}."
    )


def _pair(a: Any, b: Any) -> tuple[np.ndarray, np.ndarray]:
    x, y = check_predictions(a), check_predictions(b)
    if x.shape != y.shape:
        raise InvalidInputError(
            f"predictions must have the same shape every round, got {x.shape} then {y.shape}; "
            "predict on the same fixed stop set every round."
        )
    return x, y


def prediction_kappa(a: Any, b: Any) -> float:
    """Cohen's κ between two models' predictions on the same stop set (NaN when undefined).

    Examples
    --------
    >>> prediction_kappa([0, 1, 1, 0], [0, 1, 0, 0])
    0.5
    >>> prediction_kappa([[1, 0], [0, 1]], [[1, 0], [0, 1]])
    1.0
    """
    x, y = _pair(a, b)
    if x.ndim == 2:
        return cohen_kappa(x.ravel().astype(np.int64), y.ravel().astype(np.int64))
    return cohen_kappa(x, y)


def changed_share(a: Any, b: Any) -> float:
    """Share of stop-set items whose prediction differs (an item's whole label set for 2-D).

    Examples
    --------
    >>> changed_share([0, 1, 1, 0], [0, 1, 0, 0])
    0.25
    >>> changed_share([[1, 0], [0, 1]], [[1, 1], [0, 1]])
    0.5
    """
    x, y = _pair(a, b)
    return float(_differs(x, y).mean()) if len(x) else float("nan")


def _differs(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Per item: whether two checked prediction arrays differ (1 and "1" differ)."""
    if x.ndim == 2:
        return np.asarray((x != y).any(axis=1))
    return np.asarray(
        [type(u) is not type(v) or u != v for u, v in zip(x.tolist(), y.tolist(), strict=True)],
        dtype=bool,
    )


def f_bound(kappa: float) -> float:
    """Bloodgood & Grothendieck's bound ``4(1 - κ)/κ`` on the F-measure change, capped at 1.

    NaN when κ is undefined; 1 (no information) when κ <= 0.8.

    Examples
    --------
    >>> round(f_bound(0.99), 4)
    0.0404
    >>> f_bound(0.5)
    1.0
    """
    if kappa is None or not math.isfinite(kappa):
        return float("nan")
    if kappa <= 0:
        return 1.0
    return float(min(1.0, 4.0 * (1.0 - kappa) / kappa))


def rule_holds(kappas: Sequence[float], window: int, threshold: float) -> bool:
    """The published rule: the mean of the last ``window`` κ values is greater than ``threshold``.

    Fewer than ``window`` values, or an undefined κ among them (a model that predicts
    one class throughout), never hold.

    Examples
    --------
    >>> rule_holds([0.5, 0.995, 0.99, 0.999], 3, 0.99)
    True
    >>> rule_holds([0.99, 0.98, 0.999], 3, 0.99)     # mean 0.9897
    False
    >>> rule_holds([1.0, 1.0], 3, 0.99)
    False
    """
    recent = np.asarray(list(kappas)[-window:], dtype=float)
    return bool(len(recent) == window and np.isfinite(recent).all() and recent.mean() > threshold)


def _check_rule(window: Any, threshold: Any) -> tuple[int, float]:
    if isinstance(window, bool) or not isinstance(window, int | np.integer) or window <= 0:
        raise InvalidInputError(f"window must be a positive integer, got {window!r}.")
    try:
        t = float(threshold)
    except (TypeError, ValueError):
        t = float("nan")
    if not 0.0 < t < 1.0:
        raise InvalidInputError(
            f"threshold must be between 0 and 1 (the rule asks mean κ > threshold), got "
            f"{threshold!r}; the paper uses 0.99."
        )
    return int(window), t


def _percent(share: float) -> str:
    """A share as a whole percentage, rounded down (99.96 % is not "100 %")."""
    return f"{math.floor(share * 100 + 1e-9)} %"


def stability_report(
    history: Sequence[Any],
    *,
    window: int = 3,
    threshold: float = 0.99,
    n_labels: Sequence[int] | None = None,
) -> dict[str, Any]:
    """Where the stabilizing-predictions signal stands, from the stop-set predictions so far.

    Pure: give it the predictions of each successive model on the **same** fixed
    sample of unlabeled items (the stop set; no labels needed), oldest first. The rule
    is the published one (:func:`rule_holds`: mean κ of the last ``window`` comparisons
    greater than ``threshold``), replayed over the whole history, so the report also
    says when it first held.

    What the bound says: Bloodgood & Grothendieck bound the F-measure change between
    two *successive* models by ``4(1 - κ)/κ``, so the sentence speaks of one more
    retrain. Many more labels can add up to more: in ``benchmarks/bench_stopping.py``
    (spam subjects, margin sampling) F1 still rose by 0.047 ± 0.013 from where the
    0.99 rule first held (332 labels) to 1,000 labels, about the bound at the stop
    (0.048), while each step inside the window changed it by at most 0.011.

    Parameters
    ----------
    history : sequence of array-like
        One entry per model: 1-D predicted labels, or a 0/1 indicator matrix
        ``(n_items, n_classes)`` for multi-label models (κ over every item × class
        cell). Label sets (tuples) are refused with the fix.
    window : int, default 3
        κ values averaged (the paper's k; ``window + 1`` models).
    threshold : float, default 0.99
        The mean κ must be greater than this (0 < threshold < 1).
    n_labels : sequence of int, optional
        Labels each model was trained on (same length as ``history``): adds
        ``first_held_labels`` and ``since_labels`` (where to mark the learning curve).

    Returns
    -------
    dict
        ``n_models``, ``n_items`` (stop-set size), ``window``, ``threshold``;
        ``kappas`` and ``changed`` (one value per successive pair, oldest first: κ and
        the share of stop-set items whose prediction changed); ``kappa`` (the rule's
        statistic: mean of the last ``window`` κ, NaN until there are that many),
        ``min_kappa``, ``changed_last``, ``agree`` (share of the stop set on which the
        last ``window + 1`` models all agree); ``holds``; ``first_held`` and ``since``
        (model indices into ``history``: the first model at which the rule held, and
        the start of the unbroken run that holds now; ``None`` otherwise) and their
        ``..._labels``; ``bound`` (Bloodgood & Grothendieck: the largest F-measure
        change between successive models in the window that κ allows,
        ``4(1 - κ)/κ`` at the window's lowest κ, capped at 1); ``sentence``.

    Raises
    ------
    InvalidInputError
        Predictions of different shapes across models, label sets instead of an
        indicator matrix, a bad ``window``/``threshold``, or ``n_labels`` of another length.

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> first = rng.integers(0, 3, 500)
    >>> later = first.copy(); later[:100] = (later[:100] + 1) % 3
    >>> history = [first, later, later, later, later]
    >>> report = stability_report(history, n_labels=[20, 30, 40, 50, 60])
    >>> report["holds"], report["first_held"], report["first_held_labels"]
    (True, 4, 60)
    >>> report["sentence"]
    'predictions stable: the last 4 models agree on 100 % of the stop set (mean κ 1.000) — one more retrain is unlikely to change F1 by more than ~0.00'
    >>> stability_report(history[:3])["sentence"]
    'stop signal: needs 4 models predicting the stop set (3 so far)'
    """
    window, threshold = _check_rule(window, threshold)
    preds = [check_predictions(p, name=f"history[{i}]") for i, p in enumerate(history)]
    if n_labels is not None and len(n_labels) != len(preds):
        raise InvalidInputError(
            f"n_labels must give one count per model: {len(preds)} models, {len(n_labels)} counts."
        )
    kappas = [prediction_kappa(a, b) for a, b in itertools.pairwise(preds)]
    changed = [changed_share(a, b) for a, b in itertools.pairwise(preds)]
    held = [rule_holds(kappas[:i], window, threshold) for i in range(len(kappas) + 1)]
    first = next((i for i, h in enumerate(held) if h), None)
    since = None
    if held and held[-1]:
        since = len(held) - 1
        while since > 0 and held[since - 1]:
            since -= 1
    recent = np.asarray(kappas[-window:], dtype=float)
    full = len(recent) == window
    kappa = float(recent.mean()) if full else float("nan")
    min_kappa = float(recent.min()) if full else float("nan")
    agree = float("nan")
    if full and len(preds[-1]):
        last = preds[-(window + 1) :]
        agree = 1.0 - float(np.logical_or.reduce([_differs(last[0], p) for p in last[1:]]).mean())

    def labels_at(i: int | None) -> int | None:
        return None if i is None or n_labels is None else int(n_labels[i])

    report: dict[str, Any] = {
        "n_models": len(preds),
        "n_items": len(preds[0]) if preds else 0,
        "window": window,
        "threshold": threshold,
        "kappas": kappas,
        "changed": changed,
        "kappa": kappa,
        "min_kappa": min_kappa,
        "changed_last": changed[-1] if changed else float("nan"),
        "agree": agree,
        "holds": bool(held[-1]) if held else False,
        "first_held": first,
        "since": since,
        "first_held_labels": labels_at(first),
        "since_labels": labels_at(since),
        "bound": f_bound(min_kappa) if full else float("nan"),
    }
    report["sentence"] = _sentence(report)
    return report


def _sentence(r: dict[str, Any]) -> str:
    window, n = r["window"], r["n_models"]
    if n < window + 1:
        return f"stop signal: needs {window + 1} models predicting the stop set ({n} so far)"
    if not math.isfinite(r["kappa"]):
        return (
            "predictions not comparable yet: a model predicts one and the same class for the "
            "whole stop set"
        )
    if not r["holds"]:
        return (
            f"predictions still changing: mean κ {r['kappa']:.3f} over the last {window} "
            f"retrains (stable above {r['threshold']:g}); {_percent(r['changed_last'])} of the "
            "stop set changed at the last one"
        )
    bound = math.ceil(r["bound"] * 100 - 1e-9) / 100
    text = (
        f"predictions stable: the last {window + 1} models agree on {_percent(r['agree'])} of "
        f"the stop set (mean κ {r['kappa']:.3f}) — one more retrain is unlikely to change F1 by "
        f"more than ~{bound:.2f}"
    )
    if r["since_labels"] is not None and r["since"] != n - 1:
        text += f"; stable since {r['since_labels']} labels"
    return text

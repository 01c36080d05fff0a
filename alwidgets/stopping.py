"""When to stop labeling: budget, target score, plateau, stabilizing predictions.

Every criterion has the same small protocol: call ``update(...)`` once per round
with what you know (``n_labels``, ``score``, ``predictions`` on a fixed stop set),
then read ``should_stop`` and ``reason``, a sentence for a UI hint. Criteria ignore
the keywords they do not use, so one call can feed them all;
:class:`StoppingHint` does exactly that and joins the reasons.

Two figures need no held-out labels, for an app's stats panel or a notebook:

* :func:`stability_report` — where stabilizing predictions stands (κ between
  successive models on the stop set, the share that changed, whether and since when
  the rule holds, Bloodgood & Grothendieck's bound on the F1 change, a sentence);
* :class:`PrequentialAccuracy` / :func:`prequential_accuracy` — how often the model's
  suggestion matched the person's answer on the next batch.

Examples
--------
>>> import numpy as np
>>> from alwidgets.stopping import StabilizingPredictions
>>> stop = StabilizingPredictions(window=2, threshold=0.99)
>>> preds = np.array([0, 1, 1, 0, 1, 0, 0, 1])
>>> for _ in range(3):
...     _ = stop.update(predictions=preds)
>>> stop.should_stop
True
>>> stop.reason
'predictions stable for 2 rounds (κ=1.000): more labels are unlikely to help'
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np

from alwidgets._prequential import PrequentialAccuracy, prequential_accuracy
from alwidgets._stability import (
    check_predictions,
    f_bound,
    prediction_kappa,
    rule_holds,
    stability_report,
)
from alwidgets._utils import cohen_kappa
from alwidgets.exceptions import InvalidInputError

__all__ = [
    "Budget",
    "Plateau",
    "PrequentialAccuracy",
    "StabilizingPredictions",
    "StoppingCriterion",
    "StoppingHint",
    "TargetScore",
    "cohen_kappa",
    "f_bound",
    "prediction_kappa",
    "prequential_accuracy",
    "rule_holds",
    "stability_report",
    "stopping_hint",
]


class StoppingCriterion:
    """Base class: ``update(**what_you_know) -> bool``, then ``should_stop`` and ``reason``."""

    should_stop: bool = False
    reason: str = ""

    def update(
        self,
        *,
        n_labels: int | None = None,
        score: float | None = None,
        predictions: Any = None,
    ) -> bool:
        """Record one round; returns :attr:`should_stop`."""
        raise NotImplementedError

    def reset(self) -> None:
        """Forget every round seen so far."""
        self.__dict__.pop("should_stop", None)
        self.__dict__.pop("reason", None)

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in vars(self).items() if not k.startswith("_"))
        return f"{type(self).__name__}({params})"


class Budget(StoppingCriterion):
    """Stop when ``max_labels`` labels have been spent.

    Examples
    --------
    >>> b = Budget(100)
    >>> b.update(n_labels=100), b.reason
    (True, 'label budget reached (100 of 100 labels)')
    """

    def __init__(self, max_labels: int) -> None:
        if isinstance(max_labels, bool) or not isinstance(max_labels, int) or max_labels <= 0:
            raise InvalidInputError(f"max_labels must be a positive integer, got {max_labels!r}.")
        self.max_labels = max_labels

    def update(
        self, *, n_labels: int | None = None, score: float | None = None, predictions: Any = None
    ) -> bool:
        if n_labels is not None and n_labels >= self.max_labels:
            self.should_stop = True
            self.reason = f"label budget reached ({n_labels} of {self.max_labels} labels)"
        return self.should_stop


class TargetScore(StoppingCriterion):
    """Stop once the held-out score reaches ``target``.

    Examples
    --------
    >>> t = TargetScore(0.9)
    >>> t.update(score=0.85), t.update(score=0.93)
    (False, True)
    >>> t.reason
    'accuracy 0.930 reached the target 0.900'
    """

    def __init__(self, target: float, metric: str = "accuracy") -> None:
        self.target = float(target)
        self.metric = metric

    def update(
        self, *, n_labels: int | None = None, score: float | None = None, predictions: Any = None
    ) -> bool:
        if score is not None and np.isfinite(score) and score >= self.target:
            self.should_stop = True
            self.reason = f"{self.metric} {score:.3f} reached the target {self.target:.3f}"
        return self.should_stop


class Plateau(StoppingCriterion):
    """Stop when the learning curve gained less than ``min_delta`` for ``patience`` rounds.

    Examples
    --------
    >>> p = Plateau(patience=2, min_delta=0.01)
    >>> [p.update(score=s) for s in (0.70, 0.80, 0.805, 0.806)]
    [False, False, False, True]
    >>> p.reason
    'learning curve flat for 2 rounds (best accuracy 0.806, gain < 0.010): more labels are unlikely to help'
    """

    def __init__(
        self, patience: int = 3, min_delta: float = 0.005, metric: str = "accuracy"
    ) -> None:
        if isinstance(patience, bool) or not isinstance(patience, int) or patience <= 0:
            raise InvalidInputError(f"patience must be a positive integer, got {patience!r}.")
        self.patience = patience
        self.min_delta = float(min_delta)
        self.metric = metric
        self._best = -np.inf
        self._flat = 0

    def reset(self) -> None:
        super().reset()
        self._best, self._flat = -np.inf, 0

    def update(
        self, *, n_labels: int | None = None, score: float | None = None, predictions: Any = None
    ) -> bool:
        if score is None or not np.isfinite(score):
            return self.should_stop
        if np.isinf(self._best):
            self._best = float(score)
        elif score > self._best + self.min_delta:
            self._best, self._flat = float(score), 0
        else:
            self._best = max(self._best, float(score))
            self._flat += 1
        self.should_stop = self._flat >= self.patience
        self.reason = (
            f"learning curve flat for {self._flat} rounds (best {self.metric} {self._best:.3f}, "
            f"gain < {self.min_delta:.3f}): more labels are unlikely to help"
            if self.should_stop
            else ""
        )
        return self.should_stop


class StabilizingPredictions(StoppingCriterion):
    """Stop when successive models agree on a fixed stop set (Bloodgood & Vijay-Shanker 2009).

    Each round, pass the current model's predictions on the **same** unlabeled stop
    set (no labels needed; the paper draws 2,000 items at random from the pool).
    Cohen's κ between the predictions of successive models is recorded, and the rule
    is the published one: stop once the **mean of the last** ``window`` **κ values is
    greater than** ``threshold`` (k = 3 and 0.99 in the paper). κ itself is averaged —
    not the change of κ between rounds, a variant some libraries ship — and the mean
    must pass, not each value. :func:`stability_report` replays the same rule over a
    history and says since when it holds.

    When a model predicts one and the same class for the whole stop set in two
    successive rounds, κ is undefined (NaN, see :func:`~alwidgets.stopping.cohen_kappa`);
    such a round never counts as stable, since a model that sees one class has
    nothing to stabilise yet.

    Multi-label predictions (a 0/1 indicator, items × classes) are compared bit by bit:
    kappa over the flattened (item, class) decisions (:func:`prediction_kappa`). Unlike
    the mean of per-class kappas, it stays defined when a rare class is never
    predicted, and a class counts as much as its decisions do; and Bloodgood &
    Grothendieck's bound then bounds the change of micro-F1.

    Parameters
    ----------
    window : int, default=3
        κ values averaged (the paper's k).
    threshold : float, default=0.99
        Between 0 and 1: the mean κ must be greater than this.
    """

    def __init__(self, window: int = 3, threshold: float = 0.99) -> None:
        if isinstance(window, bool) or not isinstance(window, int) or window <= 0:
            raise InvalidInputError(f"window must be a positive integer, got {window!r}.")
        if not 0.0 < float(threshold) < 1.0:
            raise InvalidInputError(
                f"threshold must be between 0 and 1 (the rule asks mean κ > threshold), got "
                f"{threshold!r}; the paper uses 0.99."
            )
        self.window = window
        self.threshold = float(threshold)
        self._previous: np.ndarray | None = None
        self.kappas: list[float] = []

    def reset(self) -> None:
        super().reset()
        self._previous, self.kappas = None, []

    def update(
        self, *, n_labels: int | None = None, score: float | None = None, predictions: Any = None
    ) -> bool:
        if predictions is None:
            return self.should_stop
        current = check_predictions(predictions)
        if self._previous is not None:
            if current.shape != self._previous.shape:
                raise InvalidInputError(
                    f"predictions must have the same shape every round, got "
                    f"{self._previous.shape} then {current.shape}; predict on the same fixed "
                    "stop set every round."
                )
            self.kappas.append(prediction_kappa(self._previous, current))
        self._previous = current
        self.should_stop = rule_holds(self.kappas, self.window, self.threshold)
        mean = float(np.mean(self.kappas[-self.window :])) if self.should_stop else float("nan")
        self.reason = (
            f"predictions stable for {self.window} rounds (κ={mean:.3f}): more labels are "
            "unlikely to help"
            if self.should_stop
            else ""
        )
        return self.should_stop


class StoppingHint:
    """Several criteria fed together; :attr:`hint` joins the reasons of those that fire.

    Parameters
    ----------
    criteria : sequence of StoppingCriterion, optional
        Default: ``Plateau()`` and ``StabilizingPredictions()``.

    Examples
    --------
    >>> h = StoppingHint([Budget(50), TargetScore(0.9)])
    >>> h.update(n_labels=20, score=0.8) is None
    True
    >>> h.update(n_labels=50, score=0.95)
    'label budget reached (50 of 50 labels); accuracy 0.950 reached the target 0.900'
    """

    def __init__(self, criteria: Sequence[StoppingCriterion] | None = None) -> None:
        self.criteria = (
            list(criteria) if criteria is not None else [Plateau(), StabilizingPredictions()]
        )

    def update(
        self, *, n_labels: int | None = None, score: float | None = None, predictions: Any = None
    ) -> str | None:
        """Feed one round to every criterion; return the combined hint (or None)."""
        for c in self.criteria:
            c.update(n_labels=n_labels, score=score, predictions=predictions)
        return self.hint

    @property
    def should_stop(self) -> bool:
        """True if any criterion fires."""
        return any(c.should_stop for c in self.criteria)

    @property
    def hint(self) -> str | None:
        """The reasons of every criterion that fires, joined by ``"; "``, or None."""
        reasons = [c.reason for c in self.criteria if c.should_stop]
        return "; ".join(reasons) if reasons else None


def stopping_hint(
    curve: Any = None,
    predictions_history: Iterable[Any] | None = None,
    *,
    score_column: str = "accuracy",
    labels_column: str = "n_labels",
    budget: int | None = None,
    target: float | None = None,
    patience: int = 3,
    min_delta: float = 0.005,
    window: int = 3,
    threshold: float = 0.99,
) -> str | None:
    """One hint string for the app's stats line, replayed from a session's history.

    Parameters
    ----------
    curve : DataFrame or sequence of dicts, optional
        One row per model, oldest first, with ``labels_column`` and ``score_column``
        (e.g. ``simulate(...)`` output or ``SessionStore.models``). Missing columns
        are skipped.
    predictions_history : iterable of array-like, optional
        Predictions of each successive model on one fixed stop set.
    budget, target : optional
        Add :class:`Budget` / :class:`TargetScore` criteria.
    patience, min_delta, window, threshold
        Passed to :class:`Plateau` and :class:`StabilizingPredictions`.

    Returns
    -------
    str or None

    Examples
    --------
    >>> curve = [{"n_labels": n, "accuracy": a} for n, a in [(10, .6), (20, .8), (30, .801),
    ...          (40, .802), (50, .801)]]
    >>> stopping_hint(curve)
    'learning curve flat for 3 rounds (best accuracy 0.802, gain < 0.005): more labels are unlikely to help'
    >>> stopping_hint(curve[:2]) is None
    True
    """
    criteria: list[StoppingCriterion] = [Plateau(patience, min_delta, metric=score_column)]
    if budget is not None:
        criteria.append(Budget(budget))
    if target is not None:
        criteria.append(TargetScore(target, metric=score_column))
    helper = StoppingHint(criteria)
    rows: list[dict[str, Any]] = []
    if curve is not None:
        rows = curve.to_dict("records") if hasattr(curve, "to_dict") else [dict(r) for r in curve]
    for row in rows:
        n = row.get(labels_column)
        s = row.get(score_column)
        helper.update(
            n_labels=None if n is None else int(n),
            score=None if s is None or s != s else float(s),
        )
    if predictions_history is not None:
        stable = StabilizingPredictions(window, threshold)
        for preds in predictions_history:
            stable.update(predictions=preds)
        helper.criteria.append(stable)
    return helper.hint

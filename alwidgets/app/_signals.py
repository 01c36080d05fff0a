"""When to stop, live: the stop signal, the prequential figure and the learning-curve panel.

Advisory figures that need no held-out labels, kept by :class:`Signals` (owned by the
controller, changed under its lock, each update a few milliseconds of numpy):

* **stabilizing predictions** (:func:`alwidgets.stopping.stability_report`, the rule as
  Bloodgood & Vijay-Shanker published it): every fitted model predicts the scheduler's
  fixed stop set (a sample of the pool, drawn once); Cohen's κ between successive
  models, the share of the stop set whose prediction changed, whether the mean κ of the
  last 3 retrains is above 0.99 and since when, and Bloodgood & Grothendieck's bound on
  the F1 change. It never stops anything: the stats panel shows it, the learning curve
  marks where it first held;
* **prequential accuracy** (:class:`alwidgets.stopping.PrequentialAccuracy`): at each
  batch end, the model's suggestion on each card (made before it saw the answer)
  against the answer; shown from the first model, in the stats panel and as a second
  trace on the learning curve, labeled as what it is;
* the **plateau hint** (:func:`alwidgets.stopping.stopping_hint` on the curve);
* what the learning-curve panel says while it has no point (:func:`empty_reason`), and
  the curve's stable columns (:func:`stable_curve`).

A resumed session starts the stop signal afresh: the stop-set predictions of the
models before it are not stored.

Examples
--------
>>> empty_reason({"cat": 2, "dog": 5, "eel": 0}, ["cat", "dog", "eel"], eval_set=False)
"the curve starts when every labeled class has 3 labels (3-fold cross-validation on your labels): have 2/3 for 'cat'"
>>> stable_curve(pd.DataFrame({"version": [], "n_labels": []})).columns.tolist()[:5]
['version', 'n_labels', 'time', 'score', 'score_std']
"""

from __future__ import annotations

import logging
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from alwidgets.app._changes import CurveData
from alwidgets.app._fit import MIN_PER_CLASS_FOR_CV

__all__ = ["CURVE_COLUMNS", "PREQUENTIAL_SERIES", "Signals", "empty_reason", "stable_curve"]

logger = logging.getLogger("alwidgets")

#: Columns ``labeler.learning_curve`` always has (``score`` NaN until there is one).
CURVE_COLUMNS = ("version", "n_labels", "time", "score", "score_std", "metric", "strategy")

#: The learning curve's legend name of the prequential trace.
PREQUENTIAL_SERIES = "suggestion = answer (prequential)"


def stable_curve(models: pd.DataFrame) -> pd.DataFrame:
    """The store's curve with :data:`CURVE_COLUMNS` first, always there (NaN where missing)."""
    extra = [c for c in models.columns if c not in CURVE_COLUMNS]
    out = models.reindex(columns=[*CURVE_COLUMNS, *extra])
    for col in ("score", "score_std"):
        out[col] = pd.to_numeric(out[col], errors="coerce").astype(np.float64)
    return out


def empty_reason(per_class: Mapping[Any, int], classes: Sequence[Any], *, eval_set: bool) -> str:
    """Why the learning curve has no point yet, and when it will start."""
    labeled = {c: per_class.get(c, 0) for c in classes if per_class.get(c, 0) > 0}
    if len(labeled) < 2:
        return (
            "the curve starts with the first model: it needs labels from at least 2 classes "
            f"(have {len(labeled)})"
        )
    if eval_set:
        return "the curve starts when the first model is scored on the eval set"
    k = MIN_PER_CLASS_FOR_CV
    short = [(c, n) for c, n in labeled.items() if n < k]
    if not short:
        return f"the curve starts with the next retrain (every labeled class has {k} labels)"
    shown = ", ".join(f"{n}/{k} for {c!r}" for c, n in short[:4])
    more = f" and {len(short) - 4} more" if len(short) > 4 else ""
    return (
        f"the curve starts when every labeled class has {k} labels ({k}-fold "
        f"cross-validation on your labels): have {shown}{more}"
    )


def _class_of(suggestion: Any, classes: Sequence[Any]) -> Any:
    """A card's suggestion (a class index; a list of them for a set) as a class value."""
    if suggestion is None:
        return None
    if isinstance(suggestion, list | tuple):
        return tuple(classes[int(i)] for i in sorted(suggestion))
    return classes[int(suggestion)]


class Signals:
    """The advisory figures of one labeler (see the module docstring).

    Parameters
    ----------
    classes : list
        The session's classes (cards name suggestions by index).
    eval_set : bool
        The curve is scored on an eval set (else cross-validated on the labels).
    window, threshold : int, float
        The stabilizing-predictions rule (the paper's 3 and 0.99).
    """

    def __init__(
        self,
        classes: Sequence[Any],
        *,
        eval_set: bool,
        window: int = 3,
        threshold: float = 0.99,
        prequential_window: int = 50,
    ) -> None:
        from alwidgets.stopping import PrequentialAccuracy

        self.classes, self.eval_set = list(classes), eval_set
        self.window, self.threshold = window, threshold
        self._history: list[np.ndarray] = []  # stop-set predictions per fitted model
        self._n_labels: list[int] = []
        self.stability: dict[str, Any] | None = None  # the last stability_report
        self.prequential = PrequentialAccuracy(window=prequential_window)
        self._points: list[tuple[int, float]] = []  # (n_labels, recent prequential accuracy)
        self.hint: str | None = None
        self._models = stable_curve(pd.DataFrame({"version": [], "n_labels": []}))

    # ---- taking things in ----
    def take(self, snap: Any, models: Any, per_class: Mapping[Any, int]) -> CurveData:
        """A fitted model's stop-set predictions (``snap``; ``None`` at open) and the curve
        read back from the store (``None``: not read); the curve panel to draw."""
        if models is not None:
            self._models = stable_curve(models)
        if snap is not None and snap.fitted and snap.stop_predictions is not None:
            self._history.append(np.asarray(snap.stop_predictions))
            self._n_labels.append(int(snap.n_labels))
            try:  # advisory: a failure never breaks the app
                from alwidgets.stopping import stability_report

                self.stability = stability_report(
                    self._history, window=self.window, threshold=self.threshold,
                    n_labels=self._n_labels,
                )  # fmt: skip
            except Exception:
                logger.debug("alwidgets: stability report failed", exc_info=True)
                self._history, self._n_labels = self._history[-1:], self._n_labels[-1:]
        try:
            from alwidgets.stopping import stopping_hint

            self.hint = stopping_hint(self._models, score_column="score")
        except Exception:
            logger.debug("alwidgets: stopping hint failed", exc_info=True)
        return self.curve(per_class)

    def batch_done(self, queue: Any, mirror: Any) -> CurveData:
        """A batch ends (before the queue advances): the model's suggestion on each of its
        cards against the answer (the card's label; skips and review cards left out)."""
        review = queue.review if queue.review is not None else ()
        pairs = [
            (_class_of(card.get("model_suggestion"), self.classes), mirror.label_of(pos))
            for card in queue.current.cards
            if (pos := int(card["key"])) not in review  # a review card shows the OOF guess
        ]
        if any(s is not None and a is not None for s, a in pairs):
            suggested, answered = zip(*pairs, strict=True)
            n_labels = mirror.n_labeled
            self.prequential.update(list(suggested), list(answered), n_labels=n_labels)
            matched, n = self.prequential.recent()
            self._points.append((n_labels, matched / n))
        return self.curve(mirror.per_class)

    # ---- what is shown ----
    def curve(self, per_class: Mapping[Any, int]) -> CurveData:
        """What the learning-curve panel shows now."""
        models = self._models
        has_point = bool(np.isfinite(models["score"].to_numpy(dtype=np.float64)).any())
        mark = None
        report = self.stability
        if report is not None and report["first_held_labels"] is not None:
            mark = (
                int(report["first_held_labels"]),
                f"predictions stable (mean κ > {self.threshold:g})",
            )
        prequential = None
        if self._points:
            n, acc = zip(*self._points, strict=True)
            prequential = pd.DataFrame({"n_labels": n, "score": acc})
        empty = None if has_point else empty_reason(per_class, self.classes, eval_set=self.eval_set)
        return CurveData(models, empty=empty, mark=mark, prequential=prequential)

    def stats(self) -> dict[str, Any]:
        """The stats panel's stop-signal, prequential and hint entries."""
        stability = None
        if self.stability is not None:
            r = self.stability
            stability = {k: r[k] for k in ("sentence", "holds", "kappas", "changed", "n_items")}
            stability["kappas"] = [float(x) for x in r["kappas"][-self.window :]]
            stability["changed"] = [float(x) for x in r["changed"][-self.window :]]
        prequential = None
        if self.prequential.recent()[1]:
            prequential = self.prequential.report()
        return {"stability": stability, "prequential": prequential, "hint": self.hint}

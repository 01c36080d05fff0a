"""The app's read-only panels: status line, learning curve, histogram, session stats.

:class:`Panels` owns the plot and stats widgets and draws into them under one lock
(updates come from the kernel's main thread, the retrain worker and a small UI
thread). It never decides anything: :class:`~alwidgets.ActiveLabeler` passes it what
to show. :func:`status_of` builds the status line the batch widget displays.

Examples
--------
>>> status_of(None, n_labels=3, n_classes_labeled=1, training=False, version=0, error=None)["text"]
'no model yet: need labels from at least 2 classes (have 1)'
>>> pace([(0.0, 2.0), (3.0, 3.0), (6.0, 2.5)])
(20.0, 2.5)
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from alwidgets._retrain import RankingSnapshot

__all__ = ["Panels", "pace", "status_of"]

#: Gaps between answers longer than this (seconds) are breaks, not labeling time.
IDLE_S = 300.0
#: Width of each plot (px): two fit side by side in a notebook's output area.
PLOT_WIDTH = 420


def status_of(
    snap: RankingSnapshot | None,
    *,
    n_labels: int,
    n_classes_labeled: int,
    training: bool,
    version: int,
    error: str | None,
) -> dict[str, Any]:
    """The status line: ``{"state", "text", "age", "detail", "error"}``.

    ``state`` is ``ready``, ``waiting`` (no model yet), ``training`` or ``error``;
    the front end appends "trained N s ago" from ``age`` and keeps it ticking.
    """
    status: dict[str, Any] = {"state": "ready", "text": "", "age": None, "detail": ""}
    if snap is not None and snap.fitted:
        status["text"] = f"model v{snap.version}, {snap.n_labels} labels"
        status["age"] = max(0.0, time.time() - snap.trained_at)
        score = snap.metrics.get("score")
        if score is not None:
            status["detail"] = f"{snap.metric_name or 'score'} {score:.3f}"
    elif n_classes_labeled < 2:
        status.update(
            state="waiting",
            text=f"no model yet: need labels from at least 2 classes (have {n_classes_labeled})",
        )
    else:
        status.update(state="waiting", text="no model yet")
    if training:
        status.update(state="training", detail=f"training v{version} on {n_labels} labels…")
    if error:
        status.update(state="error", detail=f"last retrain failed: {error}", error=error)
    return status


def pace(
    log: Sequence[tuple[float, float | None]], base: dict[str, Any] | None = None
) -> tuple[float | None, float | None]:
    """Labels per minute and median seconds per label over the recent answers.

    ``log`` holds ``(time answered, seconds spent or None)`` per label; breaks longer
    than :data:`IDLE_S` are left out. ``base`` (``SessionStore.stats()``) fills in
    when this session has too few answers yet (a resumed session).
    """
    recent = list(log)[-30:]
    lpm = spl = None
    if len(recent) >= 2:
        gaps = np.diff([t for t, _ in recent])
        active = gaps[gaps <= IDLE_S]
        if active.sum() > 0:
            lpm = 60.0 * len(active) / float(active.sum())
    spent = [s for _, s in recent if s is not None]
    if spent:
        spl = float(np.median(spent))
    base = base or {}
    if lpm is None and np.isfinite(base.get("labels_per_minute", np.nan)):
        lpm = float(base["labels_per_minute"])
    if spl is None and np.isfinite(base.get("median_seconds_per_label", np.nan)):
        spl = float(base["median_seconds_per_label"])
    return lpm, spl


class Panels:
    """Learning curve + uncertainty histogram + session stats, laid out under the cards."""

    def __init__(self, *, metric_label: str, strategy: str, n_items: int) -> None:
        import ipywidgets as W

        from alwidgets.widgets import LearningCurve, SessionStats, UncertaintyHistogram
        from alwidgets.widgets._common import persist_figure_state

        self.lock = threading.Lock()
        self.curve = LearningCurve(metric_label=metric_label, name=strategy)
        self.histogram = UncertaintyHistogram()
        self.stats = SessionStats({"n_total": n_items})
        for fig in (self.curve.widget, self.histogram.widget):
            # side by side in a notebook column (~850 px), stacked when narrower; a
            # FigureWidget does not follow its container's width, so it gets one
            fig.layout.width = PLOT_WIDTH
            persist_figure_state(fig)
        self.plots = W.HBox(
            [self.curve.widget, self.histogram.widget],
            layout=W.Layout(width="100%", flex_flow="row wrap"),
        )

    def draw_histogram(self, scores: np.ndarray, handled: np.ndarray, batch: list[int]) -> None:
        """Utility of the unlabeled pool, the current batch marked."""
        scores = np.where(handled, np.nan, scores)
        highlight = scores[batch] if batch else None
        with self.lock:
            self.histogram.update(scores, highlight=highlight)

    def draw_curve(self, models: pd.DataFrame, compare_with: Sequence[str]) -> None:
        """The session's curve (from the store), the random expectation and raced strategies."""
        if not len(models) or "score" not in models.columns:
            return
        with self.lock:
            self.curve.update(models)
            if "random_score" in models.columns:
                base = models[["n_labels", "random_score"]].rename(
                    columns={"random_score": "score"}
                )
                if "random_score_std" in models.columns:
                    base["score_std"] = models["random_score_std"]
                self.curve.set_baseline(base, name="random (expected)")
            for name in compare_with:
                col = f"{name}_score"
                if name != "random" and col in models.columns:
                    other = models[["n_labels", col]].rename(columns={col: "score"})
                    self.curve.update_series(name, other)

    def draw_stats(self, **stats: Any) -> None:
        """Merge ``stats`` (keys of :data:`alwidgets.widgets.STATS_KEYS`) into the panel."""
        with self.lock:
            self.stats.update(stats)

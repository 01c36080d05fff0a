"""The app's widgets: the batch widget's state, status line, curve, histogram, stats.

:class:`Panels` owns the plot and stats widgets and draws into them under one lock
(updates come from the kernel's main thread, the retrain worker and a small UI
thread). :class:`AppView` (a mixin of :class:`~alwidgets.ActiveLabeler`) builds the
widgets and feeds them. Neither decides anything: they show what the session, the
queue and the scheduler hold. :func:`status_of` builds the status line.

Examples
--------
>>> status_of(None, n_labels=3, n_classes_labeled=1, training=False, version=0, error=None)["text"]
'no model yet: need labels from at least 2 classes (have 1)'
>>> pace([(0.0, 2.0), (3.0, 3.0), (6.0, 2.5)])
(20.0, 2.5)
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from alwidgets._utils import IDLE_SECONDS
from alwidgets.app import _inputs as checks
from alwidgets.app._jobs import RankingSnapshot
from alwidgets.app._protocol import MessageProtocol
from alwidgets.app._team import UNREACHABLE

__all__ = ["AppView", "Panels", "pace", "status_of"]

logger = logging.getLogger("alwidgets")

#: The stats panel is redrawn at most this often (s) on the key path.
STATS_EVERY_S = 2.0

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
    than :data:`alwidgets._utils.IDLE_SECONDS` are left out. ``base`` (``SessionStore.stats()``) fills in
    when this session has too few answers yet (a resumed session).
    """
    recent = list(log)[-30:]
    lpm = spl = None
    if len(recent) >= 2:
        gaps = np.diff([t for t, _ in recent])
        active = gaps[gaps <= IDLE_SECONDS]
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

    def draw_counts(
        self, histogram: tuple[np.ndarray, np.ndarray], highlight: np.ndarray | None
    ) -> None:
        """Utility counted where the pool lives (a Dask pool's blocks), the batch marked."""
        with self.lock:
            self.histogram.update_counts(*histogram, highlight=highlight)

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


class AppView:
    """The labeler's widgets: building them, pushing the queue's state, feeding the panels.

    A mixin of :class:`~alwidgets.ActiveLabeler` (which provides the attributes below);
    it decides nothing, it shows what the session, queue and scheduler hold.
    """

    classes: list[Any]
    strategy: Any
    n_items: int
    compare_with: list[str]
    _lock: Any
    _queue: Any
    _state: Any
    _sched: Any
    _ui: Any
    _ui_pending: bool
    _closed: bool
    _answer_log: list[tuple[float, float | None]]
    _stats_base: dict[str, Any]
    _last_stats: float
    _team: Any
    _team_stats: dict[str, Any]
    store: Any
    annotator: str
    _review_from_ui: Any  # ReviewMixin: the review button's action

    def _build_widgets(self, metric: str) -> None:
        import ipywidgets as W

        from alwidgets.widgets import BatchWidget

        keys = checks.assign_keys(self.classes)
        self.batch_widget = BatchWidget(
            classes=[{"name": str(c), "key": k} for c, k in zip(self.classes, keys, strict=True)]
        )
        self.batch_widget.on_action(MessageProtocol(self))  # type: ignore[arg-type]
        self.panels = Panels(metric_label=metric, strategy=str(self.strategy), n_items=self.n_items)
        self.review_button = W.Button(
            description="Review suspect labels",
            tooltip="Show the labeled items whose label the models doubt most (out of fold)",
            icon="search",
            layout={"width": "auto", "flex": "0 0 auto"},  # the whole label, never "Review susp…"
        )
        self.review_button.on_click(lambda _: self._review_from_ui())
        self.widget = W.VBox(
            [
                self.batch_widget,
                self.panels.plots,
                W.HBox([self.panels.stats.widget, self.review_button]),
            ],
            layout=W.Layout(width="100%"),
        )
        self.widget.add_class("alw-app")

    @property
    def learning_curve_plot(self) -> Any:
        """The :class:`~alwidgets.widgets.LearningCurve` shown under the cards."""
        return self.panels.curve

    @property
    def histogram(self) -> Any:
        """The :class:`~alwidgets.widgets.UncertaintyHistogram` of the unlabeled pool."""
        return self.panels.histogram

    @property
    def stats(self) -> Any:
        """The :class:`~alwidgets.widgets.SessionStats` panel."""
        return self.panels.stats

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def _push_state(self) -> None:
        q, w = self._queue, self.batch_widget
        with w.hold_sync():
            w.cards = q.current.cards
            w.batch_id = q.current.id
            w.next_cards = q.next.cards
            w.next_batch_id = q.next.id
            w.answers = self._state.answers(p for p in q.current.positions if q.answered(p))
            w.progress = {"labeled": self._state.n_labeled, "total": self.n_items}
        # leases of items that left the queue unanswered go back to the team
        self._team.release_dropped([*q.current.positions, *q.next.positions], self._state.handled)

    # ------------------------------------------------------------------ status, plots, stats
    def _set_status(self) -> None:
        with self._lock:
            snap = self._queue.snapshot
            sched, labels = self._sched, self._state.label_values()
            training = sched.running
            status = status_of(
                snap,
                n_labels=len(labels),
                n_classes_labeled=len(set(labels)),
                training=training,
                version=sched.version,
                error=sched.last_error,
            )
            unsaved = len(self._state.unsaved)
            if self._team.unreachable or unsaved:  # answers are not saved until it is back
                detail = UNREACHABLE + (f" · {unsaved} not saved" if unsaved else "")
                status.update(state="error", detail=detail, error=detail)
            self.batch_widget.status = status
        fitted = snap is not None and snap.fitted
        model_status = "training…" if training else ("failed" if sched.last_error else "ready")
        self.panels.draw_stats(model_status=model_status if fitted or training else None)

    def _refresh_histogram(self) -> None:
        with self._lock:
            snap, handled = self._queue.snapshot, self._state.handled.copy()
            batch = list(self._queue.current.positions)
        if not snap.fitted or len(snap.scores) != self.n_items:
            return  # cold-start scores are not uncertainties: nothing to show yet
        if snap.histogram is not None and not isinstance(snap.scores, np.ndarray):
            # a Dask pool: no full score vector, the blocks counted the histogram
            self.panels.draw_counts(snap.histogram, snap.scores[batch] if batch else None)
            return
        self.panels.draw_histogram(snap.scores, handled, batch)

    def _defer_histogram(self) -> None:
        """Redraw the histogram off the key path (coalesced: one pending redraw at most)."""
        if self._ui_pending or self._closed:
            return
        self._ui_pending = True

        def run() -> None:
            self._ui_pending = False
            try:
                self._refresh_histogram()
            except Exception:  # a plot must never break labeling
                logger.exception("alwidgets: histogram update failed")

        self._ui.submit(run)

    def _refresh_stats(self, force: bool = False) -> None:
        """Update the stats panel from in-memory counters (no store query on the key path)."""
        now = time.monotonic()
        if not force and now - self._last_stats < STATS_EVERY_S:
            return
        self._last_stats = now
        with self._lock:
            counts = dict.fromkeys(self.classes, 0)
            for label in self._state.label_values():
                counts[label] += 1
            actions = self._state.actions()
            lpm, spl = pace(self._answer_log, self._stats_base)
            snap = self._queue.snapshot
        score = snap.metrics.get("score")
        fitted = snap.fitted
        self.panels.draw_stats(
            n_labeled=sum(counts.values()),
            per_class={str(c): n for c, n in counts.items()},
            n_skipped=actions.count("skip"),
            n_unsure=actions.count("unsure"),
            labels_per_minute=lpm,
            seconds_per_label=spl,
            model_version=snap.version if fitted else None,
            score=float(score) if score is not None and np.isfinite(score) else None,
            metric=snap.metric_name or "accuracy",
            hint=self._sched.hint,
            **self._team_stats,
        )

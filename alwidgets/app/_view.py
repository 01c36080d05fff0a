"""The app's widgets: the one writer of widget state, deciding nothing.

:class:`AppView` builds the batch widget, the plots (learning curve, uncertainty
histogram), the stats panel and the review button, and has one entry point,
:meth:`AppView.render`, that shows a :class:`~alwidgets.app._changes.Changes` record:
the batch state, the status line, the stats, replies and notices to the front end,
the plots. It is called from several threads (the kernel's, the retrain result's, the
session companion's) and holds its own lock while it writes the batch widget and the
stats (quick); plots are drawn after it is released, under each plot widget's own lock.
A batch, status, stats or plot older than one already shown (``Changes.seq``) is not
shown again.

Examples
--------
>>> from alwidgets.app._changes import Changes
>>> view = AppView(classes=["cat", "dog"], metric="accuracy (CV)", strategy="margin",
...                n_items=10, compare_with=[])
>>> view.render(Changes(seq=2, status={"state": "ready", "text": "model v1"}))
>>> view.render(Changes(seq=1, status={"state": "waiting", "text": "older"}))
>>> view.batch_widget.status["text"]
'model v1'
"""

from __future__ import annotations

import collections
import threading
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from alwidgets.app._changes import Changes, CurveData, HistogramData
from alwidgets.app._inputs import assign_keys
from alwidgets.app._signals import PREQUENTIAL_SERIES

__all__ = ["AppView"]

#: Width of each plot (px): two fit side by side in a notebook's output area.
PLOT_WIDTH = 420


class AppView:
    """The labeler's widgets (see the module docstring).

    ``on_message`` receives each validated front-end message, ``on_review`` the
    review button's clicks.
    """

    def __init__(
        self,
        *,
        classes: list[Any],
        metric: str,
        strategy: str,
        n_items: int,
        compare_with: Sequence[str],
        on_message: Callable[[dict[str, Any]], None] | None = None,
        on_review: Callable[[], object] | None = None,
        multi_label: bool = False,
    ) -> None:
        import ipywidgets as W

        from alwidgets.widgets import (
            BatchWidget,
            LearningCurve,
            SessionStats,
            UncertaintyHistogram,
            persist_figure_state,
        )

        self.compare_with = list(compare_with)
        keys = assign_keys(classes, reserved="a" if multi_label else ())  # a: accept the set
        self.batch_widget = BatchWidget(
            classes=[{"name": str(c), "key": k} for c, k in zip(classes, keys, strict=True)],
            multi_label=multi_label,
        )
        if on_message is not None:
            self.batch_widget.on_action(on_message)
        # multi-label: the main series is micro-F1, macro-F1 is drawn beside it; under
        # ``random`` the histogram shows the mean margin over classes (coin flips are no doubt)
        name = f"micro-F1 · {strategy}" if multi_label else strategy
        self.curve = LearningCurve(metric_label=metric, name=name)
        margin = multi_label and strategy == "random"
        self.histogram = UncertaintyHistogram(
            score_label="mean margin over classes (higher = less sure)"
            if margin
            else "utility (higher = more informative)"
        )
        self.stats = SessionStats({"n_total": n_items})
        for fig in (self.curve.widget, self.histogram.widget):
            # side by side in a notebook column (~850 px), stacked when narrower; a
            # FigureWidget does not follow its container's width, so it gets one
            fig.layout.width = PLOT_WIDTH
            persist_figure_state(fig)
        self.review_button = W.Button(
            description="Review suspect labels",
            tooltip="Show the labeled items whose label the models doubt most (out of fold)",
            icon="search",
            layout={"width": "auto", "flex": "0 0 auto"},  # the whole label, never "Review susp…"
        )
        if on_review is not None:
            self.review_button.on_click(lambda _: on_review())
        plots = W.HBox(
            [self.curve.widget, self.histogram.widget],
            layout=W.Layout(width="100%", flex_flow="row wrap"),
        )
        self.widget = W.VBox(
            [self.batch_widget, plots, W.HBox([self.stats.widget, self.review_button])],
            layout=W.Layout(width="100%"),
        )
        self.widget.add_class("alw-app")
        self._lock = threading.Lock()
        self._shown = {"state": 0, "curve": 0, "histogram": 0}  # newest seq shown
        self._acked: collections.deque[tuple[int | None, str | None]] = collections.deque(maxlen=64)

    def render(self, changes: Changes) -> None:
        """Show ``changes`` (see the module docstring)."""
        w = self.batch_widget
        with self._lock:
            if self._fresh("state", changes.seq):
                if changes.batch is not None:
                    with w.hold_sync():
                        for name, value in changes.batch.items():
                            setattr(w, name, value)
                if changes.status is not None:
                    w.status = changes.status
                if changes.stats is not None:
                    self.stats.update(changes.stats)
            for r in changes.replies:
                if r.kind == "ack":
                    self._acked.append((r.seq, r.key))
                elif r.kind == "unsaved" and (r.seq, r.key) in self._acked:
                    continue  # saved already (a retry overtook this reply)
                w.reply(r.kind, r.seq, r.key, r.text)
            for text, kind in changes.notices:
                w.notice(text, kind)
            seq, curve, histogram = changes.seq, changes.curve, changes.histogram
            curve = curve if curve is not None and self._fresh("curve", seq) else None
            histogram = (
                histogram if histogram is not None and self._fresh("histogram", seq) else None
            )
        # plots are drawn outside the lock (each plot widget has its own): a key's batch
        # state never waits behind a large histogram being drawn
        if curve is not None:
            self._draw_curve(curve)
        if histogram is not None:
            self._draw_histogram(histogram)

    def _fresh(self, what: str, seq: int) -> bool:
        if seq and seq < self._shown[what]:
            return False
        self._shown[what] = max(self._shown[what], seq)
        return True

    def _draw_curve(self, c: CurveData) -> None:
        """The session's curve (from the store), the random expectation, raced strategies,
        the prequential accuracy, where the stop signal first held; or why it is empty."""
        models = c.models
        self.curve.set_note(c.empty)
        self.curve.update(models)
        if c.prequential is not None:
            self.curve.update_series(PREQUENTIAL_SERIES, c.prequential, dash="dot")
        self.curve.set_mark(*(c.mark or (None,)))
        if "macro_f1" in models.columns and models["macro_f1"].notna().any():  # multi-label
            self.curve.update_series(f"macro-F1 · {self.curve.name.split(' · ')[-1]}", models,
                                     y="macro_f1")  # fmt: skip
        if "random_score" in models.columns and models["random_score"].notna().any():
            base = models[["n_labels", "random_score"]].rename(columns={"random_score": "score"})
            if "random_score_std" in models.columns:
                base["score_std"] = models["random_score_std"]
            self.curve.set_baseline(base, name="random (expected)")
        for name in self.compare_with:
            col = f"{name}_score"
            if name != "random" and col in models.columns:
                other = models[["n_labels", col]].rename(columns={col: "score"})
                self.curve.update_series(name, other)

    def _draw_histogram(self, h: HistogramData) -> None:
        """Utility of the unlabeled pool, the current batch marked."""
        if h.counts is not None:  # a Dask pool: its blocks counted the histogram
            self.histogram.update_counts(
                *h.counts, highlight=h.scores[h.batch] if h.batch else None
            )
            return
        scores = np.where(h.handled, np.nan, h.scores)
        self.histogram.update(scores, highlight=scores[h.batch] if h.batch else None)

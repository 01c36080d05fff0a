"""UncertaintyHistogram: how the utility scores of the unlabeled pool are spread."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np

from alwidgets.exceptions import InvalidInputError
from alwidgets.widgets._common import (
    HIGHLIGHT_COLOR,
    PALETTE,
    DisplaysWidget,
    base_layout,
    new_figure,
    updating,
)

__all__ = ["UncertaintyHistogram"]


def _as_scores(values: Any, what: str) -> np.ndarray:
    try:
        arr = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError) as err:
        raise InvalidInputError(
            f"{what} must be numbers (a 1-D float array); could not convert: {err}."
        ) from err
    if arr.ndim != 1:
        raise InvalidInputError(
            f"{what} must be a 1-D array with one score per item, got shape {arr.shape}; "
            "pass learner.scores_ (or ravel() your array)."
        )
    return arr


def _bin_counts(values: np.ndarray, lo: float, hi: float, bins: int) -> np.ndarray:
    """Counts in ``bins`` equal bins over [lo, hi] (last bin closed), in one pass.

    ``np.bincount`` on the bin index is several times faster than ``np.histogram`` for
    large pools; a value within rounding of an inner edge may land in the neighbouring
    bin, which a plot cannot show anyway.
    """
    idx = ((values - lo) * (bins / (hi - lo))).astype(np.intp)
    np.clip(idx, 0, bins - 1, out=idx)
    return np.bincount(idx, minlength=bins)


class UncertaintyHistogram(DisplaysWidget):
    """Histogram of the pool's utility scores, with the current batch marked.

    The scores are binned in Python with numpy and only the bin counts are sent to the browser, so an update costs O(bins) on the wire whatever the
    pool size. Non-finite scores (``NaN`` marks labeled/excluded items in
    ``ActiveLearner.scores_``) are left out. Bins span [0, 1] when every score lies
    there, otherwise the data range.

    Wraps a plotly :class:`~plotly.graph_objects.FigureWidget` (``.widget``) with two
    traces created once: ``data[0]`` the pool (bars) and ``data[1]`` the batch
    (triangles on top of the bar each batch item falls in).

    Parameters
    ----------
    bins : int, default 30
        Number of equal-width bins.
    score_label : str, default "utility (higher = more informative)"
        Title of the x axis.
    title : str, optional
        Plot title; by default it states how many items were scored.
    height : int, default 260
        Height in pixels.
    log_y : bool, default False
        Logarithmic count axis (useful when most of the pool is certain).

    Examples
    --------
    >>> import numpy as np
    >>> rng = np.random.default_rng(0)
    >>> h = UncertaintyHistogram(bins=10)
    >>> h.update(rng.uniform(size=1000), highlight=np.array([0.95, 0.97]))
    >>> int(h.widget.data[0].y.sum()), len(h.widget.data[0].x), len(h.widget.data)
    (1000, 10, 2)
    """

    def __init__(
        self,
        *,
        bins: int = 30,
        score_label: str = "utility (higher = more informative)",
        title: str | None = None,
        height: int = 260,
        log_y: bool = False,
    ) -> None:
        if isinstance(bins, bool) or not isinstance(bins, int | np.integer) or bins < 1:
            raise InvalidInputError(f"bins must be a positive int, got {bins!r}.")
        self.bins = int(bins)
        self._title = title
        self._edges = np.linspace(0.0, 1.0, self.bins + 1)
        self._n_scores = 0
        self._log_y = bool(log_y)
        self._lock = threading.Lock()  # updates may come from a retrain thread
        layout = base_layout(
            height=height, title=title or " ", x_title=score_label, y_title="items"
        )
        layout.update(bargap=0.04, showlegend=False)  # the title names the markers
        if log_y:
            layout["yaxis"]["type"] = "log"
        self.widget = new_figure(layout)
        self.widget.add_bar(
            x=np.empty(0),
            y=np.empty(0, dtype=np.int64),
            name="pool",
            marker={"color": PALETTE[0], "opacity": 0.75},
            customdata=np.empty((0, 2)),
            hovertemplate="%{customdata[0]:.3f}–%{customdata[1]:.3f}: %{y:,} items<extra></extra>",
        )
        self.widget.add_scatter(
            x=np.empty(0),
            y=np.empty(0),
            mode="markers",
            name="this batch",
            marker={"symbol": "triangle-down", "size": 10, "color": HIGHLIGHT_COLOR},
            hovertemplate="batch item, score %{x:.3f}<extra></extra>",
        )

    @property
    def edges(self) -> np.ndarray:
        """Bin edges of the last update (``bins + 1`` values)."""
        return self._edges.copy()

    @property
    def n_scores(self) -> int:
        """How many finite scores the last update counted."""
        return self._n_scores

    def update(
        self,
        scores: np.ndarray,
        highlight: np.ndarray | None = None,
        title: str | None = None,
    ) -> None:
        """Show new pool scores, and mark the batch's scores.

        Parameters
        ----------
        scores : 1-D array of float
            One utility score per pool item; ``NaN`` entries are ignored.
        highlight : 1-D array of float, optional
            Scores of the items in the current batch (a few, not the pool).
        title : str, optional
            New plot title (else the one given at construction, else a count).
        """
        s = _as_scores(scores, "scores")
        s = s[np.isfinite(s)]
        if s.size:
            lo, hi = float(s.min()), float(s.max())
            if lo >= 0.0 and hi <= 1.0:
                lo, hi = 0.0, 1.0
            elif hi <= lo:
                lo, hi = lo - 0.5, hi + 0.5
            edges = np.linspace(lo, hi, self.bins + 1)
            counts = _bin_counts(s, lo, hi, self.bins)
        else:
            edges = self._edges
            counts = np.zeros(self.bins, dtype=np.int64)
        self._draw(counts, edges, highlight, title)

    def update_counts(
        self,
        counts: np.ndarray,
        edges: np.ndarray,
        highlight: np.ndarray | None = None,
        title: str | None = None,
    ) -> None:
        """Show counts binned elsewhere (``ActiveLearner.score_histogram_``: a Dask pool's
        blocks count their scores, and no full score vector exists).

        Parameters
        ----------
        counts : 1-D array of int
            Items per bin.
        edges : 1-D array of float
            ``len(counts) + 1`` increasing bin edges.
        highlight, title
            As in :meth:`update`.

        Examples
        --------
        >>> h = UncertaintyHistogram()
        >>> h.update_counts(np.array([5, 0, 2]), np.array([0.0, 0.5, 0.75, 1.0]))
        >>> h.n_scores, h.widget.data[0].y.tolist()
        (7, [5, 0, 2])
        """
        c = np.asarray(counts, dtype=np.int64).ravel()
        e = _as_scores(edges, "edges")
        if len(e) != len(c) + 1 or (len(e) > 1 and bool(np.any(np.diff(e) <= 0))):
            raise InvalidInputError(
                f"edges must be {len(c) + 1} increasing values (one more than counts), "
                f"got {len(e)}; pass learner.score_histogram_ as (counts, edges)."
            )
        if len(c) == 0:
            c, e = np.zeros(self.bins, dtype=np.int64), self._edges
        self._draw(c, e, highlight, title)

    def _draw(
        self,
        counts: np.ndarray,
        edges: np.ndarray,
        highlight: np.ndarray | None,
        title: str | None,
    ) -> None:
        h = np.empty(0) if highlight is None else _as_scores(highlight, "highlight")
        h = h[np.isfinite(h)]
        n = int(counts.sum())
        centers = (edges[:-1] + edges[1:]) / 2
        # each batch marker sits on top of the bar its score falls in
        which = np.clip(np.searchsorted(edges, h, side="right") - 1, 0, len(counts) - 1)
        tops = counts[which].astype(np.float64) if n else np.zeros(h.size)
        if self._log_y:  # a log axis cannot place a marker at 0
            tops = np.maximum(tops, 1.0)
        if title is None:
            title = self._title or (f"utility of {n:,} unlabeled items" if n else "no scores yet")
        if h.size:
            title += f' · <span style="color:{HIGHLIGHT_COLOR}">▼</span> this batch'
        pool, batch = self.widget.data
        with self._lock, updating(self.widget):
            self._edges = edges
            self._n_scores = n
            pool.x = centers
            pool.y = counts.astype(np.int32)  # int32 travels as a binary buffer; int64 as JSON
            pool.width = np.diff(edges)
            pool.customdata = np.column_stack([edges[:-1], edges[1:]])
            batch.x = h
            batch.y = tops
            self.widget.layout.title.text = title

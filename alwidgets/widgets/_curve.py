"""LearningCurve: score against number of labels, live in the notebook."""

from __future__ import annotations

import math
import threading
from collections.abc import Mapping
from typing import Any

import numpy as np
import pandas as pd

from alwidgets.exceptions import InvalidInputError
from alwidgets.widgets._common import (
    BASELINE_COLOR,
    PALETTE,
    DisplaysWidget,
    base_layout,
    new_figure,
    persist_figure_state,
    updating,
)

__all__ = ["LearningCurve"]

_SCORE_COLUMNS = ("score", "accuracy")
_VERSION_COLUMNS = ("model_version", "version")


def _as_frame(curve: Any) -> pd.DataFrame:
    if isinstance(curve, pd.DataFrame):
        return curve
    if isinstance(curve, Mapping):
        return pd.DataFrame(dict(curve))
    raise InvalidInputError(
        f"a learning curve must be a pandas DataFrame with columns 'n_labels' and 'score', "
        f"got {type(curve).__name__}; e.g. pd.DataFrame({{'n_labels': [...], 'score': [...]}})."
    )


class LearningCurve(DisplaysWidget):
    """A live learning curve: model score against the number of labels.

    Wraps a plotly :class:`~plotly.graph_objects.FigureWidget` (``.widget``). The main
    series exists from the start (empty), so :meth:`update` only changes its data and
    never adds traces; every change is one ``batch_update`` that sends numpy arrays.
    Updates may come from another thread (e.g. a retrain worker); a lock serializes them.

    Parameters
    ----------
    metric_label : str, default "accuracy (eval set)"
        Title of the y axis, e.g. ``"accuracy (CV)"`` or ``"macro F1 (eval set)"``.
    name : str, default "active learning"
        Legend name of the main series (the one :meth:`update` draws).
    title : str, optional
        Plot title.
    height : int, default 280
        Height in pixels.
    target : float, optional
        Draw a horizontal target line at this score (see :meth:`set_target`).

    Examples
    --------
    >>> import pandas as pd
    >>> lc = LearningCurve(metric_label="accuracy (CV)")
    >>> lc.update(pd.DataFrame({"n_labels": [10, 20, 30], "score": [0.61, 0.74, 0.8]}))
    >>> lc.widget.data[0].y.tolist()
    [0.61, 0.74, 0.8]
    >>> lc.set_baseline(pd.DataFrame({"n_labels": [10, 20, 30], "score": [0.6, 0.66, 0.7]}))
    >>> lc.series
    ['active learning', 'random']
    """

    def __init__(
        self,
        *,
        metric_label: str = "accuracy (eval set)",
        name: str = "active learning",
        title: str | None = None,
        height: int = 280,
        target: float | None = None,
    ) -> None:
        self._metric_label = metric_label
        self.name = name
        self._index: dict[str, int] = {}
        self._target: float | None = None
        # layout shapes and annotations by role ("target", "mark", "note"), drawn together
        self._decor: dict[str, tuple[list[dict[str, Any]], list[dict[str, Any]]]] = {}
        self._note: str | None = None
        self._mark: float | None = None
        self._lock = threading.RLock()  # updates may come from a retrain thread
        self.widget = new_figure(
            layout=base_layout(height=height, title=title, x_title="labels", y_title=metric_label)
        )
        self.widget.update_layout(hovermode="closest")
        self._add_trace(name, color=PALETTE[0], dash=None)
        if target is not None:
            self.set_target(target)

    # ------------------------------------------------------------------ API
    @property
    def metric_label(self) -> str:
        """Title of the y axis; assign to change it (e.g. once an eval set exists).

        Examples
        --------
        >>> lc = LearningCurve()
        >>> lc.metric_label = "accuracy (CV)"
        >>> lc.widget.layout.yaxis.title.text
        'accuracy (CV)'
        """
        return self._metric_label

    @metric_label.setter
    def metric_label(self, label: str) -> None:
        if not isinstance(label, str):
            raise InvalidInputError(f"metric_label must be a str, got {label!r}.")
        self._metric_label = label
        with self._lock:
            self.widget.layout.yaxis.title.text = label

    @property
    def series(self) -> list[str]:
        """Names of the series on the plot, in drawing order."""
        return sorted(self._index, key=self._index.__getitem__)

    @property
    def target(self) -> float | None:
        """The score of the target line, or ``None``."""
        return self._target

    def update(self, curve: pd.DataFrame | Mapping[str, Any], *, y: str | None = None) -> None:
        """Replace the main series with ``curve``.

        Parameters
        ----------
        curve : DataFrame or mapping of columns
            ``n_labels`` and ``score`` (or ``accuracy``, as in ``SessionStore.models``
            and :func:`alwidgets.simulate`), optionally ``score_std`` (drawn as error
            bars) and ``model_version`` or ``version`` (shown on hover). Rows with a
            missing score are dropped; rows are sorted by ``n_labels``; several rows
            with the same ``n_labels`` become one point with their mean score (the
            last row's std and version).
        y : str, optional
            The score column to draw when it is neither ``score`` nor ``accuracy``
            (e.g. ``"f1"``); ``<y>_std`` gives its error bars.
        """
        self.update_series(self.name, curve, y=y)

    def set_baseline(
        self, curve: pd.DataFrame | Mapping[str, Any], name: str = "random", *, y: str | None = None
    ) -> None:
        """Draw a reference curve (gray, dotted), e.g. random sampling."""
        self.update_series(name, curve, baseline=True, y=y)

    def update_series(
        self,
        name: str,
        curve: pd.DataFrame | Mapping[str, Any],
        *,
        baseline: bool = False,
        y: str | None = None,
        dash: str | None = None,
    ) -> None:
        """Add or replace the named series (one trace per name, created once).

        Parameters
        ----------
        name : str
            Legend name, e.g. a strategy when racing several.
        curve : DataFrame or mapping of columns
            As for :meth:`update`.
        baseline : bool, default False
            Style a *new* series as a reference (gray, dotted).
        y : str, optional
            The score column, as for :meth:`update`.
        dash : str, optional
            Line style of a *new* series (plotly's ``"dot"``, ``"dash"``...), e.g. for a
            figure of another kind than the main one.
        """
        if not isinstance(name, str) or not name:
            raise InvalidInputError(f"a series name must be a non-empty str, got {name!r}.")
        xs, ys, std, hover = self._columns(_as_frame(curve), y)
        with self._lock:
            if name not in self._index:
                color = BASELINE_COLOR if baseline else PALETTE[len(self._index) % len(PALETTE)]
                self._add_trace(name, color=color, dash=dash or ("dot" if baseline else None))
            trace = self.widget.data[self._index[name]]
            with updating(self.widget):
                trace.x = xs
                trace.y = ys
                trace.text = hover
                if std is None:
                    trace.error_y = {"visible": False}
                else:
                    trace.error_y = {"type": "data", "array": std, "visible": True, "thickness": 1}

    def remove_series(self, name: str) -> None:
        """Remove a series added with :meth:`update_series` or :meth:`set_baseline`."""
        if name == self.name:
            raise InvalidInputError(
                f"{name!r} is the main series and cannot be removed; call update() with "
                "an empty DataFrame to clear it."
            )
        if name not in self._index:
            raise InvalidInputError(f"no series named {name!r}; the plot has {self.series}.")
        with self._lock:
            pos = self._index.pop(name)
            self.widget.data = tuple(t for i, t in enumerate(self.widget.data) if i != pos)
            self._index = {k: (v - 1 if v > pos else v) for k, v in self._index.items()}
            persist_figure_state(self.widget)

    def set_target(self, value: float | None, label: str | None = None) -> None:
        """Draw a horizontal dashed line at ``value`` (``None`` removes it).

        Examples
        --------
        >>> lc = LearningCurve()
        >>> lc.set_target(0.9)
        >>> lc.widget.layout.shapes[0].y0
        0.9
        >>> lc.set_target(None)
        >>> len(lc.widget.layout.shapes)
        0
        """
        if value is None:
            self._target = None
            self._set_decor("target", None)
            return
        if isinstance(value, bool) or not isinstance(value, int | float | np.number):
            raise InvalidInputError(f"the target must be a number or None, got {value!r}.")
        target = float(value)
        if not math.isfinite(target):
            raise InvalidInputError(f"the target must be finite, got {value!r}.")
        self._target = target
        text = label if label is not None else f"target {target:g}"
        line = {"color": BASELINE_COLOR, "width": 1, "dash": "dash"}
        shape = {"type": "line", "xref": "paper", "x0": 0, "x1": 1, "y0": target, "y1": target,
                 "line": line}  # fmt: skip
        note = {"xref": "paper", "x": 0, "xanchor": "left", "y": target, "yanchor": "bottom",
                "text": text, "showarrow": False, "font": {"size": 10}}  # fmt: skip
        self._set_decor("target", ([shape], [note]))

    @property
    def note(self) -> str | None:
        """The message shown instead of an empty chart, or ``None``."""
        return self._note

    def set_note(self, text: str | None) -> None:
        """Say why the chart is empty (and when it will fill) in its middle, with the axes
        hidden, instead of an empty chart; ``None`` removes the message.

        Examples
        --------
        >>> lc = LearningCurve()
        >>> lc.set_note("the curve starts with the first model")
        >>> lc.widget.layout.annotations[0].text, lc.widget.layout.yaxis.visible
        ('the curve starts with the first model', False)
        >>> lc.set_note(None)
        >>> len(lc.widget.layout.annotations), lc.widget.layout.yaxis.visible
        (0, True)
        """
        if text is not None and not isinstance(text, str):
            raise InvalidInputError(f"a note must be a str or None, got {text!r}.")
        self._note = text
        note = {"xref": "paper", "yref": "paper", "x": 0.5, "y": 0.5, "text": text,
                "showarrow": False, "font": {"size": 12}, "align": "center",
                "width": 300}  # fmt: skip
        with self._lock, updating(self.widget):
            self.widget.layout.xaxis.visible = text is None
            self.widget.layout.yaxis.visible = text is None
            self._set_decor("note", None if text is None else ([], [note]))

    @property
    def mark(self) -> float | None:
        """Where the vertical mark is (labels), or ``None``."""
        return self._mark

    def set_mark(self, n_labels: float | None, label: str = "") -> None:
        """A vertical line at ``n_labels`` (e.g. where a stopping rule first held), with
        ``label`` at its top; ``None`` removes it.

        Examples
        --------
        >>> lc = LearningCurve()
        >>> lc.set_mark(40, "predictions stable")
        >>> lc.widget.layout.shapes[0].x0, lc.widget.layout.annotations[0].text
        (40, 'predictions stable')
        """
        if n_labels is None:
            self._mark = None
            self._set_decor("mark", None)
            return
        if isinstance(n_labels, bool) or not isinstance(n_labels, int | float | np.number):
            raise InvalidInputError(
                f"the mark must be a number of labels or None, got {n_labels!r}."
            )
        self._mark = n_labels
        color = PALETTE[2 % len(PALETTE)]
        shape = {"type": "line", "xref": "x", "yref": "paper", "x0": n_labels, "x1": n_labels,
                 "y0": 0, "y1": 1, "line": {"color": color, "width": 1, "dash": "dot"}}  # fmt: skip
        note = {"xref": "x", "yref": "paper", "x": n_labels, "y": 1, "xanchor": "left",
                "yanchor": "top", "text": label, "showarrow": False,
                "font": {"size": 10, "color": color}}  # fmt: skip
        self._set_decor("mark", ([shape], [note]))

    def _set_decor(self, role: str, decor: tuple[list[dict[str, Any]], list[dict[str, Any]]] | None) -> None:  # fmt: skip
        """Set (``None``: remove) one role's shapes and annotations; draw all roles."""
        with self._lock, updating(self.widget):
            if decor is None:
                self._decor.pop(role, None)
            else:
                self._decor[role] = decor
            roles = [self._decor[r] for r in ("target", "mark", "note") if r in self._decor]
            self.widget.layout.shapes = tuple(x for shapes, _ in roles for x in shapes)
            self.widget.layout.annotations = tuple(x for _, notes in roles for x in notes)

    # ------------------------------------------------------------- helpers
    def _add_trace(self, name: str, *, color: str, dash: str | None) -> None:
        self.widget.add_scatter(
            x=np.empty(0, dtype=np.int32),
            y=np.empty(0, dtype=np.float64),
            mode="lines+markers",
            name=name,
            line={"color": color, "width": 2, "dash": dash},
            marker={"size": 5, "color": color},
            hovertemplate="<b>%{fullData.name}</b><br>%{x} labels: %{y:.3f}%{text}<extra></extra>",
        )
        self._index[name] = len(self.widget.data) - 1

    @staticmethod
    def _columns(
        df: pd.DataFrame, y: str | None
    ) -> tuple[np.ndarray, np.ndarray, np.ndarray | None, np.ndarray]:
        candidates = _SCORE_COLUMNS if y is None else (y,)
        score_col = next((c for c in candidates if c in df.columns), None)
        if y is not None and score_col is None:
            raise InvalidInputError(
                f"the learning curve has no column {y!r}; its columns are {list(df.columns)}."
            )
        if "n_labels" not in df.columns or score_col is None:
            raise InvalidInputError(
                f"a learning curve needs columns 'n_labels' and 'score'; got {list(df.columns)}. "
                "Rename your columns, e.g. df.rename(columns={'size': 'n_labels'})."
            )
        y_all = pd.to_numeric(df[score_col], errors="coerce").to_numpy(dtype=np.float64)
        x_all = pd.to_numeric(df["n_labels"], errors="coerce").to_numpy(dtype=np.float64)
        keep = np.flatnonzero(np.isfinite(y_all) & np.isfinite(x_all))
        keep = keep[np.argsort(x_all[keep], kind="stable")]
        if keep.size == 0:
            empty = np.empty(0, dtype=np.float64)
            return np.empty(0, dtype=np.int32), empty, None, np.empty(0, dtype=object)
        # several rows at one n_labels (retrains without new labels, or raw seeds):
        # one point with their mean score; std and version from the last row
        x, first = np.unique(x_all[keep], return_index=True)
        last = np.append(first[1:], len(keep)) - 1
        score = np.add.reduceat(y_all[keep], first) / np.diff(np.append(first, len(keep)))
        rows = keep[last]
        if np.all(x == np.round(x)):
            x = x.astype(np.int32)  # travels as a binary buffer (int64 would be JSON)
        std_col = next((c for c in (f"{score_col}_std", "score_std") if c in df.columns), None)
        std = None
        if std_col is not None:
            s = pd.to_numeric(df[std_col], errors="coerce").to_numpy(dtype=np.float64)
            std = np.nan_to_num(s[rows], nan=0.0)
        version_col = next((c for c in _VERSION_COLUMNS if c in df.columns), None)
        if version_col is None:
            hover = np.full(len(x), "", dtype=object)
        else:
            versions = df[version_col].to_numpy(dtype=object)[rows]
            hover = np.array(
                ["" if v is None or v != v else f"<br>model v{v}" for v in versions], dtype=object
            )
        return x, score, std, hover

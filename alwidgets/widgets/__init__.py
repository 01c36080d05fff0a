"""Notebook widgets: one per concept (layer 8 of ``docs/ARCHITECTURE.md``).

* :class:`BatchWidget` — the labeling batch: cards, label buttons, keyboard (anywidget).
* :class:`LearningCurve` — model score against the number of labels (plotly).
* :class:`UncertaintyHistogram` — utility scores of the unlabeled pool (plotly).
* :class:`SessionStats` — progress, labels per class, pace, model status.
* :func:`persist_figure_state` — a plotly figure nested in a layout renders complete.

The widgets only show what they are given; the logic lives in
:class:`alwidgets.ActiveLabeler` and the layers below it.

Examples
--------
>>> from alwidgets.widgets import LearningCurve, SessionStats, UncertaintyHistogram
>>> isinstance(SessionStats().widget.value, str)
True
"""

from __future__ import annotations

from alwidgets.widgets._batch import BatchWidget
from alwidgets.widgets._common import persist_figure_state
from alwidgets.widgets._curve import LearningCurve
from alwidgets.widgets._histogram import UncertaintyHistogram
from alwidgets.widgets._stats import STATS_KEYS, SessionStats

__all__ = [
    "STATS_KEYS",
    "BatchWidget",
    "LearningCurve",
    "SessionStats",
    "UncertaintyHistogram",
    "persist_figure_state",
]

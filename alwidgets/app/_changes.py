"""What goes into the labeling core and what comes out of it: small, plain records.

Every event that can change the app — a key press or click (:class:`Answer`,
:class:`UndoRequest`), a Python call, an oracle's answer, a finished retrain, a
teammate's labels, a server that comes back — goes into
:class:`~alwidgets.app._controller.LabelingController` through one method, and comes
out as one :class:`Changes` record: what to show (the batch, replies to the front end,
notices, the status line, the stats panel, the plots) and what to do (a retrain job to
submit, background work for the session companion thread, an error or a warning for a
Python caller).
The view (:class:`~alwidgets.app._view.AppView`) renders it; the facade
(:class:`~alwidgets.ActiveLabeler`) carries out its effects.

The records are meant to grow: an answer's ``label`` is one class or, multi-label, a
tuple of classes in class order; a card is a dict that can carry extra fields, and
``stats`` a dict that can carry extra keys (the panel's
:data:`~alwidgets.widgets.STATS_KEYS`).

Examples
--------
>>> changes = Changes(seq=3)
>>> changes.reply("ack", 7, "12")
>>> changes.notice("Nothing to undo.")
>>> [r.kind for r in changes.replies], changes.notices, changes.empty
(['ack'], [('Nothing to undo.', 'info')], False)
>>> Changes().empty
True
"""

from __future__ import annotations

import threading
from dataclasses import dataclass, field
from typing import Any

import numpy as np

__all__ = ["Answer", "Changes", "CurveData", "HistogramData", "Reply", "UndoRequest"]


@dataclass(frozen=True)
class Answer:
    """One answer about one pool item, from a key press, a click, Python or an oracle.

    ``seq`` (and ``session``) name the front-end message it came in (``None``: a
    Python call, which raises on errors instead of getting a reply). ``seconds`` is
    how long the person looked at the card (``None``: not a person's pace).
    """

    pos: int
    action: str  # "label", "skip" or "unsure"
    label: Any = None  # a class; multi-label: a tuple of classes in class order
    seq: int | None = None
    session: str | None = None
    seconds: float | None = None

    @property
    def from_widget(self) -> bool:
        """It came from the front end (replies go back to it)."""
        return self.seq is not None

    @property
    def ref(self) -> tuple[str, int] | None:
        """``(view session, seq)`` naming the front-end action, for undo checks."""
        ok = isinstance(self.session, str) and self.seq is not None
        return (self.session, self.seq) if ok else None  # type: ignore[return-value]


@dataclass(frozen=True)
class UndoRequest:
    """Undo this annotator's last action; a front-end undo names the card (``key``) and
    the action (``target_seq``) it means, and is refused unless that is still the last."""

    seq: int | None = None
    key: str | None = None
    target_seq: int | None = None
    session: str | None = None

    @property
    def from_widget(self) -> bool:
        return self.seq is not None or self.key is not None


@dataclass(frozen=True)
class Reply:
    """A reply to one front-end message: ``ack``, ``nack``, ``unsaved``, ``undone`` or
    ``conflict`` (see :class:`~alwidgets.widgets.BatchWidget`)."""

    kind: str
    seq: int | None
    key: str | None
    text: str | None = None


@dataclass(frozen=True)
class HistogramData:
    """What the uncertainty histogram shows: the ranking's scores without the handled
    items, the current batch marked (``counts``: a Dask pool's blocks counted them)."""

    scores: Any
    handled: np.ndarray
    batch: list[int]
    counts: tuple[np.ndarray, np.ndarray] | None = None


@dataclass(frozen=True)
class CurveData:
    """What the learning-curve panel shows: the store's points (``models``, stable
    columns), why it has none yet and when it starts (``empty``), where the stop signal
    first held (``mark``: ``(n_labels, text)``) and the prequential accuracy per batch
    (``prequential``: ``n_labels``, ``score``)."""

    models: Any
    empty: str | None = None
    mark: tuple[int, str] | None = None
    prequential: Any = None


@dataclass
class Changes:
    """What one event changed (see the module docstring).

    ``seq`` orders the controller's decisions: the view never shows a batch, status or
    stats older than one it has shown (two threads may render out of order); ``0``
    means replies and notices only. ``retrain`` is a job and the event to set once its
    result is applied; ``companion`` asks for the background companion (team
    following, lease renewal, unsaved retries); ``error``/``warning``/``result`` are for
    a Python caller.
    """

    seq: int = 0
    batch: dict[str, Any] | None = None
    replies: list[Reply] = field(default_factory=list)
    notices: list[tuple[str, str]] = field(default_factory=list)
    status: dict[str, Any] | None = None
    stats: dict[str, Any] | None = None
    curve: CurveData | None = None  # the learning-curve panel to draw
    histogram: HistogramData | None = None
    retrain: tuple[Any, threading.Event] | None = None
    wants: set[str] = field(default_factory=set)  # background work: "team", "retry", "cards"
    error: BaseException | None = None
    warning: Warning | None = None
    result: Any = None

    def reply(self, kind: str, seq: int | None, key: str | None, text: str | None = None) -> None:
        self.replies.append(Reply(kind, seq, key, text))

    def notice(self, text: str, kind: str = "info") -> None:
        self.notices.append((text, kind))

    def refuse(self, event: Answer | UndoRequest, err: Exception, text: str | None = None) -> None:
        """A refused answer or undo: a ``nack`` to the front end, the error for Python."""
        if event.from_widget:
            key = str(event.pos) if isinstance(event, Answer) else event.key
            self.reply("nack", event.seq, key, text or f"{type(err).__name__}: {err}")
        else:  # a Python caller decides itself
            self.error = err

    @property
    def empty(self) -> bool:
        """Nothing to show and nothing to do."""
        shown = (self.batch, self.status, self.stats, self.curve, self.histogram)
        return all(x is None for x in shown) and not (
            self.replies or self.notices or self.retrain or self.wants or self.error
        )

    def without_plots(self) -> tuple[Changes, Changes | None]:
        """``(this without its plots, the plots alone or None)``: the key path renders
        the first and hands the second to a background thread."""
        if self.curve is None and self.histogram is None:
            return self, None
        plots = Changes(seq=self.seq, curve=self.curve, histogram=self.histogram)
        self.curve = self.histogram = None
        return self, plots

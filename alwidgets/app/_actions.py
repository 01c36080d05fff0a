"""The action path of :class:`~alwidgets.ActiveLabeler`: one answer from store to widget.

Every answer (key press, click, Python call, oracle) goes through
:meth:`ActionsMixin._act`: written to the store (durable), mirrored in the session
state, acknowledged to the widget; the kernel alone ends a batch
(:meth:`ActionsMixin._advance`). :meth:`ActionsMixin._undo` steps back the last action.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING, Any

import numpy as np

from alwidgets.app._unsaved import UnsavedAnswer, is_unreachable
from alwidgets.exceptions import StoreError

__all__ = ["ActionsMixin"]

logger = logging.getLogger("alwidgets")


class ActionsMixin:
    """Recording, acknowledging and undoing answers (a mixin of
    :class:`~alwidgets.ActiveLabeler`, which provides the attributes below)."""

    _lock: threading.RLock
    _queue: Any
    _state: Any
    _team: Any
    _sched: Any
    _answer_log: list[tuple[float, float | None]]
    annotator: str
    batch_widget: Any

    if TYPE_CHECKING:  # provided by ActiveLabeler

        def _review_answer(
            self, pos: int, action: str, label: Any
        ) -> tuple[str, Any, str | None]: ...

        def _write(self, answer: UnsavedAnswer) -> None: ...

        def _keep_unsaved(self, answer: UnsavedAnswer, err: BaseException | None) -> None: ...

        def _refuse_undo_while_unsaved(self, seq: int | None, key: str | None) -> bool: ...

        def _follow_team(self) -> int: ...

        def _set_status(self) -> None: ...

        def _push_state(self) -> None: ...

        def _draw_review(self) -> None: ...

        def _refresh_stats(self, force: bool = False) -> None: ...

        def _defer_histogram(self) -> None: ...

        def _request_job(self, force: bool = False) -> threading.Event | None: ...

    def _act(
        self,
        pos: int,
        action: str,
        label: Any = None,
        *,
        seq: int | None = None,
        seconds: float | None = None,
        session: str | None = None,
    ) -> None:
        """Record one answer: store (durable) -> state -> widget ack -> maybe advance.

        The item need not be in the current batch (the kernel may have moved on): an
        answer about a pool item is valid wherever it is.
        """
        q = self._queue
        with self._lock:
            now = time.time()
            if seconds is not None and np.isfinite(seconds) and seconds >= 0:
                shown_at: float | None = now - seconds
            elif pos in q.current.positions:
                shown_at = q.current.shown_at
            else:
                shown_at = None
            ref = (session, seq) if isinstance(session, str) and seq is not None else None
            action, label, outcome = self._review_answer(pos, action, label)
            answer = UnsavedAnswer(
                pos, action, label, shown_at, ref, q.query_info.get(pos, {}), seq, seconds,
                outcome, now,
            )  # fmt: skip
            if seq is not None and self._state.unsaved:  # behind the unsaved ones, in order
                self._keep_unsaved(answer, None)
                return
            try:
                self._write(answer)
            except StoreError as err:  # not saved: the status says why
                self._team.unreachable = True
                if seq is not None and is_unreachable(err):  # a widget answer: kept, retried
                    self._keep_unsaved(answer, err)
                    return
                self._set_status()  # a Python caller decides itself
                raise
            self._saved(answer)

    def _saved(self, answer: UnsavedAnswer, *, closing: bool = False) -> None:
        """An answer is in the store: mirror it, ack it, maybe end the batch (under the
        lock; also for an unsaved answer written later, see :mod:`._unsaved`)."""
        q, pos, action = self._queue, answer.pos, answer.action
        self._state.mirror(pos, action, answer.label, answer.ref)
        if self._team.unreachable:  # back: clear the status (or count what is left)
            self._team.unreachable = bool(self._state.unsaved)
            self._set_status()
        if answer.outcome is not None:
            q.review.mark(pos, answer.outcome)
            self._draw_review()
        if action == "label":
            self._sched.labeled(1)
            if answer.seq is not None or answer.seconds is not None:  # a person
                self._answer_log.append((answer.at, answer.seconds))
                del self._answer_log[:-100]
        if pos in q.next.positions:  # answered ahead of time: prefetch another
            q.refill_next()
        self._push_state()
        self.batch_widget.ack(answer.seq, str(pos))
        if closing:
            return
        if q.is_complete():  # the kernel alone ends a batch
            self._advance()
        if self._sched.labeled(0):
            self._request_job()

    def _advance(self) -> None:
        with self._lock:
            self._follow_team()
            self._queue.advance()
            self._push_state()
            ran_out = self._queue.ran_out
        self._refresh_stats()
        self._defer_histogram()
        if self._sched.after_batch(ran_out):
            self._request_job()

    def _undo(
        self,
        seq: int | None = None,
        *,
        key: str | None = None,
        target_seq: int | None = None,
        session: str | None = None,
    ) -> dict[str, Any] | None:
        """Undo the last action; a front-end undo names it (card ``key``, ``target_seq``)
        and is refused with a ``nack`` unless it is still this annotator's last action."""
        with self._lock:
            if self._refuse_undo_while_unsaved(seq, key):
                return None
            if key is not None:
                why = self._state.undo_mismatch(key, target_seq, session)
                if why is not None:
                    logger.warning("alwidgets: undo of card %s refused: %s", key, why)
                    self.batch_widget.nack(seq, key, f"not undone: {why}")
                    return None
            event, pos = self._state.undo(self.annotator)
            if event is None:
                self.batch_widget.undone(seq, None)
                self.batch_widget.notice("Nothing to undo.")
                return None
            if pos is None:  # an item of another pool sharing the store
                self.batch_widget.undone(seq, None)
                return event
            if event["action"] == "label":
                self._sched.labeled(-1)
            self._queue.reopen(pos)  # from an earlier batch: back to the front of this one
            if self._queue.review is not None and pos in self._queue.review:
                self._queue.review.unmark(pos)
                self._draw_review()
            self._push_state()
            self.batch_widget.undone(seq, str(pos))
            return event

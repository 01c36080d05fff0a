"""The labeling core: events in, :class:`~alwidgets.app._changes.Changes` out. Headless.

:class:`LabelingController` owns the app's one lock and, by composition, every part
whose state labeling changes: the store's mirror (:mod:`._mirror`), the batches
(:mod:`._queue`), the retrain bookkeeping (:mod:`._scheduler`), the team routing
(:mod:`._team`; ``None`` for a lone labeler), the answers the store could not take yet
(:mod:`._unsaved`), the review round and the stop signals (:mod:`._signals`). Each
event comes in through one method and returns what changed; it imports no widget, and
tests drive it directly. The key path writes to the store under the lock (one order for
the store and the mirror); all that is slow runs outside it. See ``docs/ARCHITECTURE.md``.
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Iterator
from typing import Any

from alwidgets.app import _unsaved as saving
from alwidgets.app._changes import Answer, Changes, UndoRequest
from alwidgets.app._mirror import SessionMirror
from alwidgets.app._queue import BatchQueue
from alwidgets.app._review import ReviewRound, find_suspects
from alwidgets.app._scheduler import RetrainScheduler
from alwidgets.app._status import batch_state, histogram_of, panel_stats, status_now
from alwidgets.app._team import TeamRouting
from alwidgets.exceptions import (
    InvalidInputError,
    LabelConflictError,
    LabelConflictWarning,
    StoreError,
)

__all__ = ["LabelingController"]

logger = logging.getLogger("alwidgets")


class LabelingController:
    """The labeling core of one :class:`~alwidgets.ActiveLabeler` (module docstring).

    ``team`` is ``None`` for a lone labeler; ``make_team()`` builds one when a team shows
    up. ``review`` is ``(estimator, X, seed, classes)`` for :func:`~alwidgets.app._review.find_suspects`;
    ``stats_base`` the store's stats at open (a resumed session's pace so far)."""

    def __init__(
        self,
        store: Any,
        mirror: SessionMirror,
        queue: BatchQueue,
        scheduler: RetrainScheduler,
        *,
        team: TeamRouting | None,
        make_team: Callable[[], TeamRouting],
        annotator: str,
        overlap: int,
        review: tuple[Any, Any, int, list[Any]],
        stats_base: dict[str, Any],
        signals: Any,
    ) -> None:
        self._lock = threading.RLock()
        self.signals = signals  # _signals.Signals: stop signal, prequential, the curve panel
        self.store, self.mirror, self.queue, self.sched = store, mirror, queue, scheduler
        self.team, self._make_team, self.annotator = team, make_team, annotator
        self.overlap = overlap  # a label counts while fewer colleagues labeled the item
        self.classes, self.n_items = mirror.classes, len(mirror.ids)
        self._review_args, self._stats_base = review, stats_base
        self._seq = itertools.count(1)
        self._unsaved: list[saving.PendingAnswer] = []  # oldest first; only here until written
        self._log: list[tuple[float, float | None]] = []  # (time, seconds) per human label
        self.unreachable = False  # the store did not answer the last call
        self.closed = False
        self.resuming = mirror.trainable()  # a resumed session: its first model replaces
        if team is not None:
            queue.claim = self._claim

    def open(self, models: Any) -> Changes:
        """What a labeler shows first; a resumed session's first fit (``result``: its event)."""
        with self._lock:
            ch = self._changes()
            ch.curve = self.signals.take(None, models, self.mirror.per_class)
            if self.resuming:  # its first fit re-creates the model the session ended with
                self.sched.resume(models)
                ch.result = self._job(ch)
            if self.team is not None:
                ch.wants.add("team")
            self._show(ch, stats=True)
            return ch

    def answer(self, a: Answer) -> Changes:
        """Record one answer: store (durable) → mirror → reply → maybe the batch ends."""
        with self._lock:
            ch = self._changes()
            self.queue.ready(a.pos)  # on the prefetched batch: its cards (query info) first
            pending = saving.pending_answer(a, self.queue, self.mirror)
            if a.from_widget and self._unsaved:  # behind the unsaved ones, in order
                self._keep(pending, None, ch)
                return ch
            event_id, err = self._write(pending)
            if event_id is not None:  # a label, or kept as a conflict (err)
                self._saved(pending, event_id, ch, conflict=err)
                return ch
            assert err is not None
            self._trouble(err)
            if a.from_widget and saving.is_unreachable(err):  # kept, retried in the background
                self._keep(pending, err, ch)
                return ch
            ch.refuse(a, err)
            ch.status = self._status()
            return ch

    def _write(self, p: saving.PendingAnswer) -> tuple[int | None, Exception | None]:
        """``(event id, None)``; ``(conflict event id, LabelConflictError)``: colleagues
        labeled the item first; ``(None, StoreError)``: not written."""
        try:
            return saving.write_answer(self.store, self.mirror.ids, p, self.annotator, self.overlap), None  # fmt: skip
        except LabelConflictError as err:
            return err.event_id, err
        except StoreError as err:
            return None, err

    def _saved(self, p: saving.PendingAnswer, event_id: int, ch: Changes, closing: bool = False,
               conflict: Exception | None = None) -> None:  # fmt: skip
        """An answer is in the store (as a label, or as a ``conflict``: colleagues were
        first): mirror it, reply, maybe end the batch (locked)."""
        q, a, pos = self.queue, p.answer, p.pos
        if not isinstance(conflict, LabelConflictError):
            gap = self.mirror.own(event_id, pos, p.action, p.label, a.ref)
            ch.reply("ack", a.seq, str(pos))
        else:
            text = saving.conflict_text(conflict.others)
            gap = self.mirror.conflict(event_id, pos, text, a.ref)
            ch.reply("conflict", a.seq, str(pos), text)
            if not a.from_widget:
                ch.warning = LabelConflictWarning(f"item {self.mirror.ids[pos]!r}: {text}.")
        if gap and self.team is None:
            self._go_team(ch)
        self.unreachable = bool(self._unsaved)
        if p.outcome is not None:
            q.review.mark(pos, p.outcome)
        if p.action == "label" and conflict is None:
            self.sched.labeled(1)
            if a.seconds is not None:  # a person's answer (programmatic ones have no pace)
                self._log = [*self._log[-99:], (p.at, a.seconds)]
        if pos in q.next.positions:  # answered ahead of time: prefetch another
            q.refill_next(later=True)
        if not closing and q.is_complete():  # the kernel alone ends a batch
            self._advance(ch)
        if not closing and self.sched.labeled(0):
            self._job(ch)
        self._show(ch, stats=True)

    def _keep(self, p: saving.PendingAnswer, err: BaseException | None, ch: Changes) -> None:
        """Keep a widget answer the store could not take; the companion retries it."""
        self._unsaved.append(p)
        self.unreachable = True
        ch.reply("unsaved", p.answer.seq, str(p.pos), saving.kept_text(err))
        ch.wants.add("retry")
        ch.status = self._status()

    def retry_unsaved(self, *, closing: bool = False) -> Changes:
        """Write the unsaved answers in order (store calls outside the lock); ``result``
        is ``True`` when none is left. Only this method takes answers off the list."""
        ch = Changes(result=False)
        while True:
            with self._lock:
                if not self._unsaved:
                    ch.result = True
                    return ch
                pending = self._unsaved[0]
            event_id, err = self._write(pending)
            if event_id is None and err is not None and saving.is_unreachable(err):
                return ch  # still away: the companion tries again later
            with self._lock:
                self._unsaved.remove(pending)
                if event_id is not None:
                    self._saved(pending, event_id, ch, closing=closing, conflict=err)
                elif err is not None:  # refused for good: say so, go on
                    logger.error("alwidgets: an unsaved answer was refused: %s", err)
                    ch.refuse(pending.answer, err)
                    ch.status, ch.seq = self._status(), next(self._seq)

    def unsaved_items(self) -> list[Any]:
        """Ids of the answers not saved yet, oldest first."""
        with self._lock:
            return [self.mirror.ids[p.pos] for p in self._unsaved]

    def undo(self, req: UndoRequest) -> Changes:
        """Undo this annotator's last action; a front-end undo must name it."""
        with self._lock:
            ch = self._changes()
            why = None
            if self._unsaved:
                why = saving.undo_refusal(len(self._unsaved))
                ch.notice(why, "error")
            elif req.key is not None:
                why = self.mirror.undo_mismatch(req.key, req.target_seq, req.session)
                why = None if why is None else f"not undone: {why}"
            if why is not None:
                ch.refuse(req, StoreError(why), why)
                return ch
            try:
                event = self.store.undo(annotator=self.annotator)
            except StoreError as err:
                self._trouble(err)
                ch.refuse(req, err)
                ch.status = self._status()
                return ch
            ch.result = event
            if event is None:
                ch.reply("undone", req.seq, None)
                ch.notice("Nothing to undo.")
                return ch
            if self.mirror.wrote(int(event["undo_event_id"])) and self.team is None:
                self._go_team(ch)
            pos = self.mirror.undo_own(event)
            if pos is not None:
                if event["action"] == "label":
                    self.sched.labeled(-1)
                self.queue.reopen(pos)  # from an earlier batch: back to the front of this one
                if self.queue.review is not None and pos in self.queue.review:
                    self.queue.review.unmark(pos)
            ch.reply("undone", req.seq, None if pos is None else str(pos))
            self._show(ch, stats=True)
            return ch

    def advance(self) -> Changes:
        """Move on to the prefetched batch (unanswered cards go back to the pool)."""
        with self._lock:
            ch = self._changes()
            self._advance(ch)
            return ch

    def _advance(self, ch: Changes) -> None:
        """The end of a batch: no store read here (a team's claims are its one write)."""
        ch.curve = self.signals.batch_done(self.queue, self.mirror)  # suggestions vs answers
        self.queue.advance()
        if self.sched.after_batch(self.queue.ran_out):
            self._job(ch)
        self._show(ch, stats=True, histogram=True)

    def make_cards(self) -> Changes:
        """Make the prefetched batch's cards (the companion, after a batch end)."""
        with self._lock:
            ch = self._changes()
            if self.queue.make_cards():
                self._show(ch)
            return ch

    def retrain(self, force: bool) -> Changes:
        """Start a retrain (``force``: even with the labels of the model in use); the
        event to wait for is ``result`` (``None``: nothing runs)."""
        with self._lock:
            ch = self._changes()
            unchanged = not force and self.sched.unchanged(self.mirror.labels)
            ch.result = self.sched.job_event if unchanged else self._job(ch, force=True)
            self._show(ch)
            return ch

    def job_event(self) -> threading.Event | None:
        """The event of the retrain under way (set once its result is applied)."""
        return self.read(lambda c: c.sched.job_event)

    def _job(self, ch: Changes, force: bool = False) -> threading.Event | None:
        if self.closed:
            return None
        job, event = self.sched.start(
            self.mirror.labels, self.mirror.handled, self.queue.current.positions, force=force,
            trainable=self.mirror.trainable(), ran_out=self.queue.ran_out,
        )  # fmt: skip
        if job is not None and event is not None:
            ch.retrain = (job, event)
        return event

    def apply(self, snap: Any, *, fallback: str | None = None) -> Changes:
        """Take in a finished retrain. Whatever fails on the way (logging its curve point
        on a store that is away, say), the scheduler ends ready to retrain again and the
        status says what happened."""
        problem, models = self.sched.log_point(self.store, snap)  # store calls: no lock
        with self._lock:
            ch = self._changes()
            again = self.sched.finish(snap, self.mirror.trainable(), problem)  # first: never stuck
            if self.closed:
                return ch
            if fallback:  # said once, by the worker
                ch.notice(
                    f"retraining in a thread: the worker process failed ({fallback})", "error"
                )
            if snap.error is not None:
                ch.notice(f"retrain failed: {snap.error}", "error")
            else:  # a resumed session's untouched cold-start batch is replaced too
                self.queue.take_ranking(snap, replace_cold=self.resuming)
                self.resuming = self.resuming and not snap.fitted
                ch.curve = self.signals.take(snap, models, self.mirror.per_class)
            if again:  # a follow-up retrain() asked for runs even in manual mode
                self._job(ch, force=self.sched.requested)
            self._show(ch, stats=True, histogram=snap.error is None)
            return ch

    def _go_team(self, ch: Changes) -> None:
        """Someone else writes to this session: claim, renew and follow from now on."""
        logger.info("alwidgets: another annotator writes to this session; following the team")
        self.team = self._make_team()
        self.queue.claim = self._claim
        ch.wants.add("team")

    def _claim(self, positions: Iterator[int], k: int) -> list[int]:
        """The queue's claim: leases in the store; while it is away, unclaimed picks."""
        got, err = self.team.claim(positions, k, offline=self.unreachable)  # type: ignore[union-attr]
        if err is not None:
            self._trouble(err)
        return got

    def team_tick(self, *, sync: bool = False) -> Changes:
        """Renew, re-claim, release and follow the team (the companion thread; ``sync``:
        a call of the user's, which also looks whether someone else wrote meanwhile)."""
        ch = Changes()
        seen = self.read(lambda c: None if c.team is not None else c.mirror.seen)
        if sync and seen is not None and self.store.last_event_id() > seen:
            with self._lock:
                if self.team is None:
                    self._go_team(ch)
        with self._lock:
            team = self.team
            if team is None or self.closed:
                return ch
            plan = team.plan(self.queue.positions(), self.mirror.seen, self.mirror.handled)
        result = team.exchange(plan)  # store calls, no lock
        with self._lock:
            if result.error is not None:
                self._trouble(result.error)
            elif not self._unsaved:
                self.unreachable = False
            pending = {p.pos for p in self._unsaved}
            n = team.settle(plan, result, self.mirror, self.queue, self.sched, pending, ch)
            if self.queue.is_complete():  # colleagues answered the rest of it
                self._advance(ch)
            elif n and self.sched.labeled(0):
                self._job(ch)
            self._show(ch, stats=True)
            return ch

    def start_review(self, n: int | None, *, from_widget: bool = False) -> Changes:
        """Show the most suspect labels as cards; ``result`` is the suspects' frame
        (index: positions). The models are fit outside the lock."""
        labels = self.read(lambda c: c.mirror.labels)
        try:
            frame = find_suspects(*self._review_args[:2], labels, n, *self._review_args[2:])
        except InvalidInputError as err:
            if not from_widget:
                raise
            return Changes(notices=[(f"Cannot review yet: {err}", "error")])
        with self._lock:
            ch = self._changes()
            if len(frame):
                self.queue.start_review(ReviewRound.from_frame(frame))
            elif from_widget:
                ch.notice("Nothing to review: the models agree with every label.")
            self._show(ch, stats=True)
        ch.result = frame
        return ch

    def read(self, fn: Callable[[LabelingController], Any]) -> Any:
        """``fn(self)`` under the lock (a consistent read for the facade)."""
        with self._lock:
            return fn(self)

    def close(self) -> None:
        """No more jobs; release this annotator's leases (after the threads stopped)."""
        with self._lock:
            self.closed = True
            team = self.team
        if team is not None:
            team.close()

    def _changes(self) -> Changes:
        return Changes(seq=next(self._seq))

    def _trouble(self, err: Exception) -> None:
        if not self.unreachable:
            logger.warning("alwidgets: %s", err)
        self.unreachable = True

    def _show(self, ch: Changes, *, stats: bool = False, histogram: bool = False) -> None:
        """Put the batch, status (and stats, histogram) as they are now into ``ch``."""
        ch.batch = batch_state(self.queue, self.mirror)
        if self.queue.next.pending:  # a prefetched batch without cards: the companion
            ch.wants.add("cards")
        ch.status = self._status()
        if stats:
            ch.stats = {**panel_stats(self.mirror, self.queue, self.sched, self.team, self._log,
                                      self._stats_base), **self.signals.stats()}  # fmt: skip
        if histogram:
            ch.histogram = histogram_of(self.queue, self.mirror)
        ch.seq = next(self._seq)

    def _status(self) -> dict[str, Any]:
        return status_now(self.queue, self.mirror, self.sched, self.unreachable, len(self._unsaved))

"""The session companion: one background thread for the work that must not slow a key.

A labeler has one such thread at most, started by the facade when there is work for
it (:class:`~alwidgets.ActiveLabeler` starts and stops every thread), and it runs
:meth:`Companion.run`. :class:`Companion` only schedules:

* plots to redraw (the uncertainty histogram after a batch end) and the prefetched
  batch's cards to make after a batch end, coalesced: only the latest of each waits
  (:meth:`Companion.defer`);
* the team's tick — renew the leases, claim again what lapsed, release what left the
  queue, follow the team's new events — every ``every`` seconds once a team is at
  work (:meth:`Companion.want` ``"team"``);
* retries of the answers the store could not take, with a backoff (1, 2, 4, then
  every 5 s) until none is left (:meth:`Companion.want` ``"retry"``).

A lone labeler on a file never follows a team or renews a lease: it has neither.

Examples
--------
>>> import threading
>>> ticked = threading.Event()
>>> companion = Companion(team_tick=ticked.set, retry=lambda: True, every=60)
>>> thread = threading.Thread(target=companion.run)  # the labeler starts it
>>> thread.start()
>>> companion.want("team")  # a team is at work: one tick now, then every 60 s
>>> ticked.wait(10)
True
>>> companion.stop(); thread.join()
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from alwidgets.app._unsaved import retry_delay

__all__ = ["Companion"]

logger = logging.getLogger("alwidgets")


class Companion:
    """What the companion thread does, and when (see the module docstring).

    ``team_tick()`` runs one team tick; ``retry()`` writes the unsaved answers and
    returns ``True`` when none is left; ``cards()`` makes the prefetched batch's cards.
    """

    def __init__(
        self, *, team_tick: Callable[[], object], retry: Callable[[], bool], every: float,
        cards: Callable[[], object] | None = None,
    ) -> None:  # fmt: skip
        self._team_tick, self._retry, self.every = team_tick, retry, every
        self._cards = cards
        self._cond = threading.Condition()
        self._deferred: dict[str, Callable[[], object]] = {}
        self._team_due: float | None = None  # monotonic time of the next tick
        self._retry_due: float | None = None
        self._attempt = 0
        self._stopped = False
        self._running = 0  # deferred jobs taken and not done yet

    def want(self, what: str) -> None:
        """Start ``"team"`` ticks (one now) or ``"retry"`` (first retry after 1 s), or
        make the prefetched batch's ``"cards"`` soon."""
        if what == "cards" and self._cards is not None:
            self.defer("cards", self._cards)
            return
        with self._cond:
            now = time.monotonic()
            if what == "team" and self._team_due is None:
                self._team_due = now
            elif what == "retry" and self._retry_due is None:
                self._attempt = 0
                self._retry_due = now + retry_delay(0)
            self._cond.notify_all()

    def defer(self, key: str, fn: Callable[[], object]) -> None:
        """Run ``fn`` soon; a later ``fn`` for the same ``key`` replaces a waiting one."""
        with self._cond:
            self._deferred[key] = fn
            self._cond.notify_all()

    def settle(self, timeout: float = 10.0) -> bool:
        """Wait until no deferred job waits or runs (tests, and a caller about to read
        what they make); whether it got there within ``timeout`` seconds."""
        with self._cond:
            return self._cond.wait_for(
                lambda: self._stopped or not (self._deferred or self._running), timeout
            )

    def stop(self) -> None:
        """End :meth:`run` after what it is doing now."""
        with self._cond:
            self._stopped = True
            self._cond.notify_all()

    def run(self) -> None:
        """The thread's body: wait for work, do it, until :meth:`stop`."""
        while True:
            with self._cond:
                jobs, team, retry = self._wait()
                if jobs is None:
                    return
                self._running = len(jobs)
            for fn in jobs:
                self._guarded(fn)
            with self._cond:
                self._running = 0
                self._cond.notify_all()
            if team:
                self._guarded(self._team_tick)
                with self._cond:
                    self._team_due = time.monotonic() + self.every
            if retry:
                done = self._retried()
                with self._cond:
                    if self._retry_due is None:  # not armed again meanwhile
                        self._attempt += 1
                        if not done:  # some are left: try again later
                            self._retry_due = time.monotonic() + retry_delay(self._attempt)

    def _wait(self) -> tuple[list[Callable[[], object]] | None, bool, bool]:
        """Wait (holding the condition) until something is due; what it is."""
        while not self._stopped:
            now = time.monotonic()
            team = self._team_due is not None and self._team_due <= now
            retry = self._retry_due is not None and self._retry_due <= now
            if self._deferred or team or retry:
                jobs = list(self._deferred.values())
                self._deferred.clear()
                if team:
                    self._team_due = None  # rescheduled after the tick
                if retry:
                    self._retry_due = None
                return jobs, team, retry
            dues = [d for d in (self._team_due, self._retry_due) if d is not None]
            self._cond.wait(None if not dues else max(0.0, min(dues) - now))
        return None, False, False

    def _retried(self) -> bool:
        """One round of retries; whether no unsaved answer is left."""
        try:
            return self._retry()
        except Exception:  # the companion must outlive one bad round
            logger.exception("alwidgets: saving the unsaved answers failed")
            return False

    @staticmethod
    def _guarded(fn: Callable[[], object]) -> None:
        try:
            fn()
        except Exception:  # the companion must outlive one bad round
            logger.exception("alwidgets: background work failed")

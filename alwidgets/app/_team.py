"""Labeling as a team: claims on the queue's items, leases kept alive, the team followed.

:class:`TeamRouting` is the labeler's link to the other annotators of its session
(other kernels on one SQLite file, or other machines on a PostgreSQL session):

* every batch the queue builds (the prefetched one too) is *claimed* in the store
  (:meth:`~alwidgets.store.SessionStore.claim`), so colleagues are offered other
  items: items labeled or leased by others are skipped;
* a background thread renews the leases of the queued items while the labeler is
  open and follows the team's new events (:meth:`~alwidgets.store.SessionStore.changes_since`),
  so the model trains on everybody's labels; items dropped from the queue are
  released, and :meth:`close` releases the rest;
* when the store is unreachable, claiming falls back to the local ranking and the
  labeler says "store unreachable — retrying" until a call succeeds again.

Examples
--------
>>> import os, tempfile
>>> from alwidgets.store import SessionStore
>>> path = os.path.join(tempfile.mkdtemp(), "team.alw")
>>> ana, bo = SessionStore(path, annotator="ana"), SessionStore(path, annotator="bo")
>>> ids = ["a", "b", "c", "d"]
>>> ta = TeamRouting(ana, ids, annotator="ana", overlap=1, lease_seconds=60)
>>> tb = TeamRouting(bo, ids, annotator="bo", overlap=1, lease_seconds=60)
>>> ta.claim(iter([0, 1, 2, 3]), 2), tb.claim(iter([0, 1, 2, 3]), 2)
([0, 1], [2, 3])
>>> ta.close(); tb.close(); ana.close(); bo.close()
"""

from __future__ import annotations

import itertools
import logging
import threading
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import TYPE_CHECKING, Any

import numpy as np

from alwidgets.exceptions import StoreError

__all__ = ["UNREACHABLE", "TeamRouting", "TeamWiring", "team_stats"]

logger = logging.getLogger("alwidgets")

UNREACHABLE = "store unreachable — retrying"


class TeamRouting:
    """Claims, leases and the team's events for one labeler (see the module docstring)."""

    def __init__(
        self,
        store: Any,
        ids: Sequence[Any],
        *,
        annotator: str,
        overlap: int,
        lease_seconds: float,
    ) -> None:
        self.store, self.ids = store, ids
        self.annotator, self.overlap, self.lease_seconds = annotator, overlap, lease_seconds
        self._pos = {item: p for p, item in enumerate(ids)}
        self.claimed: set[int] = set()  # positions this labeler holds leases on
        self.unreachable = False
        self.seen = int(store._scalar("SELECT coalesce(max(id), 0) FROM events"))
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    # ---- claims (called by the queue under the labeler's lock) ----
    def claim(self, positions: Iterator[int], k: int) -> list[int]:
        """Claim up to ``k`` of ``positions`` (in order) in the store; their positions.

        Store trouble: the first ``k`` positions unclaimed (labeling goes on; the
        status says the store is unreachable).
        """
        read: list[int] = []

        def ids() -> Iterator[Any]:
            for p in positions:
                read.append(p)
                yield self.ids[p]

        try:
            got = self.store.claim(
                ids(),
                k,
                annotator=self.annotator,
                overlap=self.overlap,
                lease_seconds=self.lease_seconds,
            )
        except StoreError as err:
            self._trouble(err)
            rest = list(itertools.islice(positions, max(0, k - len(read))))
            return (read + rest)[:k]
        self.unreachable = False
        out = [self._pos[item] for item in got if item in self._pos]
        self.claimed.update(out)
        return out

    def release_dropped(self, queued: Iterable[int], handled: np.ndarray) -> None:
        """Release the leases of items no longer queued and not answered here."""
        keep = set(queued)
        dropped = [p for p in self.claimed if p not in keep and not handled[p]]
        self.claimed &= keep
        if dropped:
            self._call(
                lambda: self.store.release([self.ids[p] for p in dropped], annotator=self.annotator)
            )

    # ---- the team ----
    def changes(self) -> Any:
        """The team's events since the last call (a DataFrame), or ``None`` on trouble."""
        frame = self._call(lambda: self.store.changes_since(self.seen))
        if frame is not None and len(frame):
            self.seen = int(frame.index.max())
        return frame

    def renew(self) -> None:
        """Extend the leases of the queued items."""
        if self.claimed:
            items = [self.ids[p] for p in self.claimed]
            self._call(
                lambda: self.store.renew(
                    items, annotator=self.annotator, lease_seconds=self.lease_seconds
                )
            )

    def start(self, tick: Callable[[], None]) -> None:
        """Every third of a lease: ``tick()`` (renew + follow the team), until :meth:`close`."""
        every = max(0.5, self.lease_seconds / 3.0)

        def loop() -> None:
            while not self._stop.wait(every):
                try:
                    tick()
                except Exception:  # the loop must outlive one bad tick
                    logger.exception("alwidgets: team update failed")

        self._thread = threading.Thread(target=loop, name="alwidgets-team", daemon=True)
        self._thread.start()

    def close(self) -> None:
        """Stop the thread and release every lease of this annotator."""
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=5)
        if not self.store.closed:
            self._call(lambda: self.store.release(annotator=self.annotator))
        self.claimed.clear()

    def call(self, fn: Callable[[Any], Any]) -> Any:
        """``fn(store)``; ``None`` (and the status says so) when the store is unreachable."""
        return self._call(lambda: fn(self.store))

    def _call(self, fn: Callable[[], Any]) -> Any:
        try:
            out = fn()
        except StoreError as err:
            self._trouble(err)
            return None
        self.unreachable = False
        return out

    def _trouble(self, err: StoreError) -> None:
        if not self.unreachable:
            logger.warning("alwidgets: %s", err)
        self.unreachable = True


def team_stats(store: Any) -> dict[str, Any]:
    """What the stats panel shows about the team: labels per annotator and a line with
    each annotator's pace and Cohen's κ on the items labeled by two of them.

    Examples
    --------
    >>> import os, tempfile, time
    >>> from alwidgets.store import SessionStore
    >>> store = SessionStore(os.path.join(tempfile.mkdtemp(), "t.alw"))
    >>> for i, (a, b) in enumerate(["xx", "xy", "yy", "yy"]):
    ...     _ = store.label(i, a, annotator="ana", shown_at=time.time() - 6)
    ...     _ = store.label(i, b, annotator="bo", shown_at=time.time() - 3)
    >>> out = team_stats(store)
    >>> out["per_annotator"], out["team"].split(" · κ ")[1]
    ({'ana': 4, 'bo': 4}, '0.50 on 4 shared items')
    >>> store.close()
    """
    from alwidgets.store import _views

    events, labels, state = store.events, store.labels, store.state
    per = store.stats()["per_annotator"]
    if len(per) < 2:
        return {"per_annotator": per, "team": None}
    parts = []
    for who, n in per.items():
        mine = events[events["annotator"] == who]
        own = _views.stats_dict(
            mine,
            labels[labels["annotator"] == who],
            state[state["annotator"] == who],
            store.idle_seconds,
        )
        rate = own["labels_per_minute"]
        parts.append(f"{who} {n}" + (f" ({rate:.1f}/min)" if np.isfinite(rate) else ""))
    line = "team: " + ", ".join(parts)
    pairs = store.agreement()
    if len(pairs):
        shared = int(pairs["n_items"].sum())
        weights = pairs["n_items"].to_numpy(dtype=float)
        kappas = pairs["kappa"].to_numpy(dtype=float)
        ok = np.isfinite(kappas)
        if ok.any():
            kappa = float(np.average(kappas[ok], weights=weights[ok]))
            line += f" · κ {kappa:.2f} on {shared} shared items"
    return {"per_annotator": per, "team": line}


class TeamWiring:
    """What the labeler does with the team's news (a mixin of
    :class:`~alwidgets.ActiveLabeler`, which provides the attributes below)."""

    _lock: Any
    _team: TeamRouting
    _state: Any
    _queue: Any
    _sched: Any
    _team_stats: dict[str, Any]

    if TYPE_CHECKING:  # provided by ActiveLabeler and its other mixins

        def _advance(self) -> None: ...

        def _push_state(self) -> None: ...

        def _refresh_stats(self, force: bool = False) -> None: ...

        def _request_job(self, force: bool = False) -> Any: ...

        def _set_status(self) -> None: ...

    def _team_tick(self) -> None:
        """Renew this labeler's leases and take in the team's new events (a background
        thread, every third of a lease)."""
        with self._lock:
            self._team.renew()
            fresh = self._follow_team()
            complete = self._queue.is_complete()  # colleagues answered the rest of it
        if complete:
            self._advance()
        if fresh:
            self._team_stats = self._team.call(team_stats) or self._team_stats
            self._refresh_stats(force=True)
            if self._sched.labeled(0):
                self._request_job()
        self._set_status()

    def _follow_team(self) -> int:
        """Mirror the team's new events (under the lock); how many colleagues' labels."""
        changes = self._team.changes()
        n = self._state.follow(changes)
        if changes is not None and len(changes):
            if n:
                self._sched.labeled(n)
            self._push_state()
        return n

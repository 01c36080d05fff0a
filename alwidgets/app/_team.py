"""Labeling as a team: claims on the queue's items, leases kept, the team followed.

:class:`TeamRouting` is a labeler's link to the other annotators of its session (other
kernels on one SQLite file, or other machines on a PostgreSQL session). A lone
labeler on a file has none (the controller creates one when a team shows up):

* every batch the queue builds (the prefetched one too) is *claimed* in the store
  (:meth:`~alwidgets.store.SessionStore.claim`), so colleagues are offered other items.
  This is on the key path (a batch end); while the store is known to be unreachable
  the controller does not even try: the items are taken unclaimed, and claimed later;
* a tick (the session companion thread, off the key path) does the rest in three
  steps: :meth:`plan` (under the controller's lock: what to renew, claim, release),
  :meth:`exchange` (no lock: the store calls — release the items that left the queue,
  renew the leases of the queued ones, claim again those whose lease lapsed and those
  taken unclaimed, read the team's new events from the last id seen, and refresh the
  per-annotator pace and agreement when colleagues labeled), :meth:`settle` (under the
  lock: what is leased now, and the items lost to a colleague);
* :meth:`close` releases every lease of this annotator.

Examples
--------
>>> import os, tempfile
>>> from alwidgets.store import SessionStore
>>> path = os.path.join(tempfile.mkdtemp(), "team.alw")
>>> ana, bo = SessionStore(path, annotator="ana"), SessionStore(path, annotator="bo")
>>> ids = ["a", "b", "c", "d"]
>>> ta = TeamRouting(ana, ids, annotator="ana", overlap=1, lease_seconds=60)
>>> tb = TeamRouting(bo, ids, annotator="bo", overlap=1, lease_seconds=60)
>>> ta.claim(iter([0, 1, 2, 3]), 2)[0], tb.claim(iter([0, 1, 2, 3]), 2)[0]
([0, 1], [2, 3])
>>> plan = ta.plan(queued=[1, 3], seen=0)  # 0 left ana's queue; 3 is bo's
>>> result = ta.exchange(plan)
>>> result.released, sorted(result.got), sorted(result.lost)  # 1 was renewed
([0], [], [3])
>>> ta.close(); tb.close(); ana.close(); bo.close()
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from alwidgets.app._scheduler import last_version
from alwidgets.exceptions import StoreError

__all__ = ["TeamRouting", "TickPlan", "TickResult", "agreement_text", "annotator_rates"]

logger = logging.getLogger("alwidgets")

#: Longest wait (s) between two ticks: how fresh the team's labels and counts are.
FOLLOW_EVERY_S = 5.0


@dataclass(frozen=True)
class TickPlan:
    """What one tick asks of the store (made under the controller's lock)."""

    renew: list[int]  # queued positions this labeler holds
    claim: list[int]  # queued positions it does not hold (taken while the store was away)
    release: list[int]  # held positions that left the queue
    seen: int  # follow the team's events after this id
    refresh: bool  # also read the per-annotator pace and agreement


@dataclass
class TickResult:
    """What the store answered (:meth:`TeamRouting.exchange`, no lock held)."""

    released: list[int] = field(default_factory=list)
    got: set[int] = field(default_factory=set)
    lost: set[int] = field(default_factory=set)
    events: Any = None  # a DataFrame of the team's new events
    rates: dict[str, float] | None = None
    kappa: str | None = None
    last_version: int | None = None  # the highest model version the session logged
    error: StoreError | None = None


class TeamRouting:
    """Claims, leases and the team's events for one labeler (see the module docstring)."""

    def __init__(
        self, store: Any, ids: Sequence[Any], *, annotator: str, overlap: int, lease_seconds: float
    ) -> None:
        self.store, self.ids = store, ids
        self.annotator, self.overlap, self.lease_seconds = annotator, overlap, lease_seconds
        self._pos = {item: p for p, item in enumerate(ids)}
        self.claimed: set[int] = set()  # positions this labeler holds leases on
        self.rates: dict[str, float] = {}  # labels per minute, per annotator
        self.kappa: str | None = None  # " · κ 0.50 on 4 shared items"
        self.stale = True  # pace and agreement need a refresh
        self.every = min(FOLLOW_EVERY_S, max(0.5, lease_seconds / 3.0))

    # ---- the key path (under the controller's lock) ----
    def claim(
        self, positions: Iterator[int], k: int, *, offline: bool = False
    ) -> tuple[list[int], StoreError | None]:
        """Claim up to ``k`` of ``positions`` (in order): the positions taken, and the
        error of a store that did not answer. Then, or when the store is known to be away
        (``offline``: no wait on it), the first ``k``, unclaimed: a tick claims them."""
        if offline:
            return list(itertools.islice(positions, k)), None
        read: list[int] = []

        def ids() -> Iterator[Any]:
            for p in positions:
                read.append(p)
                yield self.ids[p]

        try:
            got = self.store.claim(
                ids(), k, annotator=self.annotator, overlap=self.overlap,
                lease_seconds=self.lease_seconds,
            )  # fmt: skip
        except StoreError as err:
            rest = list(itertools.islice(positions, max(0, k - len(read))))
            return (read + rest)[:k], err
        out = [self._pos[item] for item in got if item in self._pos]
        self.claimed.update(out)
        return out, None

    # ---- a tick: plan (lock), exchange (no lock), settle (lock) ----
    def plan(self, queued: Sequence[int], seen: int, handled: np.ndarray | None = None) -> TickPlan:
        """What to renew, claim and release, given the queued positions."""
        keep = set(queued)
        open_ = [p for p in queued if handled is None or not handled[p]]
        return TickPlan(
            renew=sorted(self.claimed & keep),
            claim=[p for p in dict.fromkeys(open_) if p not in self.claimed],
            release=sorted(self.claimed - keep),
            seen=seen,
            refresh=self.stale,
        )

    def exchange(self, plan: TickPlan) -> TickResult:
        """The store calls of a tick (no lock held; see the module docstring)."""
        out = TickResult()
        store, me = self.store, self.annotator
        try:
            if plan.release:
                store.release([self.ids[p] for p in plan.release], annotator=me)
            out.released = plan.release
            extended = self._positions(
                store.renew([self.ids[p] for p in plan.renew], annotator=me,
                            lease_seconds=self.lease_seconds) if plan.renew else []
            )  # fmt: skip
            want = [p for p in plan.renew if p not in extended] + plan.claim
            if want:
                got = self._positions(
                    store.claim([self.ids[p] for p in want], len(want), annotator=me,
                                overlap=self.overlap, lease_seconds=self.lease_seconds)
                )  # fmt: skip
                out.got, out.lost = got, set(want) - got
            out.events = store.changes_since(plan.seen)
            out.last_version = last_version(store.models)
            colleagues = out.events is not None and bool(
                ((out.events["annotator"] != me) & (out.events["action"] == "label")).any()
            )
            if plan.refresh or colleagues:
                out.rates, out.kappa = annotator_rates(store), agreement_text(store)
        except StoreError as err:
            out.error = err
        return out

    def settle(
        self,
        plan: TickPlan,
        result: TickResult,
        mirror: Any,
        queue: Any,
        sched: Any,
        pending: set[int],
        changes: Any,
    ) -> int:
        """Take in a tick's result (under the controller's lock, which owns the parts
        passed in): what is leased now, the team's events into the ``mirror``, the items
        lost to a colleague off the ``queue`` (not those with a ``pending`` answer: the
        store judges those), the session's model versions; how many colleagues' labels
        arrived."""
        self.claimed -= set(result.released)
        self.claimed -= result.lost
        self.claimed |= result.got
        if result.rates is not None:
            self.rates, self.kappa, self.stale = result.rates, result.kappa, False
        if result.last_version is not None and not sched.running:
            sched.version = max(sched.version, result.last_version)
        _, n = mirror.follow(result.events)
        sched.labeled(n)
        gone = queue.replace(result.lost - pending)
        if gone:
            ids = ", ".join(repr(self.ids[p]) for p in gone)
            changes.notice(
                f"a colleague took item(s) {ids} while your lease lapsed: replaced", "error"
            )
        return n

    def close(self) -> None:
        """Release every lease of this annotator (quietly, if the store is away)."""
        try:
            if not self.store.closed:
                self.store.release(annotator=self.annotator)
        except StoreError as err:
            logger.warning("alwidgets: could not release the leases: %s", err)
        self.claimed.clear()

    def _positions(self, items: Any) -> set[int]:
        return {self._pos[item] for item in items if item in self._pos}


def annotator_rates(store: Any) -> dict[str, float]:
    """Labels per minute per annotator, as the store computes them."""
    frame = store.annotator_stats()
    return {str(who): float(rate) for who, rate in frame["labels_per_minute"].items()}


def agreement_text(store: Any) -> str | None:
    """`` · κ 0.50 on 4 shared items`` from the store's agreement table (``None``: none).

    Examples
    --------
    >>> import os, tempfile
    >>> from alwidgets.store import SessionStore
    >>> store = SessionStore(os.path.join(tempfile.mkdtemp(), "t.alw"))
    >>> for i, (a, b) in enumerate(["xx", "xy", "yy", "yy"]):
    ...     _ = store.label(i, a, annotator="ana")
    ...     _ = store.label(i, b, annotator="bo")
    >>> agreement_text(store)
    ' · κ 0.50 on 4 shared items'
    >>> store.close()
    """
    pairs = store.agreement()
    if not len(pairs):
        return None
    weights = pairs["n_items"].to_numpy(dtype=float)
    kappas = pairs["kappa"].to_numpy(dtype=float)
    ok = np.isfinite(kappas)
    if not ok.any():
        return None
    kappa = float(np.average(kappas[ok], weights=weights[ok]))
    return f" · κ {kappa:.2f} on {int(weights.sum())} shared items"

"""The labeling queue: the current batch and the prefetched next one.

:class:`BatchQueue` owns which pool positions are queued (current or next batch) and
takes the next items from the latest :class:`~alwidgets.app._jobs.RankingSnapshot`
(skipping handled and queued ones, falling back to seeded random picks when the
ranking is used up); during a review the suspects come first. Which items are
handled it only reads, through the mirror's read-only mask
(:attr:`alwidgets.app._mirror.SessionMirror.handled`). In a team, ``claim`` leases
every batch it builds in the store (items colleagues labeled or hold are passed
over); a lone labeler claims nothing. It knows nothing about the store or the
widgets; the controller calls it under its lock. Cards come from
:class:`~alwidgets.app._cards.CardMaker`.

Examples
--------
>>> import numpy as np
>>> from alwidgets.app._cards import CardMaker
>>> from alwidgets.app._jobs import RankingSnapshot
>>> snap = RankingSnapshot(version=0, n_labels=0, order=np.array([4, 2, 0, 1, 3]),
...                        scores=np.full(6, np.nan), proba=None)
>>> handled = np.zeros(6, dtype=bool)  # the mirror's mask (the queue only reads it)
>>> cards = CardMaker(ids=list("abcdef"), items=list("ABCDEF"), display="text",
...                   classes=["x", "y"])
>>> q = BatchQueue(cards, batch_size=2, rng=np.random.default_rng(0), snapshot=snap,
...                handled=handled)
>>> q.current.positions, q.next.positions
([4, 2], [0, 1])
>>> handled[[4, 2]] = True
>>> q.is_complete()
True
>>> q.advance().positions, q.next.positions
([0, 1], [3, 5])
>>> q.ran_out  # position 5 was a random pick: the ranking is used up
True
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from alwidgets.app._cards import CardMaker
from alwidgets.app._jobs import RankingSnapshot

__all__ = ["Batch", "BatchQueue"]

_CACHE_SIZE = 256  # cards kept for undo (current + next + recent history)

#: ``claim(positions, k)``: lease up to ``k`` of ``positions`` (in order); the taken ones.
Claim = Callable[[Iterator[int], int], list[int]]


@dataclass
class Batch:
    """One batch: its id, pool positions and cards (JSON-ready dicts).

    ``ranks`` is set while the cards are not made yet (a prefetched batch taken at a
    batch end; :meth:`BatchQueue.make_cards` makes them, off the key path).
    """

    id: int
    positions: list[int]
    cards: list[dict[str, Any]]
    shown_at: float = field(default_factory=time.time)
    ranks: list[int | None] | None = None

    @property
    def pending(self) -> bool:
        """Its cards are not made yet."""
        return self.ranks is not None


class BatchQueue:
    """Current + prefetched batch over one immutable pool (see the module docstring)."""

    def __init__(
        self,
        cards: CardMaker,
        *,
        batch_size: int,
        rng: np.random.Generator,
        snapshot: RankingSnapshot,
        handled: np.ndarray,
        claim: Claim | None = None,
    ) -> None:
        self.cards, self.batch_size, self._rng = cards, batch_size, rng
        self.handled = handled  # read only: the mirror owns it
        self.claim = claim  # None: a lone labeler (nothing to lease)
        self.queued = np.zeros(len(handled), dtype=bool)
        self.snapshot, self.cursor = snapshot, 0
        self.query_info: dict[int, dict[str, Any]] = {}  # position -> why it was shown
        self.ran_out = False  # set when a batch needed random picks
        self.review: Any = None  # a ReviewRound while labeled items are reviewed
        self._shown: OrderedDict[int, dict[str, Any]] = OrderedDict()  # cards, for undo
        self._counter = 0
        self.current = self.new_batch()
        self.next = self.new_batch()

    # ---- building batches ----
    def take(self, k: int) -> list[tuple[int, int | None]]:
        """Up to ``k`` (position, 1-based rank) pairs from the ranking; random when it
        runs out (rank ``None``). In a team only items ``claim`` gets are taken."""
        order = self.snapshot.order
        rank: dict[int, int] = {}

        def ranked() -> Iterator[int]:
            for i in range(self.cursor, len(order)):
                p = int(order[i])
                if not self.handled[p] and not self.queued[p] and p not in rank:
                    rank[p] = i + 1
                    yield p

        got = self._taken(ranked(), k)
        out: list[tuple[int, int | None]] = [(p, rank[p]) for p in got]
        if got:  # passed-over items (claimed by others) come back with the next ranking
            self.cursor = max(rank[p] for p in got)
        if len(out) < k:
            free = ~(self.handled | self.queued)
            free[got] = False
            rest, want = np.flatnonzero(free), k - len(out)
            if self.claim is None:
                size = min(want, rest.size)
                extra = [int(p) for p in self._rng.choice(rest, size=size, replace=False)]
            else:
                extra = self.claim((int(p) for p in self._rng.permutation(rest)), want)
            out.extend((p, None) for p in extra)
            if extra:
                self.ran_out = True
        return out

    def _taken(self, candidates: Iterator[int], k: int) -> list[int]:
        if self.claim is not None:
            return self.claim(candidates, k)
        out: list[int] = []
        for p in candidates:
            if len(out) >= k:
                break
            out.append(p)
        return out

    def new_batch(self, *, later: bool = False) -> Batch:
        """Take a batch (review suspects first, else the ranking) and mark its items
        queued; ``later``: its items are taken (and claimed) now, its cards made by
        :meth:`make_cards` (building eight cards is most of a batch end's work)."""
        self._counter += 1
        suspects = self._review_positions()
        if suspects:
            made = [self.cards.review_card(p, self.review.info[p], self.snapshot) for p in suspects]
            batch = Batch(self._counter, suspects, self._keep(suspects, made))
        else:
            picked = self.take(self.batch_size)
            batch = Batch(self._counter, [p for p, _ in picked], [], ranks=[r for _, r in picked])
            if not later:
                self.make_cards(batch)
        self.queued[batch.positions] = True
        return batch

    def make_cards(self, batch: Batch | None = None) -> bool:
        """Make the cards of ``batch`` (default: the prefetched one) if they are not made
        yet, with the ranking in use; whether it made any."""
        batch = self.next if batch is None else batch
        if batch.ranks is None:
            return False
        made = [self.cards.card(p, r, self.snapshot) for p, r in zip(batch.positions, batch.ranks, strict=True)]  # fmt: skip
        batch.cards, batch.ranks = self._keep(batch.positions, made), None
        return True

    def ready(self, pos: int) -> None:
        """Make the prefetched batch's cards if ``pos`` is on it (an answer needs its
        query info)."""
        if self.next.pending and pos in self.next.positions:
            self.make_cards()

    def _keep(self, positions: list[int], made: list[tuple[dict[str, Any], dict[str, Any]]]) -> list[dict[str, Any]]:  # fmt: skip
        """Record what each card says (query info for the store, the card for undo)."""
        for pos, (card, info) in zip(positions, made, strict=True):
            self.query_info[pos] = info
            self._shown[pos] = card
            self._shown.move_to_end(pos)
        while len(self._shown) > _CACHE_SIZE:
            self._shown.popitem(last=False)
        return [card for card, _ in made]

    def _review_positions(self) -> list[int]:
        """The next unanswered, unqueued suspects of a review (up to a batch)."""
        if self.review is None:
            return []
        free = [p for p in self.review.remaining() if not self.queued[p]]
        return free[: self.batch_size]

    def answered(self, pos: int) -> bool:
        """Answered: in this review for a suspect, else handled at all."""
        if self.review is not None and pos in self.review:
            return pos in self.review.done
        return bool(self.handled[pos])

    def positions(self) -> list[int]:
        """Every queued position (current, then next)."""
        return [*self.current.positions, *self.next.positions]

    def start_review(self, review: Any) -> None:
        """Show ``review``'s suspects from now on (the cards on screen go back to the pool)."""
        self.review = review
        self.release(self.current)
        self.release(self.next)
        self.current = self.new_batch()
        self.next = self.new_batch()

    def release(self, batch: Batch) -> None:
        """Return a batch's items to the pool (unhandled ones may be picked again)."""
        self.queued[batch.positions] = False

    def refill_next(self, *, later: bool = False) -> None:
        """Replace the prefetched batch (e.g. from a new ranking; it is not shown yet);
        ``later``: its cards are made by :meth:`make_cards` (the key path)."""
        self.release(self.next)
        self.queued[self.current.positions] = True
        self.next = self.new_batch(later=later)

    def swap(self, snapshot: RankingSnapshot) -> None:
        """Use a new ranking from now on; the prefetched batch is taken from it."""
        self.snapshot, self.cursor = snapshot, 0
        self.ran_out = False
        self.refill_next()
        snap = self.snapshot
        if snap.fitted and len(snap.scores) == len(self.handled):  # the cards on screen
            cur = self.current  # show the utility of the model in use (the histogram's)
            cards = [CardMaker.rescored(c, snap) for c in cur.cards]
            self.current = Batch(cur.id, cur.positions, cards, cur.shown_at)

    def take_ranking(self, snap: RankingSnapshot, *, replace_cold: bool = False) -> None:
        """Use a retrain's ranking: the prefetched batch comes from it, the cards on screen
        get its guesses; ``replace_cold``: a cold-start batch none of whose cards is
        answered (a resumed session's, before its first model) is replaced too."""
        cold = not self.snapshot.fitted
        untouched = not any(self.answered(p) for p in self.current.positions)
        self.swap(snap)  # atomic: the next batch comes from the new ranking
        if replace_cold and cold and untouched and snap.fitted:
            self.replace_current()
        self.update_suggestions(snap)

    def replace_current(self) -> None:
        """Take the current batch afresh from the ranking in use (nothing of it answered:
        a resumed session's cold-start batch once the first model is ready)."""
        self.release(self.current)
        self.release(self.next)
        self.cursor = 0
        shown_at = self.current.shown_at
        self.current = self.new_batch()
        self.current.shown_at = shown_at
        self.next = self.new_batch()

    def replace(self, lost: set[int]) -> list[int]:
        """Take the unanswered ``lost`` items (leased to a colleague meanwhile) off both
        batches, each replaced by a fresh pick; returns the ones taken off."""
        gone = [p for p in self.positions() if p in lost and not self.answered(p)]
        if gone:
            self.make_cards()
        for name in ("current", "next"):
            batch: Batch = getattr(self, name)
            keep = [i for i, p in enumerate(batch.positions) if p not in gone]
            if len(keep) == len(batch.positions):
                continue
            positions = [batch.positions[i] for i in keep]
            cards = [batch.cards[i] for i in keep]
            self.queued[[p for p in batch.positions if p in gone]] = False
            picked = [] if self.review is not None else self.take(len(batch.positions) - len(keep))
            made = [self.cards.card(p, r, self.snapshot) for p, r in picked]
            new = [p for p, _ in picked]
            self.queued[new] = True
            cards += self._keep(new, made)
            setattr(self, name, Batch(batch.id, positions + new, cards, batch.shown_at))
        return gone

    def advance(self) -> Batch:
        """Make the prefetched batch current (minus items answered meanwhile); prefetch
        the following one."""
        target = self.next
        self.make_cards(target)  # not made yet (a quick labeler): now, on the key path
        self.release(self.current)
        self.release(self.next)
        keep = [p for p in target.positions if not self.answered(p)]
        if len(keep) != len(target.positions):
            cards = [c for c in target.cards if not self.answered(int(c["key"]))]
            target = Batch(target.id, keep, cards)
        self.queued[keep] = True
        target.shown_at = time.time()
        self.current = target
        self.next = self.new_batch(later=True)  # its cards: make_cards, off the key path
        return self.current

    def reopen(self, pos: int) -> None:
        """Put an item back at the front of the current batch (undo from an earlier batch)."""
        if pos in self.current.positions:
            return
        if pos in self.next.positions:
            self.release(self.next)
            self.queued[self.current.positions] = True
            self.queued[pos] = True
            self.next = self.new_batch()
        card = self._shown.get(pos)
        if card is None:
            info = self.query_info.get(pos)
            card, fresh = self.cards.card(pos, None, self.snapshot, reason="brought back by undo")
            self.query_info[pos] = info if info is not None else fresh  # why it was first picked
        cur = self.current
        self.current = Batch(cur.id, [pos, *cur.positions], [card, *cur.cards], cur.shown_at)
        self.queued[pos] = True

    def update_suggestions(self, snap: RankingSnapshot) -> None:
        """A new model's guesses for the cards on screen (the items themselves stay)."""
        positions, proba = snap.also_positions, snap.also_proba
        if positions is None or proba is None:
            return
        row = {int(p): i for i, p in enumerate(positions)}
        cards = []
        for card in self.current.cards:
            i = row.get(int(card["key"]))
            if self.review is not None and int(card["key"]) in self.review:
                i = None  # a review card keeps the out-of-fold guess, not the model's own
            cards.append(card if i is None else self.cards.suggested(card, proba[i], snap))
        cur = self.current
        self.current = Batch(cur.id, cur.positions, cards, cur.shown_at)

    def is_complete(self) -> bool:
        """Every card of the current batch is answered (and there is at least one)."""
        pos = self.current.positions
        return bool(pos) and all(self.answered(p) for p in pos)

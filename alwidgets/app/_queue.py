"""The labeling queue: the current batch, the prefetched next one, and the cards.

:class:`BatchQueue` owns which pool positions are queued (current or next batch),
takes the next items from the latest :class:`~alwidgets.app._jobs.RankingSnapshot`
(skipping handled and queued ones, falling back to seeded random picks when the ranking
is used up), and builds the cards the front end shows. Which items are handled it only
reads, through a read-only view of the session's mask
(:attr:`alwidgets.app._session.SessionState.handled`); the answers shown on the cards
belong to the session too. It knows nothing about the store or the widgets;
:class:`~alwidgets.ActiveLabeler` calls it under its lock.

Examples
--------
>>> import numpy as np
>>> from alwidgets.app._jobs import RankingSnapshot
>>> snap = RankingSnapshot(version=0, n_labels=0, order=np.array([4, 2, 0, 1, 3]),
...                        scores=np.full(6, np.nan), proba=None)
>>> handled = np.zeros(6, dtype=bool)  # the session's mask (the queue only reads it)
>>> q = BatchQueue(ids=list("abcdef"), items=list("ABCDEF"), display="text",
...                classes=["x", "y"], batch_size=2, rng=np.random.default_rng(0),
...                snapshot=snap, handled=handled)
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

import html
import logging
import time
from collections import OrderedDict
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from alwidgets._utils import take_rows
from alwidgets.app._jobs import RankingSnapshot, proba_in_class_order

__all__ = ["Batch", "BatchQueue"]

logger = logging.getLogger("alwidgets")

_CACHE_SIZE = 256  # rendered items and cards kept (current + next + undo history)


@dataclass
class Batch:
    """One batch: its id, pool positions and cards (JSON-ready dicts)."""

    id: int
    positions: list[int]
    cards: list[dict[str, Any]]
    shown_at: float = field(default_factory=time.time)


class BatchQueue:
    """Current + prefetched batch over one immutable pool (see the module docstring)."""

    def __init__(
        self,
        *,
        ids: Sequence[Any],
        items: Any,
        display: Any,
        classes: list[Any],
        batch_size: int,
        rng: np.random.Generator,
        snapshot: RankingSnapshot,
        handled: np.ndarray,
        X: Any = None,
        claim: Callable[[Iterator[int], int], list[int]] | None = None,
    ) -> None:
        n = len(ids)
        self.ids, self.items, self.display, self.X = ids, items, display, X
        self.classes, self.batch_size, self._rng = classes, batch_size, rng
        self.handled = handled  # read only: the session owns it
        # team routing: claim(positions, k) leases up to k of them in the store (see _team)
        self.claim = claim
        self.queued = np.zeros(n, dtype=bool)
        self.snapshot, self.cursor = snapshot, 0
        self.query_info: dict[int, dict[str, Any]] = {}  # position -> why it was shown
        self.ran_out = False  # set when a batch needed random picks
        self.review: Any = None  # a ReviewRound while labeled items are reviewed
        self._html: OrderedDict[int, str] = OrderedDict()
        self._cards: OrderedDict[int, dict[str, Any]] = OrderedDict()  # shown, for undo
        self._counter = 0
        self.current = self.new_batch()
        self.next = self.new_batch()

    # ---- building batches ----
    def take(self, k: int) -> list[tuple[int, int | None]]:
        """Up to ``k`` (position, rank) pairs from the ranking; random when it runs out."""
        if self.claim is not None:
            return self._take_claimed(k, self.claim)
        order = self.snapshot.order
        out: list[tuple[int, int | None]] = []
        seen: set[int] = set()
        while self.cursor < len(order) and len(out) < k:
            p = int(order[self.cursor])
            self.cursor += 1
            if not self.handled[p] and not self.queued[p] and p not in seen:
                out.append((p, self.cursor))
                seen.add(p)
        if len(out) < k:
            free = ~(self.handled | self.queued)
            free[list(seen)] = False
            rest = np.flatnonzero(free)
            if rest.size:
                extra = self._rng.choice(rest, size=min(k - len(out), rest.size), replace=False)
                out.extend((int(p), None) for p in extra)
                self.ran_out = True
        return out

    def _take_claimed(
        self, k: int, claim: Callable[[Iterator[int], int], list[int]]
    ) -> list[tuple[int, int | None]]:
        """Like :meth:`take`, but only items the store lets this annotator claim: those
        labeled or leased by colleagues are passed over (see ``_team``)."""
        order = self.snapshot.order
        rank: dict[int, int] = {}

        def ranked() -> Iterator[int]:
            for i in range(self.cursor, len(order)):
                p = int(order[i])
                if not self.handled[p] and not self.queued[p] and p not in rank:
                    rank[p] = i + 1
                    yield p

        got = claim(ranked(), k)
        out: list[tuple[int, int | None]] = [(p, rank.get(p)) for p in got]
        if got:  # passed-over items come back with the next ranking
            self.cursor = max(rank[p] for p in got if p in rank)
        if len(out) < k:
            free = ~(self.handled | self.queued)
            free[got] = False
            rest = self._rng.permutation(np.flatnonzero(free))
            extra = claim(iter(int(p) for p in rest), k - len(out))
            out.extend((p, None) for p in extra)
            if extra:
                self.ran_out = True
        return out

    def new_batch(self) -> Batch:
        """Take a batch (review suspects first, else the ranking) and mark its items queued."""
        self._counter += 1
        suspects = self._review_positions()
        if suspects:
            cards = [self.review_card(p) for p in suspects]
            batch = Batch(self._counter, suspects, cards)
        else:
            picked = self.take(self.batch_size)
            batch = Batch(
                self._counter, [p for p, _ in picked], [self.card(p, r) for p, r in picked]
            )
        self.queued[batch.positions] = True
        for pos, card in zip(batch.positions, batch.cards, strict=True):
            self._cards[pos] = card
            self._cards.move_to_end(pos)
        while len(self._cards) > _CACHE_SIZE:
            self._cards.popitem(last=False)
        return batch

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

    def start_review(self, review: Any) -> None:
        """Show ``review``'s suspects from now on (the cards on screen go back to the pool)."""
        self.review = review
        self.release(self.current)
        self.release(self.next)
        self.current = self.new_batch()
        self.next = self.new_batch()

    def review_card(self, pos: int) -> dict[str, Any]:
        """A card for a labeled item under review: its label, the models' guess, the score."""
        info = self.review.info[pos]
        label, guess = info["label"], info["guess"]
        why = f"review: labeled {label!r}, models guess {guess!r}"
        why_long = (
            f"{why} out of fold (p={info['p_guess']:.2f}; suspicion {info['score']:.2f}). "
            "Press its class to keep the label, another class to change it, s to keep."
        )
        card = self.card(pos, None, reason=why, kind="review")
        ci = self.classes.index(guess) if guess in self.classes else None
        return {**card, "why_long": why_long, "suggestion": ci, "confidence": info["p_guess"]}

    def release(self, batch: Batch) -> None:
        """Return a batch's items to the pool (unhandled ones may be picked again)."""
        self.queued[batch.positions] = False

    def refill_next(self) -> None:
        """Replace the prefetched batch (e.g. from a new ranking; it is not shown yet)."""
        self.release(self.next)
        self.queued[self.current.positions] = True
        self.next = self.new_batch()

    def swap(self, snapshot: RankingSnapshot) -> None:
        """Use a new ranking from now on; the prefetched batch is taken from it."""
        self.snapshot, self.cursor = snapshot, 0
        self.refill_next()
        self.rescore_current()

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

    def rescore_current(self) -> None:
        """Show the current model's utility on the cards on screen.

        The cards keep their items and why they were picked, but the score they show
        is the one of the ranking in use: the same number the uncertainty histogram
        places them at (a pick-time score from an older model, e.g. the ~1.00 margin of
        the first model's top picks, would contradict the histogram).
        """
        snap = self.snapshot
        if not snap.fitted or len(snap.scores) != len(self.ids):
            return
        cards = []
        for card in self.current.cards:
            score = float(snap.scores[int(card["key"])])
            if np.isfinite(score):
                why, why_long = _describe(card.get("picked", {}), snap, score)
                card = {**card, "score": score, "why": why, "why_long": why_long}
            cards.append(card)
        cur = self.current
        self.current = Batch(cur.id, cur.positions, cards, cur.shown_at)

    def advance(self) -> Batch:
        """Make the prefetched batch current (minus items answered meanwhile); prefetch
        the following one."""
        target = self.next
        self.release(self.current)
        self.release(self.next)
        keep = [p for p in target.positions if not self.answered(p)]
        if len(keep) != len(target.positions):
            cards = [c for c in target.cards if not self.answered(int(c["key"]))]
            target = Batch(target.id, keep, cards)
        self.queued[keep] = True
        target.shown_at = time.time()
        self.current = target
        self.next = self.new_batch()
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
        card = self._cards.get(pos)
        if card is None:
            info = self.query_info.get(pos)
            card = self.card(pos, None, reason="brought back by undo")
            if info is not None:
                self.query_info[pos] = info  # keep why it was first picked
        cur = self.current
        self.current = Batch(cur.id, [pos, *cur.positions], [card, *cur.cards], cur.shown_at)
        self.queued[pos] = True

    def update_suggestions(self, positions: np.ndarray | None, proba: np.ndarray | None) -> None:
        """A new model's guesses for the cards on screen (the items themselves stay)."""
        if positions is None or proba is None:
            return
        row = {int(p): i for i, p in enumerate(positions)}
        cards = []
        for card in self.current.cards:
            i = row.get(int(card["key"]))
            if self.review is not None and int(card["key"]) in self.review:
                i = None  # a review card keeps the out-of-fold guess, not the model's own
            if i is not None and proba[i].sum() > 0:
                best = int(np.argmax(proba[i]))
                card = {**card, "suggestion": best, "confidence": float(proba[i][best])}
            cards.append(card)
        cur = self.current
        self.current = Batch(cur.id, cur.positions, cards, cur.shown_at)

    def is_complete(self) -> bool:
        """Every card of the current batch is answered (and there is at least one)."""
        pos = self.current.positions
        return bool(pos) and all(self.answered(p) for p in pos)

    # ---- cards ----
    def card(
        self, pos: int, rank: int | None, reason: str | None = None, kind: str = "undo"
    ) -> dict[str, Any]:
        """The JSON card for ``pos``: rendered item, suggestion, and why it was picked."""
        snap = self.snapshot
        score = float(snap.scores[pos]) if pos < len(snap.scores) else float("nan")
        finite = bool(np.isfinite(score))
        proba = None
        if rank is not None and snap.proba is not None and rank - 1 < len(snap.proba):
            proba = snap.proba[rank - 1]
        elif snap.fitted and self.X is not None:
            try:
                rows = take_rows(self.X, np.array([pos]))
                proba = proba_in_class_order(snap.learner, rows, self.classes)[0]
            except Exception:  # the card still works without a suggestion
                logger.exception("alwidgets: predicting item %r failed", self.ids[pos])
        suggestion = confidence = None
        if proba is not None and proba.sum() > 0:
            suggestion = int(np.argmax(proba))
            confidence = float(proba[suggestion])
        fitted = snap.fitted
        if reason is not None:
            strategy, why, why_long = kind, reason, reason
        elif rank is None:
            strategy, why = "random", "random pick"
            why_long = "the ranking is used up; picked at random until the next retrain"
        elif not fitted:
            strategy, why = "cold_start", f"cold start #{rank}"
            why_long = "a diverse, representative pick (no model yet)"
        else:
            strategy = snap.strategy
            why = f"{strategy} {score:.3f} · #{rank}" if finite else f"#{rank}"
            why_long = (
                f"picked by {strategy} from model v{snap.version}: utility {score:.3f} "
                f"(higher = more informative), rank {rank} of {len(snap.order)} ranked"
            )
        self.query_info[pos] = {
            "model_version": snap.version if fitted else None,
            "score": score if finite else None,
            "rank": rank,
            "strategy": strategy,
        }
        return {
            "key": str(pos),
            "item_id": self.ids[pos],
            "html": self.render(pos),
            "suggestion": suggestion,
            "confidence": confidence,
            "score": score if finite else None,
            "rank": rank,
            "why": why,
            "why_long": why_long,
            "picked": {
                "strategy": strategy,
                "version": snap.version if fitted else None,
                "score": score if finite else None,
                "rank": rank,
                "why": why,
            },
        }

    def render(self, pos: int) -> str:
        """HTML of one item (cached: only queued items are ever rendered)."""
        from alwidgets.display import render

        cached = self._html.get(pos)
        if cached is not None:
            self._html.move_to_end(pos)
            return cached
        try:
            out = render(self.item(pos), self.display)
        except Exception as err:  # a user's renderer failing must not stop labeling
            logger.exception("alwidgets: rendering item %r failed", self.ids[pos])
            msg = html.escape(f"{type(err).__name__}: {err}")
            out = f'<div class="alw-render-error">cannot show this item: {msg}</div>'
        self._html[pos] = out
        if len(self._html) > _CACHE_SIZE:
            self._html.popitem(last=False)
        return out

    def item(self, pos: int) -> Any:
        """What the person sees for ``pos`` (a row of a DataFrame, an image, a text...)."""
        items = self.items
        if hasattr(items, "iloc"):
            return items.iloc[pos]
        if hasattr(items, "tocsr"):  # sparse rows: show the non-zero features
            row = items[pos].tocoo()
            return {f"x{j}": v for j, v in zip(row.col[:30], row.data[:30], strict=True)}
        return items[pos]


def _describe(picked: dict[str, Any], snap: RankingSnapshot, score: float) -> tuple[str, str]:
    """A card's short and long reason: why it was picked, with the current model's score.

    >>> snap = RankingSnapshot(version=3, n_labels=9, order=np.arange(2),
    ...                        scores=np.zeros(2), proba=None, strategy="margin")
    >>> _describe({"strategy": "margin", "version": 2, "score": 0.998, "rank": 4}, snap, 0.61)[0]
    'margin 0.610 · #4'
    >>> _describe({"strategy": "cold_start", "rank": 9, "why": "cold start #9"}, snap, 0.5)[0]
    'cold start #9 · margin 0.500'
    """
    now = f"{snap.strategy} {score:.3f}"
    strategy, rank = picked.get("strategy"), picked.get("rank")
    long_now = f"model v{snap.version} gives it {snap.strategy} utility {score:.3f} (higher = more informative)"
    if strategy in (None, "undo", "review", "random", "cold_start"):
        first = picked.get("why") or "shown earlier"
        return f"{first} · {now}", f"{first}; {long_now}"
    then = picked.get("score")
    was = f" (utility {then:.3f} then)" if isinstance(then, float) else ""
    why_long = f"picked #{rank} by {strategy} from model v{picked.get('version')}{was}; {long_now}"
    return (f"{now} · #{rank}" if rank is not None else now), why_long

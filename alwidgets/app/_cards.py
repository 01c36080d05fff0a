"""Cards: one pool item as the JSON the front end shows (rendered item, guess, why).

:class:`CardMaker` turns a pool position and the ranking it was picked from into a
card dict (``key``, ``item_id``, ``html``, ``suggestion``, ``confidence``,
``suggested_by``, ``model_suggestion``, ``score``, ``rank``, ``why``, ``why_long``,
``picked``; a card may carry more fields, the front end ignores what it does not know)
and the *query info* the store records with an
answer about it (``model_version``, ``score``, ``rank``, ``strategy``). It renders
each item once (a small cache) and never decides which items are shown: that is the
queue's job (:mod:`._queue`).

The suggestion shown is the model's guess (``suggested_by="model"``, ``confidence`` its
probability) or, with class descriptions, the zero-shot guess
(``suggested_by="zero-shot"``, ``confidence`` the cosine similarity) before the first
model and until the model's suggestions beat it (:mod:`._descriptions`);
``model_suggestion`` is the model's guess either way (the prequential figure's).

Examples
--------
>>> import numpy as np
>>> from alwidgets.app._jobs import RankingSnapshot
>>> snap = RankingSnapshot(version=0, n_labels=0, order=np.array([2, 0]),
...                        scores=np.full(3, np.nan), proba=None)
>>> maker = CardMaker(ids=["a", "b", "c"], items=["A", "B", "C"], display="text",
...                   classes=["x", "y"])
>>> card, info = maker.card(2, 1, snap)
>>> card["item_id"], card["why"], info["rank"], info["strategy"]
('c', 'cold start #1', 1, 'cold_start')
"""

from __future__ import annotations

import html
import logging
from collections import OrderedDict
from collections.abc import Sequence
from typing import Any

import numpy as np

from alwidgets.app import _multilabel as ml
from alwidgets.app._descriptions import ZeroShotCards, zero_shot_suggests
from alwidgets.app._jobs import RankingSnapshot

__all__ = ["CardMaker"]

logger = logging.getLogger("alwidgets")

_CACHE_SIZE = 256  # rendered items kept (current + next + undo history)


class CardMaker:
    """Builds cards for one immutable pool (see the module docstring).

    No model runs here (cards are built on the key path): a card's guess comes from the
    ranking it was picked from; a card outside it (a random pick, an undo) gets one when
    the next retrain re-predicts the cards on screen.
    """

    def __init__(
        self, *, ids: Sequence[Any], items: Any, display: Any, classes: list[Any],
        multi_label: bool = False,
        zero_shot: ZeroShotCards | None = None,
    ) -> None:  # fmt: skip
        self.ids, self.items, self.display, self.classes = ids, items, display, classes
        self.multi_label = multi_label  # a guess is a set of classes (chips), not one class
        self.zero_shot = zero_shot  # read only: the pool's zero-shot guesses
        self._html: OrderedDict[int, str] = OrderedDict()

    def card(
        self,
        pos: int,
        rank: int | None,
        snap: RankingSnapshot,
        reason: str | None = None,
        kind: str = "undo",
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """``(card, query info)`` for ``pos``, picked at 1-based ``rank`` of ``snap``
        (``None``: a random pick), or shown for ``reason`` (``kind``: undo, review...)."""
        score = float(snap.scores[pos]) if pos < len(snap.scores) else float("nan")
        finite = bool(np.isfinite(score))
        proba = None  # a pick outside the ranking: a guess at the next retrain, not now
        if rank is not None and snap.proba is not None and rank - 1 < len(snap.proba):
            proba = snap.proba[rank - 1]
        guess = self._guess(proba)
        fitted = snap.fitted
        if reason is not None:
            strategy, why, why_long = kind, reason, reason
        elif rank is None:
            strategy, why = "random", "random pick"
            why_long = "the ranking is used up; picked at random until the next retrain"
        elif snap.strategy == "describe":  # before the first model, or in its phase
            strategy, why = "describe", f"described #{rank}"
            why_long = ("picked by the class descriptions: close to one class's description, "
                        "for the classes with the fewest labels, diverse")  # fmt: skip
            if snap.phase is not None:
                why_long += f" ({snap.phase.reason})"
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
        if reason is None and rank is not None and fitted and snap.utility is not None:
            u = float(snap.utility[pos])  # random picks: the model's doubt, not the coin flip
            why = f"{strategy} #{rank} · mean margin {u:.3f}"
            why_long = (
                f"picked at random (model v{snap.version}); its mean margin over classes is {u:.3f}"
            )
        version = snap.version if fitted else None
        kept = score if finite else None
        info = {"model_version": version, "score": kept, "rank": rank, "strategy": strategy}
        card = {
            "key": str(pos),
            "item_id": self.ids[pos],
            "html": self.render(pos),
            **guess,
            "suggested_by": None if guess["suggestion"] is None else "model",
            "model_suggestion": guess["suggestion"],
            "score": kept,
            "rank": rank,
            "why": why,
            "why_long": why_long,
            "picked": {
                "strategy": strategy,
                "version": version,
                "score": kept,
                "rank": rank,
                "why": why,
            },
        }
        return self.zero_shot_guess(card, snap), info

    def zero_shot_guess(self, card: dict[str, Any], snap: RankingSnapshot) -> dict[str, Any]:
        """The card with the zero-shot suggestion while it is the one shown (else as is)."""
        zs = self.zero_shot
        if zs is None or not zero_shot_suggests(snap):
            return card
        pos = int(card["key"])
        guess = {"suggestion": int(zs.index[pos]), "confidence": float(zs.score[pos])}
        return {**card, **guess, "suggested_by": "zero-shot"}

    def review_card(
        self, pos: int, info: dict[str, Any], snap: RankingSnapshot
    ) -> tuple[dict[str, Any], dict[str, Any]]:
        """A card for a labeled item under review: its label, the models' guess, the score."""
        if self.multi_label:  # one suspect (item, class) bit: "is 'economy' right here?"
            fields = ml.review_fields(info, self.classes)
            card, query = self.card(pos, None, snap, reason=fields["why"], kind="review")
            return {**card, **fields}, query
        label, guess = info["label"], info["guess"]
        why = f"review: labeled {label!r}, models guess {guess!r}"
        why_long = (
            f"{why} out of fold (p={info['p_guess']:.2f}; suspicion {info['score']:.2f}). "
            "Press its class to keep the label, another class to change it, s to keep."
        )
        card, query = self.card(pos, None, snap, reason=why, kind="review")
        ci = self.classes.index(guess) if guess in self.classes else None
        card = {**card, "why_long": why_long, "suggestion": ci, "confidence": info["p_guess"],
                "suggested_by": "review"}  # fmt: skip
        return card, query

    @staticmethod
    def rescored(card: dict[str, Any], snap: RankingSnapshot) -> dict[str, Any]:
        """The card with the utility of the ranking in use (the histogram's number)."""
        shown = snap.utility if snap.utility is not None else snap.scores
        score = float(shown[int(card["key"])])
        if not np.isfinite(score):
            return card
        name = "mean margin" if snap.utility is not None else snap.strategy
        why, why_long = _describe(card.get("picked", {}), snap, score, name)
        return {**card, "score": score, "why": why, "why_long": why_long}

    def suggested(
        self, card: dict[str, Any], proba: np.ndarray, snap: RankingSnapshot
    ) -> dict[str, Any]:
        """The card with a new model's guess (class probabilities in session order); the
        zero-shot guess stays shown while it is preferred."""
        guess = self._guess(proba)
        if guess["suggestion"] is None:
            return card
        card = {**card, **guess, "suggested_by": "model", "model_suggestion": guess["suggestion"]}
        return self.zero_shot_guess(card, snap)

    def _guess(self, proba: np.ndarray | None) -> dict[str, Any]:
        """``suggestion`` and ``confidence`` (``None``: no model): the likeliest class, or
        (multi-label) the predicted set with ``proba`` per class."""
        if self.multi_label:
            return ml.suggestion(proba)
        if proba is None or proba.sum() <= 0:
            return {"suggestion": None, "confidence": None}
        best = int(np.argmax(proba))
        return {"suggestion": best, "confidence": float(proba[best])}

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


def _describe(
    picked: dict[str, Any], snap: RankingSnapshot, score: float, name: str | None = None
) -> tuple[str, str]:
    """A card's short and long reason: why it was picked, with the current model's score.

    >>> snap = RankingSnapshot(version=3, n_labels=9, order=np.arange(2),
    ...                        scores=np.zeros(2), proba=None, strategy="margin")
    >>> _describe({"strategy": "margin", "version": 2, "score": 0.998, "rank": 4}, snap, 0.61)[0]
    'margin 0.610 · #4'
    >>> _describe({"strategy": "cold_start", "rank": 9, "why": "cold start #9"}, snap, 0.5)[0]
    'cold start #9 · margin 0.500'
    """
    name = name or snap.strategy
    now = f"{name} {score:.3f}"
    strategy, rank = picked.get("strategy"), picked.get("rank")
    long_now = (
        f"model v{snap.version} gives it {name} utility {score:.3f} (higher = more informative)"
    )
    if strategy in (None, "undo", "review", "cold_start", "describe") or (
        strategy == "random" and rank is None
    ):
        first = (picked.get("why") or "shown earlier").split(" · ")[0]  # not an old utility
        return f"{first} · {now}", f"{first}; {long_now}"
    then = picked.get("score")
    was = f" (utility {then:.3f} then)" if isinstance(then, float) else ""
    why_long = f"picked #{rank} by {strategy} from model v{picked.get('version')}{was}; {long_now}"
    return (f"{now} · #{rank}" if rank is not None else now), why_long

"""Review mode: the most suspect labeled items come back as cards, to keep or change.

:func:`find_suspects` ranks the labeled items with
:func:`alwidgets.review.suspect_labels` (out of fold: no model judges a label it was
trained on); the controller switches the queue to them (a :class:`ReviewRound`). On a
review card the usual keys apply: a class key records that label (the same one =
*kept*, another = *changed*), ``s`` keeps the label, ``u`` marks it unsure
(:func:`review_outcome`). Every answer is a new event in the store, tagged
``strategy="review"`` (the history stays; undo steps back as usual). When every
suspect is answered, the normal ranking takes over again.

Examples
--------
>>> r = ReviewRound.from_ranking([4, 1], {4: {"label": "a", "guess": "b"},
...                                       1: {"label": "b", "guess": "a"}})
>>> r.mark(4, "kept"); r.status()
'review 1 / 2 · 0 changed'
>>> r.remaining(), r.finished
([1], False)
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from alwidgets._utils import take_rows
from alwidgets.exceptions import InvalidInputError

__all__ = ["OUTCOMES", "ReviewRound", "find_suspects", "review_outcome"]

#: What a review answer did to the label.
OUTCOMES = ("kept", "changed", "unsure")


@dataclass
class ReviewRound:
    """The suspects of one review, most suspect first, and what became of each."""

    positions: list[int]
    info: dict[int, dict[str, Any]]
    done: dict[int, str] = field(default_factory=dict)

    @classmethod
    def from_ranking(cls, positions: list[int], info: dict[int, dict[str, Any]]) -> ReviewRound:
        return cls([int(p) for p in positions], {int(p): info[p] for p in positions})

    @classmethod
    def from_frame(cls, frame: pd.DataFrame) -> ReviewRound:
        """The suspects of :func:`find_suspects` (index: positions), in its order; an item
        listed several times (multi-label: several suspect classes) is shown once, for
        its most suspect row."""
        records: list[dict[str, Any]] = frame.to_dict("records")  # type: ignore[assignment]
        info: dict[int, dict[str, Any]] = {}
        for p, row in zip(frame.index, records, strict=True):
            info.setdefault(int(p), row)
        return cls.from_ranking(list(info), info)

    def __contains__(self, pos: object) -> bool:
        return pos in self.info

    @property
    def total(self) -> int:
        return len(self.positions)

    @property
    def finished(self) -> bool:
        return len(self.done) >= self.total

    @property
    def n_changed(self) -> int:
        return sum(1 for v in self.done.values() if v == "changed")

    def remaining(self) -> list[int]:
        """Suspects not answered yet, in order."""
        return [p for p in self.positions if p not in self.done]

    def mark(self, pos: int, outcome: str) -> None:
        self.done[pos] = outcome

    def unmark(self, pos: int) -> None:
        self.done.pop(pos, None)

    def status(self) -> str:
        """One line for the stats panel."""
        text = f"review {len(self.done)} / {self.total} · {self.n_changed} changed"
        return text + (" · done" if self.finished else "")

    def progress(self) -> dict[str, int]:
        """``{"total", "done", "kept", "changed", "unsure"}``."""
        out = {"total": self.total, "done": len(self.done)}
        for outcome in OUTCOMES:
            out[outcome] = sum(1 for v in self.done.values() if v == outcome)
        return out


def find_suspects(
    estimator: Any, X: Any, labels: dict[int, Any], n: int | None, seed: int,
    classes: list[Any] | None = None,
) -> pd.DataFrame:  # fmt: skip
    """:func:`~alwidgets.review.suspect_labels` on the labeled positions (index = positions).

    ``n=None`` keeps the items whose out-of-fold guess differs from their label. Items
    of a class with a single label cannot be judged out of fold and are left out.
    Label sets (multi-label, with ``classes``): one row per suspect (item, class) bit
    (:func:`~alwidgets.app._multilabel.find_set_suspects`); ``n`` counts rows.
    """
    from alwidgets.review import suspect_labels

    if n is not None and (isinstance(n, bool) or not isinstance(n, int | np.integer) or n < 1):
        raise InvalidInputError(f"review(n) needs n >= 1 (items to review) or None, got {n!r}.")
    if classes is not None and any(isinstance(v, tuple) for v in labels.values()):
        from alwidgets.app._multilabel import find_set_suspects

        sets = find_set_suspects(estimator, X, labels, classes, seed)
        return sets if n is None else sets.head(int(n))
    counts = pd.Series(list(labels.values())).value_counts()
    judged = {p: v for p, v in labels.items() if counts[v] >= 2}
    positions = np.array(sorted(judged), dtype=np.intp)
    if len(positions) < 4:
        raise InvalidInputError(
            f"review needs a few labels to judge them out of fold; there are {len(positions)}. "
            "Label more items first."
        )
    y = pd.Series([judged[int(p)] for p in positions], index=positions)
    frame = suspect_labels(estimator, take_rows(X, positions), y, random_state=seed)
    if n is None:
        return frame[frame["guess"] != frame["label"]]
    return frame.head(int(n))


def review_outcome(
    round_: ReviewRound | None, current: Any, pos: int, action: str, label: Any
) -> tuple[str, Any, str | None]:
    """``(action, label, outcome)`` of an answer; ``outcome`` is None off review cards.

    ``current`` is the item's label now. A skip on a review card keeps the label: it
    becomes a label event with the same label, so undo and the history treat it like
    any other answer.

    >>> r = ReviewRound.from_ranking([4], {4: {"label": "a", "guess": "b"}})
    >>> review_outcome(r, "a", 4, "skip", None), review_outcome(r, "a", 4, "label", "b")
    (('label', 'a', 'kept'), ('label', 'b', 'changed'))
    >>> review_outcome(None, "a", 4, "skip", None)
    ('skip', None, None)
    """
    if round_ is None or pos not in round_:
        return action, label, None
    if action == "skip" and current is not None:
        action, label = "label", current
    if action == "unsure":
        return action, label, "unsure"
    return action, label, "kept" if label == current else "changed"

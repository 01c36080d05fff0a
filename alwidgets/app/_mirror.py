"""The store's mirror in one labeler: what each item's live actions are, kept incrementally.

The store decides what is labeled; :class:`SessionMirror` mirrors it so that the key
path never reads a DataFrame. It holds every *live* event (an action no undo has
reverted) by event id, per item, in id order — the app's own answers as they are
written, the team's as they are followed (``store.changes_since``) — and derives from
them, one item at a time:

* the item's label for training (the latest live label, anyone's: the store's
  ``labels`` view), the counts per class and per annotator (the stats panel);
* what a card shows and whether an item is *handled* (the read-only mask the queue
  reads): this annotator's own latest action with ``mine_only`` (a team labeling each
  item several times), else anyone's (the store's ``state`` view);
* this app's undo stack, and the answers the store kept as conflicts.

Nothing here writes to the store: the controller writes, then tells the mirror the
event id. Event ids follow commit order, so the mirror also knows the last id up to
which it has seen everything (:attr:`seen`): an own write whose id is not ``seen + 1``
shows that someone else wrote in between.

Examples
--------
>>> mirror = SessionMirror(ids=[10, 11, 12], classes=["a", "b"], annotator="ana")
>>> mirror.own(1, 1, "label", "b")
False
>>> mirror.own(2, 1, "skip", None)
False
>>> mirror.handled.tolist(), mirror.answers([0, 1])
([False, True, False], {'1': {'action': 'skip', 'class_index': None}})
>>> mirror.wrote(3), mirror.undo_own({"event_id": 2}), mirror.answers([1])  # undo: event 3
(False, 1, {'1': {'action': 'label', 'class_index': 1}})
>>> mirror.own(9, 0, "label", "a")  # ids 4..8 are someone else's: a team is at work
True
>>> mirror.handled[0] = True
Traceback (most recent call last):
...
ValueError: assignment destination is read-only
"""

from __future__ import annotations

import logging
from collections import Counter
from collections.abc import Iterable, Sequence
from typing import Any, NamedTuple

import numpy as np
import pandas as pd

from alwidgets._utils import plain
from alwidgets.exceptions import InvalidInputError

__all__ = ["ACTIONS", "SessionMirror"]

logger = logging.getLogger("alwidgets")

#: The answers a person can give an item.
ACTIONS = ("label", "skip", "unsure")

#: Undo references kept (this app's actions, newest last).
_UNDO_DEPTH = 1000


class _Event(NamedTuple):
    pos: int | None  # None: an item of another pool sharing the store
    annotator: str
    action: str
    label: Any


class SessionMirror:
    """Live events per item and what follows from them (see the module docstring).

    Parameters
    ----------
    ids : sequence
        The pool's item ids, by position.
    classes : list
        The session's classes (for the cards' ``class_index``).
    annotator : str
        This app's annotator.
    mine_only : bool, default False
        Cards, the handled mask and undo are this annotator's own (overlap > 1);
        otherwise an item anyone answered is handled.
    multi_label : bool, default False
        Labels are tuples of classes: :attr:`per_class` counts the items each class
        applies to (``()``: those that named none), cards get ``class_indices``.
    """

    def __init__(
        self, ids: Sequence[Any], classes: list[Any], *, annotator: str, mine_only: bool = False,
        multi_label: bool = False,
    ) -> None:  # fmt: skip
        self.ids, self.classes = ids, list(classes)
        self.annotator, self.mine_only, self.multi_label = annotator, mine_only, multi_label
        self.index = pd.Index(ids)
        self.seen = 0  # every event up to this id is mirrored
        self._live: dict[int, _Event] = {}  # live event id -> event
        self._by_pos: dict[int, list[int]] = {}  # position -> live event ids, oldest first
        self._shown: dict[int, tuple[str, Any]] = {}  # position -> (action, label) on its card
        self._team_label: dict[int, Any] = {}  # position -> the label to train on
        self._handled = np.zeros(len(ids), dtype=bool)
        self._view = self._handled.view()
        self._view.flags.writeable = False
        self.per_class: Counter[Any] = Counter()  # labels to train on, per class
        self.per_annotator: Counter[str] = Counter()  # live label events, per annotator
        self.actions: Counter[str] = Counter()  # what the cards show, per action
        self.conflicts: dict[int, str] = {}  # own answers the store kept as conflicts
        self._conflict_ids: dict[int, int] = {}  # their live event ids -> position
        # this app's actions, newest last: (position, (view session, seq) or None)
        self._done: list[tuple[int, tuple[str, int] | None]] = []

    # ---- loading and following ----
    def load(self, events: pd.DataFrame) -> None:
        """Mirror a store's whole log once (at open): its live events and last id."""
        if not len(events):
            return
        live = events[~events["undone"] & events["action"].isin(ACTIONS)]
        pos = self.index.get_indexer(pd.Index(live["item_id"].to_numpy(dtype=object)))
        unknown = int((pos < 0).sum())
        if unknown:
            logger.warning(
                "alwidgets: %d event(s) in the store are about items not in this pool; "
                "they are ignored.",
                unknown,
            )
        rows = zip(live.index, pos, live["annotator"], live["action"], live["label"], strict=True)
        for event_id, p, who, action, label in rows:
            self.add(int(event_id), None if p < 0 else int(p), str(who), str(action), label)
        mine = events[~events["undone"] & (events["action"] == "conflict")
                      & (events["annotator"] == self.annotator)]  # fmt: skip
        for event_id, item in zip(mine.index, mine["item_id"], strict=True):
            p = self.index.get_indexer(pd.Index([item]))[0]
            if p >= 0:
                self._conflict_ids[int(event_id)] = int(p)
                self.conflicts[int(p)] = "kept as a conflict: a colleague labeled it first"
                self._derive(int(p))
        self.seen = int(events.index.max())

    def follow(self, events: pd.DataFrame) -> tuple[set[int], int]:
        """Mirror the events after :attr:`seen` (``store.changes_since``); returns the
        positions that changed and how many colleagues' labels arrived."""
        changed: set[int] = set()
        n = 0
        if events is None or not len(events):
            return changed, n
        pos = self.index.get_indexer(pd.Index(events["item_id"].to_numpy(dtype=object)))
        rows = zip(events.index, pos, events["annotator"], events["action"], events["label"],
                   events["undoes"], strict=True)  # fmt: skip
        for event_id, p, who, action, label, undoes in rows:
            event_id = int(event_id)
            if action == "undo":
                hit = self.remove(int(undoes)) if pd.notna(undoes) else None
            elif action in ACTIONS and event_id not in self._live:
                hit = self.add(event_id, None if p < 0 else int(p), str(who), str(action), label)
                n += int(action == "label" and who != self.annotator)
            else:
                continue
            if hit is not None:
                changed.add(hit)
        self.seen = max(self.seen, int(events.index.max()))
        return changed, n

    def add(
        self, event_id: int, pos: int | None, annotator: str, action: str, label: Any
    ) -> int | None:
        """Mirror one live event (idempotent); returns its position."""
        if event_id in self._live:
            return pos
        label = plain(label) if action == "label" else None
        if isinstance(label, list | tuple):  # a multi-label set, hashable
            label = tuple(plain(c) for c in label)
        self._live[event_id] = _Event(pos, annotator, action, label)
        if action == "label":
            self.per_annotator[annotator] += 1
        if pos is not None:
            self._by_pos.setdefault(pos, []).append(event_id)
            self._by_pos[pos].sort()
            self._derive(pos)
        return pos

    def remove(self, event_id: int) -> int | None:
        """An undo reverted this event; returns its position (``None``: not mirrored)."""
        event = self._live.pop(event_id, None)
        if event is None:
            return None
        if event.action == "label":
            self.per_annotator[event.annotator] -= 1
        if event.pos is not None:
            self._by_pos[event.pos].remove(event_id)
            self._derive(event.pos)
        return event.pos

    # ---- this app's own answers ----
    def own(self, event_id: int, pos: int, action: str, label: Any,
            ref: tuple[str, int] | None = None) -> bool:  # fmt: skip
        """Mirror an own answer the store committed as ``event_id``; whether it shows
        that someone else wrote in between (its id is not the next one)."""
        gap = self.wrote(event_id)
        self.conflicts.pop(pos, None)
        self.add(event_id, pos, self.annotator, action, label)
        self._push(pos, ref)
        return gap

    def wrote(self, event_id: int) -> bool:
        """This app wrote event ``event_id``; whether someone else wrote in between."""
        gap = event_id != self.seen + 1
        if not gap:
            self.seen = event_id
        return gap

    def conflict(
        self, event_id: int, pos: int, text: str, ref: tuple[str, int] | None = None
    ) -> bool:
        """An own label the store kept as a conflict event (enough others labeled the
        item first): answered here, never a label; undoable like any action. Whether
        someone else wrote in between."""
        gap = self.wrote(event_id)
        self.conflicts[pos] = text
        self._conflict_ids[event_id] = pos
        self._derive(pos)
        self._push(pos, ref)
        return gap

    def undo_own(self, event: dict[str, Any]) -> int | None:
        """Mirror the store's undo of this annotator's ``event``; returns its position
        (``None``: an item of another pool, or an event not mirrored yet)."""
        pos = self._conflict_ids.pop(int(event["event_id"]), None)
        if pos is not None:  # a conflict undone: the answer is gone, no label changes
            self.conflicts.pop(pos, None)
            self._derive(pos)
        else:
            pos = self.remove(int(event["event_id"]))
        if pos is None:
            return None
        if self._done and self._done[-1][0] == pos:
            self._done.pop()
        else:  # an action from before this app (a resumed session): order unknown
            self._done.clear()
        return pos

    def undo_mismatch(self, key: str, target_seq: int | None, session: str | None) -> str | None:
        """Why an undo naming card ``key`` (action ``target_seq``) must be refused, or None."""
        if not self._done:
            return "there is no action of this session left to undo"
        pos, ref = self._done[-1]
        last = f"the last action is on item {self.ids[pos]!r}"
        if str(pos) != key:
            return f"{last}, not on card {key}"
        if target_seq is not None and (ref is None or ref != (session, target_seq)):
            return f"{last}, but it is not the action #{target_seq} of this view"
        return None

    # ---- reading ----
    @property
    def handled(self) -> np.ndarray:
        """Read-only mask: the item is answered (labeled, skipped, unsure, a conflict)."""
        return self._view

    @property
    def labels(self) -> dict[int, Any]:
        """Position -> the label to train on (the team's; a copy)."""
        return dict(self._team_label)

    @property
    def n_labeled(self) -> int:
        return len(self._team_label)

    def trainable(self) -> bool:
        """Labels of at least two classes (multi-label: any labeled set; a class with no
        positive yet gets a constant prior): a model can be fit."""
        if self.multi_label:
            return self.n_labeled > 0
        return sum(1 for n in self.per_class.values() if n > 0) >= 2

    def label_of(self, pos: int) -> Any:
        """The label the item's card shows (``None``: not labeled)."""
        shown = self._shown.get(pos)
        return shown[1] if shown is not None and shown[0] == "label" else None

    def answer(self, pos: int) -> dict[str, Any] | None:
        """What a card shows as answered: ``{"action", "class_index"}`` or ``None``."""
        shown = self._shown.get(pos)
        if shown is None:
            text = self.conflicts.get(pos)
            return None if text is None else {"action": "conflict", "class_index": None,
                                              "note": text}  # fmt: skip
        action, label = shown
        if action == "label" and isinstance(label, tuple):  # a set: its classes' indices
            indices = [self.classes.index(c) for c in label if c in self.classes]
            return {"action": action, "class_index": None, "class_indices": indices}
        ci = self.classes.index(label) if action == "label" and label in self.classes else None
        return {"action": action, "class_index": ci}

    def answers(self, positions: Iterable[int]) -> dict[str, dict[str, Any]]:
        """Card key -> answer, for the answered ones of ``positions``."""
        out = {}
        for pos in positions:
            answer = self.answer(pos)
            if answer is not None:
                out[str(pos)] = answer
        return out

    def pos(self, item_id: Any) -> int:
        """Position of ``item_id`` in the pool (``InvalidInputError`` if it is not there)."""
        try:
            pos = self.index.get_loc(plain(item_id))
        except (KeyError, TypeError):
            pos = None
        if not isinstance(pos, int | np.integer):
            raise InvalidInputError(
                f"item {item_id!r} is not in the pool; ids are the DataFrame index or "
                f"0..{len(self.ids) - 1}."
            )
        return int(pos)

    # ---- deriving one item ----
    def _count(self, label: Any, n: int) -> None:
        """Count a label to train on: its class, or each class of a set (``()``: none)."""
        if isinstance(label, tuple):
            for c in label or ((),):
                self.per_class[c] += n
        else:
            self.per_class[label] += n

    def _push(self, pos: int, ref: tuple[str, int] | None) -> None:
        self._done.append((pos, ref))
        del self._done[:-_UNDO_DEPTH]

    def _derive(self, pos: int) -> None:
        """Recompute an item's label, card and handled flag from its live events."""
        events = [self._live[e] for e in self._by_pos.get(pos, ())]
        labels = [e.label for e in events if e.action == "label"]
        old = self._team_label.pop(pos, None)
        if old is not None:
            self._count(old, -1)
        if labels:
            self._team_label[pos] = labels[-1]
            self._count(labels[-1], 1)
        if self.mine_only:
            events = [e for e in events if e.annotator == self.annotator]
        before = self._shown.pop(pos, None)
        if before is not None:
            self.actions[before[0]] -= 1
        if events:
            self._shown[pos] = (events[-1].action, events[-1].label)
            self.actions[events[-1].action] += 1
        self._handled[pos] = bool(events) or pos in self.conflicts

"""The session state of one :class:`~alwidgets.ActiveLabeler`, mirrored from the store.

The store decides what is labeled; :class:`SessionState` is its in-memory mirror,
kept so the key path never reads a DataFrame: the live action and label of each pool
position, the *handled* mask (labeled, skipped or unsure) and this app's undo stack.
It is the one owner of all three. The queue reads the mask through :attr:`handled`, a
read-only view; the answers the cards show come from :meth:`answers`.

Every write goes through :meth:`record` (a new action, written to the store first) or
:meth:`undo` (the store's undo says which action is live again). The labeler calls both
under its lock.

Examples
--------
>>> import os, tempfile
>>> from alwidgets.store import SessionStore
>>> store = SessionStore(os.path.join(tempfile.mkdtemp(), "s.alw"), classes=["a", "b"])
>>> state = SessionState(store, ids=[10, 11, 12], classes=["a", "b"])
>>> state.record(1, "label", "b", annotator=None, shown_at=None)
>>> state.record(1, "skip", annotator=None, shown_at=None)
>>> state.handled.tolist(), state.answers([0, 1])
([False, True, False], {'1': {'action': 'skip', 'class_index': None}})
>>> state.undo(annotator=None)[1], state.answers([1])
(1, {'1': {'action': 'label', 'class_index': 1}})
>>> state.handled[0] = True
Traceback (most recent call last):
...
ValueError: assignment destination is read-only
>>> store.close()
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from alwidgets._utils import plain
from alwidgets.exceptions import InvalidInputError

__all__ = ["ACTIONS", "SessionState"]

logger = logging.getLogger("alwidgets")

#: Undo references kept (this app's actions, newest last).
_UNDO_DEPTH = 1000


def _recorder(store: Any, action: str) -> Callable[..., Any]:
    """The store method that records ``action`` (explicit: no attribute lookup by name)."""
    table: dict[str, Callable[..., Any]] = {
        "label": store.label,
        "skip": store.skip,
        "unsure": store.unsure,
    }
    try:
        return table[action]
    except KeyError:
        raise InvalidInputError(
            f"unknown action {action!r}; the actions are {', '.join(map(repr, ACTIONS))}."
        ) from None


#: The answers a person can give an item.
ACTIONS = ("label", "skip", "unsure")


class SessionState:
    """Live action and label per position, the handled mask, this app's undo stack.

    Parameters
    ----------
    store : SessionStore
        The source of truth; its current state is loaded once here.
    ids : list
        The pool's item ids, by position.
    classes : list
        The session's classes (for the cards' ``class_index``).
    annotator : str, optional
        This app's annotator; needed with ``mine_only``.
    mine_only : bool, default False
        A team labeling each item several times (overlap > 1): the cards, the handled
        mask and the undo stack are this annotator's own; the labels to train on
        (:attr:`labels`) stay the team's. Otherwise an item anyone answered is handled.
    """

    def __init__(
        self,
        store: Any,
        ids: Sequence[Any],
        classes: list[Any],
        *,
        annotator: str | None = None,
        mine_only: bool = False,
    ) -> None:
        self.store = store
        self.ids = ids
        self.classes = list(classes)
        self.annotator, self.mine_only = annotator, mine_only
        self._team_label: dict[int, Any] = {}  # position -> the team's current label
        self.index = pd.Index(ids)
        self._action: dict[int, str] = {}  # position -> live action (label/skip/unsure)
        self._label_of: dict[int, Any] = {}  # position -> current label
        self._handled = np.zeros(len(ids), dtype=bool)
        self._view = self._handled.view()
        self._view.flags.writeable = False
        # this app's actions, newest last: (position, (view session, seq) or None for a
        # Python call), so a front-end undo can check it names the last action
        self._done: list[tuple[int, tuple[str, int] | None]] = []
        # answers from the widget the store could not take (it was unreachable), oldest
        # first: kept here, and only here, until a retry writes them (app/_unsaved.py)
        self.unsaved: list[Any] = []
        self._load()

    # ---- reading ----
    @property
    def handled(self) -> np.ndarray:
        """Read-only mask: the position has a live action (labeled, skipped, unsure)."""
        return self._view

    @property
    def labels(self) -> dict[int, Any]:
        """Position -> current label, the team's (a copy): what the model trains on."""
        return dict(self._team_label if self.mine_only else self._label_of)

    @property
    def n_labeled(self) -> int:
        """Number of labeled items."""
        return len(self._team_label if self.mine_only else self._label_of)

    def label_of(self, pos: int) -> Any:
        """The current label of ``pos`` (``None``: not labeled)."""
        return self._label_of.get(pos)

    def label_values(self) -> list[Any]:
        """The current labels, one per labeled item."""
        return list((self._team_label if self.mine_only else self._label_of).values())

    def actions(self) -> list[str]:
        """The live actions, one per handled item."""
        return list(self._action.values())

    def trainable(self) -> bool:
        """Labels of at least two classes: a model can be fit."""
        return len(set(self.label_values())) >= 2

    def answer(self, pos: int) -> dict[str, Any] | None:
        """What a card shows as answered: ``{"action", "class_index"}`` or ``None``."""
        action = self._action.get(pos)
        if action is None:
            return None
        ci = self.classes.index(self._label_of[pos]) if action == "label" else None
        return {"action": action, "class_index": ci}

    def answers(self, positions: Iterable[int]) -> dict[str, dict[str, Any]]:
        """Card key -> answer for the answered ones of ``positions``."""
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

    # ---- writing (the store first, then the mirror) ----
    def record(
        self,
        pos: int,
        action: str,
        label: Any = None,
        *,
        annotator: str | None,
        shown_at: float | None,
        ref: tuple[str, int] | None = None,
        **query_info: Any,
    ) -> None:
        """Write an action to the store (durable), then mirror it."""
        self.write(pos, action, label, annotator=annotator, shown_at=shown_at, **query_info)
        self.mirror(pos, action, label, ref)

    def write(
        self,
        pos: int,
        action: str,
        label: Any = None,
        *,
        annotator: str | None,
        shown_at: float | None,
        **query_info: Any,
    ) -> None:
        """Write an action to the store (durable when this returns); no mirroring.

        A write that failed is retried with the same arguments (see
        :attr:`unsaved`): the store then reuses its idempotency key, so it is recorded
        at most once.
        """
        record = _recorder(self.store, action)
        args = (self.ids[pos], label) if action == "label" else (self.ids[pos],)
        record(*args, annotator=annotator, shown_at=shown_at, **query_info)

    def mirror(self, pos: int, action: str, label: Any, ref: tuple[str, int] | None) -> None:
        """Mirror an action the store has committed (after :meth:`write`)."""
        self._set(pos, action, label)
        if action == "label":
            self._team_label[pos] = label
        self._done.append((pos, ref))
        del self._done[:-_UNDO_DEPTH]

    def undo(self, annotator: str | None) -> tuple[dict[str, Any] | None, int | None]:
        """Undo the annotator's last action in the store and mirror what is live again.

        Returns the store's undone event (``None``: nothing to undo, a
        :class:`~alwidgets.store.NothingToUndoWarning` is issued) and the item's
        position (``None`` for an item of another pool sharing the store).
        """
        event = self.store.undo(annotator=annotator)
        if event is None:
            return None, None
        try:
            pos = self.pos(event["item_id"])
        except InvalidInputError:
            return event, None
        if self._done and self._done[-1][0] == pos:
            self._done.pop()
        else:  # an action from before this app (a resumed session): order unknown
            self._done.clear()
        if self.mine_only:
            self._reread([pos])
            return event, pos
        live = event.get("restored")
        if live is None:
            self._set(pos, None)
        else:
            self._set(pos, str(live["action"]), plain(live["label"]))
        return event, pos

    def follow(self, changes: pd.DataFrame) -> int:
        """Mirror the team's new events (from ``store.changes_since``); returns how many
        of them are labels by colleagues (new training data)."""
        if changes is None or not len(changes):
            return 0
        items = pd.Index(changes["item_id"].to_numpy(dtype=object))
        pos = self.index.get_indexer(items)
        self._reread(sorted({int(p) for p in pos if p >= 0}))
        others = (changes["annotator"] != self.annotator) & (changes["action"] == "label")
        return int(others.sum())

    def _reread(self, positions: list[int]) -> None:
        """Take what the store says about these items (after an undo, or a colleague)."""
        if not positions:
            return
        ids = [self.ids[p] for p in positions]
        labels = self.store.labels["label"]
        if self.mine_only:
            events = self.store.events
            mine = events[
                (events["annotator"] == self.annotator)
                & (events["action"] != "undo")
                & ~events["undone"]
            ]
            last = mine.drop_duplicates("item_id", keep="last").set_index("item_id")
        else:
            last = self.store.state
        for p, item in zip(positions, ids, strict=True):
            if item in labels.index:
                self._team_label[p] = plain(labels.loc[item])
            else:
                self._team_label.pop(p, None)
            if item in last.index:
                row = last.loc[item]
                self._set(p, str(row["action"]), plain(row["label"]))
            else:
                self._set(p, None)

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

    def _set(self, pos: int, action: str | None, label: Any = None) -> None:
        """Record an item's live action (``None``: unhandled again)."""
        self._label_of.pop(pos, None)
        if action is None:
            self._action.pop(pos, None)
            self._handled[pos] = False
            return
        self._action[pos] = action
        self._handled[pos] = True
        if action == "label":
            self._label_of[pos] = label

    def _load(self) -> None:
        labels = self.store.labels
        if len(labels):
            known = self.index.get_indexer(pd.Index(labels.index))
            for p, label in zip(known, labels["label"].to_numpy(), strict=True):
                if p >= 0:
                    self._team_label[int(p)] = plain(label)
        if self.mine_only:
            touched = self.index.get_indexer(pd.Index(self.store.state.index))
            self._reread(sorted(int(p) for p in touched if p >= 0))
            return
        state = self.store.state
        if not len(state):
            return
        pos = self.index.get_indexer(pd.Index(state.index))
        known = pos >= 0
        if not known.all():
            logger.warning(
                "alwidgets: %d item(s) in the store are not in this pool and are ignored.",
                int((~known).sum()),
            )
        actions = state["action"].to_numpy()[known]
        labels = state["label"].to_numpy()[known]
        for p, action, label in zip(pos[known], actions, labels, strict=True):
            self._set(int(p), str(action), plain(label))

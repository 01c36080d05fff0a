"""Front-end messages -> controller calls, through an explicit dispatch table.

The browser (``widgets/_batch.js`` via :class:`~alwidgets.widgets.BatchWidget`) sends
three kinds of message, each with the view's ``seq``:

* ``{"type": "action", "action": "label" | "skip" | "unsure", "key", "class_index",
  "seconds", "session"}``: an answer about the pool item at position ``key``; a
  multi-label labeler's label carries ``"class_indices": [..]`` (the set) instead
  (:meth:`~alwidgets.app._controller.LabelingController.answer`). It is applied even
  when the item is no longer in the current batch (the kernel may have moved on): it
  is still a valid answer about a pool item.
* ``{"type": "undo", "key", "target_seq", "session"}``: undo, refused with a ``nack``
  unless it names this session's last action.
* ``{"type": "review", "session", "n"?}``: start a review of suspect labels.

There is no "advance" message: the kernel alone decides when a batch ends (it advances
when the current batch is complete and pushes the new state).

Each call's :class:`~alwidgets.app._changes.Changes` goes to ``deliver`` (the facade:
the view renders it, the facade carries out its effects). A message that fails is
logged and answered with a ``nack`` (the front end un-marks the card).

Examples
--------
>>> protocol = MessageProtocol(None, classes=["a", "b"], n_items=3,
...                            deliver=lambda ch: print([(r.kind, r.seq, r.text) for r in ch.replies]))
>>> protocol({"type": "advance", "seq": 4, "batch": 7})
[('nack', 4, "InvalidInputError: unknown message type 'advance'")]
>>> protocol({"type": "action", "seq": 5, "action": "label", "key": "9", "class_index": 0})
[('nack', 5, "InvalidInputError: card '9' is not in the pool")]
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from typing import Any

from alwidgets.app._changes import Answer, Changes, UndoRequest
from alwidgets.app._mirror import ACTIONS
from alwidgets.app._multilabel import message_label
from alwidgets.exceptions import InvalidInputError

__all__ = ["MessageProtocol"]

logger = logging.getLogger("alwidgets")


class MessageProtocol:
    """Dispatches the front end's messages to a controller (see the module docstring)."""

    def __init__(
        self,
        controller: Any,
        *,
        classes: list[Any],
        n_items: int,
        deliver: Callable[[Changes], object],
        multi_label: bool = False,
    ) -> None:
        self.controller, self.classes, self.n_items = controller, classes, n_items
        self.multi_label = multi_label
        self.deliver = deliver
        self._table: dict[str, Callable[[dict[str, Any]], Changes]] = {
            "action": self._action,
            "undo": self._undo,
            "review": self._review,
        }

    def __call__(self, msg: dict[str, Any]) -> None:
        """Handle one message (the widget's ``on_action`` callback)."""
        kind = msg.get("type")
        handler = self._table.get(str(kind))
        try:
            if handler is None:
                raise InvalidInputError(f"unknown message type {kind!r}")
            changes = handler(msg)
        except Exception as err:  # tell the front end (it un-marks the card); log it too
            logger.exception("alwidgets: %s from the front end failed", kind)
            changes = Changes()
            changes.reply("nack", msg.get("seq"), msg.get("key"), f"{type(err).__name__}: {err}")
        self.deliver(changes)

    def _action(self, msg: dict[str, Any]) -> Changes:
        action = msg["action"]
        if action not in ACTIONS:
            raise InvalidInputError(f"unknown action {action!r}")
        pos = int(msg["key"])
        if not 0 <= pos < self.n_items:
            raise InvalidInputError(f"card {msg['key']!r} is not in the pool")
        label = message_label(msg, self.classes, self.multi_label) if action == "label" else None
        return self.controller.answer(
            Answer(pos, action, label, seq=msg.get("seq"), session=msg.get("session"),
                   seconds=msg.get("seconds"))
        )  # fmt: skip

    def _undo(self, msg: dict[str, Any]) -> Changes:
        request = UndoRequest(
            seq=msg.get("seq"), key=msg.get("key"), target_seq=msg.get("target_seq"),
            session=msg.get("session"),
        )  # fmt: skip
        with warnings.catch_warnings():  # "nothing to undo" is shown as a notice
            warnings.simplefilter("ignore")
            return self.controller.undo(request)

    def _review(self, msg: dict[str, Any]) -> Changes:
        return self.controller.start_review(msg.get("n"), from_widget=True)

"""Front-end messages -> the labeler's actions, through an explicit dispatch table.

The browser (``widgets/_batch.js`` via :class:`~alwidgets.widgets.BatchWidget`) sends
three kinds of message, each with the view's ``seq``:

* ``{"type": "action", "action": "label" | "skip" | "unsure", "key", "class_index",
  "seconds", "session"}``: an answer about the pool item at position ``key``. It is
  applied even when the item is no longer in the current batch (the kernel may have
  moved on): it is still a valid answer about a pool item.
* ``{"type": "undo", "key", "target_seq", "session"}``: undo, refused with a ``nack``
  unless it names this session's last action.
* ``{"type": "review", "session", "n"?}``: start a review of suspect labels
  (:meth:`~alwidgets.ActiveLabeler.review`).

There is no "advance" message: the kernel alone decides when a batch ends (it advances
when the current batch is complete and pushes the new state).

A message that fails is logged and answered with a ``nack`` (the front end un-marks
the card). An answer the store could not take because it is unreachable is no failure
here: the labeler keeps it and replies ``unsaved`` (see :mod:`alwidgets.app._unsaved`).

Examples
--------
>>> class Widget:
...     def nack(self, seq, key, error): print("nack", seq, error)
>>> class Labeler:
...     classes, n_items, batch_widget = ["a", "b"], 3, Widget()
>>> protocol = MessageProtocol(Labeler())
>>> protocol({"type": "advance", "seq": 4, "batch": 7})
nack 4 InvalidInputError: unknown message type 'advance'
>>> protocol({"type": "action", "seq": 5, "action": "label", "key": "9", "class_index": 0})
nack 5 InvalidInputError: card '9' is not in the pool
"""

from __future__ import annotations

import logging
import warnings
from collections.abc import Callable
from typing import Any, Protocol

from alwidgets.app._session import ACTIONS
from alwidgets.exceptions import InvalidInputError

__all__ = ["MessageProtocol"]

logger = logging.getLogger("alwidgets")


class _Labeler(Protocol):  # what the protocol needs of the app
    classes: list[Any]
    n_items: int
    batch_widget: Any

    def _act(
        self,
        pos: int,
        action: str,
        label: Any = None,
        *,
        seq: int | None = None,
        seconds: float | None = None,
        session: str | None = None,
    ) -> None: ...

    def _undo(
        self,
        seq: int | None = None,
        *,
        key: str | None = None,
        target_seq: int | None = None,
        session: str | None = None,
    ) -> dict[str, Any] | None: ...

    def _review_from_ui(self, n: int | None = None) -> None: ...


class MessageProtocol:
    """Dispatches the front end's messages to a labeler (see the module docstring)."""

    def __init__(self, labeler: _Labeler) -> None:
        self.labeler = labeler
        self._table: dict[str, Callable[[dict[str, Any]], None]] = {
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
            handler(msg)
        except Exception as err:  # tell the front end (it un-marks the card); log it too
            logger.exception("alwidgets: %s from the front end failed", kind)
            self.labeler.batch_widget.nack(
                msg.get("seq"), msg.get("key"), f"{type(err).__name__}: {err}"
            )

    def _action(self, msg: dict[str, Any]) -> None:
        lab = self.labeler
        action = msg["action"]
        if action not in ACTIONS:
            raise InvalidInputError(f"unknown action {action!r}")
        pos = int(msg["key"])
        if not 0 <= pos < lab.n_items:
            raise InvalidInputError(f"card {msg['key']!r} is not in the pool")
        label = lab.classes[msg["class_index"]] if action == "label" else None
        lab._act(
            pos,
            action,
            label,
            seq=msg.get("seq"),
            seconds=msg.get("seconds"),
            session=msg.get("session"),
        )

    def _undo(self, msg: dict[str, Any]) -> None:
        with warnings.catch_warnings():  # "nothing to undo" is shown as a notice
            warnings.simplefilter("ignore")
            self.labeler._undo(
                seq=msg.get("seq"),
                key=msg.get("key"),
                target_seq=msg.get("target_seq"),
                session=msg.get("session"),
            )

    def _review(self, msg: dict[str, Any]) -> None:
        self.labeler._review_from_ui(msg.get("n"))

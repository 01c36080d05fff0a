"""The labeling batch: one anywidget holding the current and the prefetched next batch.

The front end (``_batch.js``) shows the cards, answers key presses and clicks at
once, and sends each action to the kernel as a message with a sequence number. This
class only carries state and messages: it validates what the front end sends and
hands it to a callback registered with :meth:`BatchWidget.on_action` (the app), which
replies with :meth:`ack`, :meth:`nack`, :meth:`unsaved` (kept, to be saved: a later
``ack`` follows), :meth:`conflict` (kept as a conflict, not a label: another annotator
labeled the item first) or :meth:`undone`. No ranking, storage or undo
logic lives here.

The front end is four files: ``_batch.js``, the view (DOM, keys, focus), is the
anywidget ``_esm``; ``_batch_state.js``, the pure protocol and local state (seq
numbers, optimistic marks, undo history, which batch to show), ``_batch_cards.js``
(the cards' DOM building blocks) and ``_chips.js`` (multi-label chips) travel as the
synced ``_state_esm``, ``_cards_esm`` and ``_chips_esm`` texts and the view imports
them from blob URLs (anywidget sends file *text* to the browser, so a relative import
between them would not resolve; Node's test runner imports the pure ones directly). ``_esm`` and ``_css`` are paths, so
anywidget's hot reload (``ANYWIDGET_HMR=1``) updates the view and the style live; a
change to the state module is picked up by the next widget created.

**The end of a batch** is the kernel's decision. When every card is answered the view
may show the prefetched ``next_cards`` at once, but the kernel's ``batch_id`` and
``cards`` are the truth: when they arrive and differ, the view shows them (answers
already sent for the prefetched cards stay valid: the kernel records answers for any
item of the pool). The front end never asks the kernel to advance.

Messages from the front end (``content`` of a custom message)::

    {"type": "action", "seq": 3, "action": "label", "key": "17", "class_index": 2,
     "batch": 4, "seconds": 1.8}
    {"type": "action", "seq": 4, "action": "skip" | "unsure", "key": "18", ...}
    {"type": "action", "seq": 5, "action": "label", "key": "19", "class_indices": [0, 2],
     ...}                                 # multi_label: the set of classes (chips)
    {"type": "undo", "seq": 5, "key": "18", "target_seq": 4}
    {"type": "review", "seq": 6, "n": 10}   # review the most suspect labels (n optional)

Each message also carries ``session``: a nonce the view draws when it renders, so
the sequence numbers of two views (or of a reloaded page) never mix.

**Order.** The kernel may hand messages to :meth:`BatchWidget._handle_msg` out of
order or from two threads at once (ipykernel 7 dispatches comm messages
concurrently while the shell is busy, and routes them to the subshell that last
published on the comm). The widget therefore applies each view's messages strictly in
``seq`` order: a message ahead of the next expected one waits in a small buffer until
the gap fills. A lost message must not wedge the app, so a gap is given up after
:attr:`BatchWidget.gap_timeout` seconds: the waiting messages are then applied in
order, and the missing one, should it still arrive, is refused with a ``nack`` (the
front end un-marks its card) rather than applied after actions that followed it.
Messages without a ``session`` (older front ends, Python callers) are applied at once.

Examples
--------
>>> w = BatchWidget(classes=[{"name": "cat", "key": "1"}, {"name": "dog", "key": "2"}])
>>> seen = []
>>> w.on_action(seen.append)
>>> msg = {"type": "action", "seq": 1, "action": "label", "key": "0", "class_index": 1}
>>> w._handle_msg({"content": {"data": {"method": "custom", "content": msg}}, "buffers": []})
>>> seen[0]["action"], seen[0]["class_index"]
('label', 1)
"""

from __future__ import annotations

import collections
import logging
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

import anywidget
import traitlets

__all__ = ["BatchWidget"]

logger = logging.getLogger(__name__)

_ACTIONS = {"label", "skip", "unsure"}
_TYPES = {"action", "undo", "review"}
_HERE = Path(__file__).parent


class BatchWidget(anywidget.AnyWidget):
    """Cards of the current query batch, with keyboard-first labeling.

    Synced state (set by the app, read by the front end): ``classes``, ``cards``,
    ``batch_id``, ``next_cards``, ``next_batch_id``, ``answers``, ``status``,
    ``progress``. Actions come back as messages; see the module docstring.
    """

    _esm = _HERE / "_batch.js"
    _css = _HERE / "_batch.css"

    _state_esm = traitlets.Unicode(
        help="Text of _batch_state.js, the pure front-end module the view imports."
    ).tag(sync=True)

    classes = traitlets.List(
        traitlets.Dict(), help="One {'name': str, 'key': str} per class, in class order."
    ).tag(sync=True)
    cards = traitlets.List(
        traitlets.Dict(),
        help="Current batch: {'key', 'item_id', 'html', 'suggestion', 'confidence', 'why', ...}.",
    ).tag(sync=True)
    batch_id = traitlets.Int(-1, help="Id of the current batch (increases).").tag(sync=True)
    next_cards = traitlets.List(traitlets.Dict(), help="Prefetched next batch.").tag(sync=True)
    next_batch_id = traitlets.Int(-1, help="Id of the prefetched batch.").tag(sync=True)
    answers = traitlets.Dict(
        help="Durable answers of queued cards: key -> {'action', 'class_index'}."
    ).tag(sync=True)
    status = traitlets.Dict(help="Model status: {'state', 'text', 'age', 'detail', 'error'}.").tag(
        sync=True
    )
    progress = traitlets.Dict(help="{'labeled': int, 'total': int}.").tag(sync=True)
    multi_label = traitlets.Bool(
        False, help="Cards show a chip per class: keys toggle, Enter commits the set."
    ).tag(sync=True)
    _cards_esm = traitlets.Unicode(
        help="Text of _batch_cards.js, the cards' DOM building blocks the view imports."
    ).tag(sync=True)
    _chips_esm = traitlets.Unicode(
        help="Text of _chips.js, the multi-label chips module the view imports."
    ).tag(sync=True)
    empty_text = traitlets.Unicode(
        "Nothing left to label in this pool.", help="Shown when the batch is empty."
    ).tag(sync=True)

    #: Seconds a message ahead of a missing one waits for it before the gap is given up.
    gap_timeout: float = 2.0

    @traitlets.default("_state_esm")
    def _read_state_esm(self) -> str:
        return (_HERE / "_batch_state.js").read_text(encoding="utf-8")

    @traitlets.default("_cards_esm")
    def _read_cards_esm(self) -> str:
        return (_HERE / "_batch_cards.js").read_text(encoding="utf-8")

    @traitlets.default("_chips_esm")
    def _read_chips_esm(self) -> str:
        return (_HERE / "_chips.js").read_text(encoding="utf-8")

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self._action_handlers: list[Callable[[dict[str, Any]], None]] = []
        # Per view session: the next seq to apply, the messages waiting for a gap, and
        # the timer that gives up on a gap. One lock orders delivery across threads.
        self._order_lock = threading.RLock()
        self._expected: dict[str, int] = {}
        self._waiting: dict[str, dict[int, Any]] = {}
        self._gap_timers: dict[str, threading.Timer] = {}
        #: The last messages sent to the front end (newest last), for debugging and tests.
        self.sent: collections.deque[dict[str, Any]] = collections.deque(maxlen=64)
        self.on_msg(self._on_front_end_msg)

    # ---- front end -> kernel ----
    def on_action(self, callback: Callable[[dict[str, Any]], None], remove: bool = False) -> None:
        """Register (or remove) a callback receiving each validated front-end message."""
        if remove:
            self._action_handlers.remove(callback)
        else:
            self._action_handlers.append(callback)

    def _on_front_end_msg(self, _: Any, content: Any, buffers: Any) -> None:
        session = content.get("session") if isinstance(content, dict) else None
        seq = content.get("seq") if isinstance(content, dict) else None
        if not isinstance(session, str) or isinstance(seq, bool) or not isinstance(seq, int):
            with self._order_lock:
                self._deliver(content)
            return
        with self._order_lock:
            expected = self._expected.get(session, 1)
            if seq < expected:  # a duplicate, or a message whose gap was given up
                self._refuse_late(content, seq)
                return
            if seq > expected:  # evidence of reordering in the kernel: worth a log line
                logger.info(
                    "alwidgets: front-end message %s arrived before %s (thread %s); holding it",
                    seq,
                    expected,
                    threading.current_thread().name,
                )
            waiting = self._waiting.setdefault(session, {})
            waiting[seq] = content
            self._drain(session)

    def _drain(self, session: str) -> None:
        """Apply the session's waiting messages that are next in line (holds the lock)."""
        waiting = self._waiting[session]
        expected = self._expected.get(session, 1)
        while expected in waiting:
            content = waiting.pop(expected)
            expected += 1
            self._expected[session] = expected
            self._deliver(content)
        timer = self._gap_timers.pop(session, None)
        if timer is not None:
            timer.cancel()
        if waiting:  # a gap: wait for the missing message, but not forever
            timer = threading.Timer(self.gap_timeout, self._give_up_gap, args=(session,))
            timer.daemon = True
            self._gap_timers[session] = timer
            timer.start()

    def _give_up_gap(self, session: str) -> None:
        with self._order_lock:
            waiting = self._waiting.get(session)
            if not waiting:
                return
            first = min(waiting)
            logger.warning(
                "alwidgets: front-end message(s) %s..%s never arrived; applying the later "
                "ones in order",
                self._expected.get(session, 1),
                first - 1,
            )
            self._expected[session] = first
            self._drain(session)

    def _refuse_late(self, content: dict[str, Any], seq: int) -> None:
        logger.warning("alwidgets: refusing late or repeated front-end message %r", content)
        self.nack(
            seq,
            content.get("key") if isinstance(content.get("key"), str) else None,
            "this action arrived after later ones and was not applied; please redo it",
        )

    def close(self) -> None:
        """Close the widget and stop any pending gap timers."""
        with self._order_lock:
            for timer in self._gap_timers.values():
                timer.cancel()
            self._gap_timers.clear()
        super().close()

    def _deliver(self, content: Any) -> None:
        msg = self._parse(content)
        if msg is None:
            return
        for handler in self._action_handlers:
            handler(msg)

    def _parse(self, content: Any) -> dict[str, Any] | None:
        """Check a front-end message; reply with a nack when it is malformed."""
        if not isinstance(content, dict) or content.get("type") not in _TYPES:
            logger.warning("alwidgets: ignoring unknown front-end message %r", content)
            return None
        msg = dict(content)
        seq = msg.get("seq")
        msg["seq"] = int(seq) if isinstance(seq, int | float) else None
        if msg["type"] == "action":
            if msg.get("action") not in _ACTIONS or not isinstance(msg.get("key"), str):
                self.nack(msg["seq"], msg.get("key"), f"malformed action {content!r}")
                return None
            ci = msg.get("class_index")
            ok = isinstance(ci, int | float) and 0 <= int(ci) < len(self.classes)
            if msg["action"] == "label" and self.multi_label:
                why = self._bad_set(msg.get("class_indices"))
                if why:
                    self.nack(msg["seq"], msg["key"], why)
                    return None
                msg["class_indices"] = sorted(int(i) for i in msg["class_indices"])
                ok, ci = True, None
            if msg["action"] == "label" and not ok:
                self.nack(msg["seq"], msg["key"], f"class index {ci!r} is not a class")
                return None
            is_label = msg["action"] == "label" and isinstance(ci, int | float)
            msg["class_index"] = int(ci) if is_label and isinstance(ci, int | float) else None
            seconds = msg.get("seconds")
            msg["seconds"] = float(seconds) if isinstance(seconds, int | float) else None
        if msg["type"] == "undo":
            key, target = msg.get("key"), msg.get("target_seq")
            msg["key"] = key if isinstance(key, str) else None
            ok = isinstance(target, int | float) and not isinstance(target, bool)
            msg["target_seq"] = int(target) if ok and isinstance(target, int | float) else None
        if msg["type"] == "review":
            n = msg.get("n")
            ok = n is None or (isinstance(n, int | float) and not isinstance(n, bool) and n >= 1)
            msg["n"] = int(n) if ok and n is not None else None
        return msg

    def _bad_set(self, indices: Any) -> str | None:
        """Why ``class_indices`` of a multi-label answer is not a set of classes (or None)."""
        if not isinstance(indices, list):
            return f"class_indices {indices!r} is not a list of class indices"
        n = len(self.classes)
        for i in indices:
            if isinstance(i, bool) or not isinstance(i, int | float) or not 0 <= int(i) < n:
                return f"class index {i!r} is not a class"
            if int(i) != i:
                return f"class index {i!r} is not a class"
        if len({int(i) for i in indices}) != len(indices):
            return f"class_indices {indices!r} names a class twice"
        return None

    # ---- kernel -> front end ----
    def _reply(self, msg: dict[str, Any]) -> None:
        self.sent.append(msg)
        self.send(msg)

    def ack(self, seq: int | None, key: str) -> None:
        """Confirm that the action ``seq`` on card ``key`` is durable."""
        self._reply({"type": "ack", "seq": seq, "key": key})

    def nack(self, seq: int | None, key: str | None, error: str) -> None:
        """Reject the action ``seq``: the front end un-marks the card and shows ``error``."""
        self._reply({"type": "nack", "seq": seq, "key": key, "error": error})

    def unsaved(self, seq: int | None, key: str, error: str) -> None:
        """The action ``seq`` on card ``key`` is kept but not saved yet (the store is
        unreachable): the front end keeps the mark, tagged "not saved", until the
        :meth:`ack` that follows when the kernel has written it."""
        self._reply({"type": "unsaved", "seq": seq, "key": key, "error": error})

    def undone(self, seq: int | None, key: str | None) -> None:
        """Report which card an undo re-opened (``None``: nothing to undo)."""
        self._reply({"type": "undone", "seq": seq, "key": key})

    def conflict(self, seq: int | None, key: str, text: str) -> None:
        """The answer ``seq`` on card ``key`` was kept as a conflict, not a label: another
        annotator labeled the item first. The card stays answered and shows ``text``."""
        self._reply({"type": "conflict", "seq": seq, "key": key, "text": text})

    def reply(self, kind: str, seq: int | None, key: str | None, text: str | None = None) -> None:
        """Send the reply ``kind`` (``ack``, ``nack``, ``unsaved``, ``undone``, ``conflict``)."""
        if kind == "ack":
            self.ack(seq, str(key))
        elif kind == "nack":
            self.nack(seq, key, text or "")
        elif kind == "unsaved":
            self.unsaved(seq, str(key), text or "")
        elif kind == "undone":
            self.undone(seq, key)
        elif kind == "conflict":
            self.conflict(seq, str(key), text or "")
        else:
            raise ValueError(f"unknown reply {kind!r}; one of ack, nack, unsaved, undone, conflict")

    def notice(self, text: str, kind: str = "info") -> None:
        """Show a transient message above the cards."""
        self._reply({"type": "notice", "text": text, "kind": kind})

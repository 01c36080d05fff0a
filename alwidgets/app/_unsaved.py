"""Answers the store could not take: kept as "not saved", written by themselves later.

When an answer from the widget cannot be written because the store is unreachable
(``StoreError("store unreachable: ...")``, raised by the store after its own short
retry), the labeler does not drop it:

* the answer is kept, in order, in :attr:`SessionState.unsaved
  <alwidgets.app._session.SessionState.unsaved>` (the one place it lives) and the
  widget gets an ``unsaved`` reply: the card keeps its mark, tagged "not saved";
* later answers from the widget queue behind it at once (no wait on a store known to
  be down, and the store sees the answers in the order they were given);
* a small background thread retries with a backoff (1, 2, 4, then every 5 s) and
  writes them in order as soon as the store answers; each then takes the normal path
  of a saved answer (mirror, ``ack``, state pushed, maybe the end of the batch) and
  the status line clears with the last one. The store keeps each failed write's
  idempotency key, so an answer whose first attempt did commit (only its reply was
  lost) is recorded once;
* undo is refused (a ``nack`` and a notice; a Python call raises :class:`StoreError`)
  while answers are unsaved: the last action is not in the store yet;
* :meth:`~alwidgets.ActiveLabeler.close` warns how many are unsaved and tries once more;
  those still unsaved are named in a second warning.

Any other error (an unknown label, a bad item) is still a plain ``nack``, and a Python
call (``labeler.label(...)``) still raises the store's error: the caller decides.

Examples
--------
>>> from alwidgets.exceptions import StoreError
>>> is_unreachable(StoreError("store unreachable: 'postgresql://…' did not answer"))
True
>>> is_unreachable(StoreError("the directory is read-only")), is_unreachable(ValueError())
(False, False)
>>> [retry_delay(n) for n in range(6)]
[1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
"""

from __future__ import annotations

import logging
import threading
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from alwidgets.exceptions import StoreError

__all__ = ["UnsavedAnswer", "UnsavedWiring", "is_unreachable", "retry_delay"]

logger = logging.getLogger("alwidgets")

#: Waits between retries of unsaved answers (s); the last one repeats.
RETRY_DELAYS = (1.0, 2.0, 4.0, 5.0)


def is_unreachable(err: BaseException) -> bool:
    """The store could not be reached (worth retrying), as opposed to a refused write."""
    return isinstance(err, StoreError) and str(err).startswith("store unreachable")


def retry_delay(attempt: int) -> float:
    """Seconds to wait before retry number ``attempt`` (0-based)."""
    return RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]


@dataclass
class UnsavedAnswer:
    """One answer from the widget, with everything its write and its reply need."""

    pos: int
    action: str
    label: Any
    shown_at: float | None
    ref: tuple[str, int] | None
    info: dict[str, Any] = field(default_factory=dict)
    seq: int | None = None
    seconds: float | None = None
    outcome: str | None = None
    at: float = 0.0  # when it was given (the pace log)


class UnsavedWiring:
    """Keeping and replaying unsaved answers (a mixin of :class:`~alwidgets.ActiveLabeler`,
    which provides the attributes below)."""

    _lock: Any
    _state: Any
    _team: Any
    _closed: bool
    annotator: str
    batch_widget: Any
    ids: Sequence[Any]
    _retrying: bool = False
    _retry_stop: threading.Event | None = None
    _retry_thread: threading.Thread | None = None

    if TYPE_CHECKING:  # provided by ActiveLabeler

        def _saved(self, answer: UnsavedAnswer, *, closing: bool = False) -> None: ...

        def _set_status(self) -> None: ...

    def _write(self, answer: UnsavedAnswer) -> None:
        """Write one answer to the store (durable when this returns)."""
        self._state.write(
            answer.pos, answer.action, answer.label, annotator=self.annotator,
            shown_at=answer.shown_at, **answer.info,
        )  # fmt: skip

    def _keep_unsaved(self, answer: UnsavedAnswer, err: BaseException | None) -> None:
        """Keep a widget answer the store could not take (under the lock); tell the widget."""
        self._state.unsaved.append(answer)
        self._team.unreachable = True
        if err is None:
            why = "not saved yet: earlier answers wait for the store; saved when it is back"
        else:
            why = f"not saved yet ({err}); it is saved when the store is back"
        self.batch_widget.unsaved(answer.seq, str(answer.pos), why)
        self._set_status()
        if not self._retrying and not self._closed:
            self._retrying = True
            self._retry_stop = threading.Event()
            self._retry_thread = threading.Thread(
                target=self._retry_loop, args=(self._retry_stop,), name="alwidgets-unsaved",
                daemon=True,
            )  # fmt: skip
            self._retry_thread.start()

    def _retry_loop(self, stop: threading.Event) -> None:
        attempt = 0
        while not stop.wait(retry_delay(attempt)):
            try:
                if self._replay_unsaved():
                    return
            except Exception:  # the loop must outlive one bad attempt
                logger.exception("alwidgets: saving the unsaved answers failed")
            attempt += 1

    def _replay_unsaved(self, *, closing: bool = False) -> bool:
        """Write the unsaved answers in order; ``True`` when none is left.

        The store call runs outside the labeler's lock (a store that is still down takes
        a few seconds to say so, and key presses must not wait for it); only this method
        takes answers off the list, so their order holds.
        """
        while True:
            with self._lock:
                if not self._state.unsaved:
                    self._retrying = False
                    return True
                answer = self._state.unsaved[0]
            try:
                self._write(answer)
            except StoreError as err:
                if is_unreachable(err):
                    return False
                self._drop_unsaved(answer, err)  # refused for good: say so, go on
                continue
            with self._lock:
                self._state.unsaved.pop(0)
                self._saved(answer, closing=closing)

    def _drop_unsaved(self, answer: UnsavedAnswer, err: BaseException) -> None:
        logger.error("alwidgets: an unsaved answer was refused by the store: %s", err)
        with self._lock:
            self._state.unsaved.remove(answer)
            self.batch_widget.nack(answer.seq, str(answer.pos), f"{type(err).__name__}: {err}")
            self._set_status()

    def _refuse_undo_while_unsaved(self, seq: int | None, key: str | None) -> bool:
        """Refuse an undo while answers are unsaved (under the lock); ``True``: refused.

        Raises
        ------
        StoreError
            For a Python call (``key`` is ``None``).
        """
        n = len(self._state.unsaved)
        if not n:
            return False
        why = (
            f"not undone: {n} answer(s) are not saved yet (the store is unreachable); "
            "undo once they are saved."
        )
        if key is None and seq is None:
            raise StoreError(why)
        self.batch_widget.nack(seq, key, why)
        self.batch_widget.notice(why, "error")
        return True

    def _close_unsaved(self) -> None:
        """At :meth:`close`: stop the retries, warn, try once more, name what is lost."""
        if self._retry_stop is not None:
            self._retry_stop.set()
        if self._retry_thread is not None:
            self._retry_thread.join(timeout=15)
        n = len(self._state.unsaved)
        if not n:
            return
        warnings.warn(
            f"closing with {n} answer(s) not saved yet (the store was unreachable); trying once "
            "more.",
            RuntimeWarning,
            stacklevel=3,
        )
        if self._replay_unsaved(closing=True):
            return
        lost = [self.ids[a.pos] for a in self._state.unsaved]
        warnings.warn(
            f"{len(lost)} answer(s) could not be saved and are lost: items {lost!r}. Label "
            "them again when the store is back.",
            RuntimeWarning,
            stacklevel=3,
        )

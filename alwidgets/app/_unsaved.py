"""One answer on its way to the store, and answers the store could not take yet.

:class:`PendingAnswer` is an answer with everything its write and its reply need;
:func:`write_answer` writes it (durable when it returns). When a widget answer cannot
be written because the store is unreachable (``StoreError("store unreachable: ...")``,
raised by the store after its own short retry), the controller keeps it, in order, as
*unsaved*:

* the widget gets an ``unsaved`` reply: the card keeps its mark, tagged "not saved";
* later answers from the widget queue behind it at once (no wait on a store known to
  be down, and the store sees the answers in the order they were given);
* the session companion thread retries with a backoff (:func:`retry_delay`: 1, 2, 4,
  then every 5 s) and writes them in order as soon as the store answers; each then
  takes the normal path of a saved answer (mirror, ``ack``, maybe the end of the
  batch) and the status line clears with the last one. The store keeps each failed
  write's idempotency key, so an answer whose first attempt did commit (only its reply
  was lost) is recorded once;
* undo is refused (a ``nack`` and a notice; a Python call raises :class:`StoreError`)
  while answers are unsaved: the last action is not in the store yet;
* :meth:`~alwidgets.ActiveLabeler.close` warns how many are unsaved and tries once
  more; those still unsaved are named in a second warning.

Any other error (an unknown label, a bad item) is still a plain ``nack``, and a Python
call (``labeler.label(...)``) still raises the store's error: the caller decides.

Examples
--------
>>> from alwidgets.exceptions import InvalidInputError, StoreError
>>> is_unreachable(StoreError("store unreachable: 'postgresql://…' did not answer"))
True
>>> is_unreachable(StoreError("the directory is read-only")), is_unreachable(ValueError())
(False, False)
>>> [retry_delay(n) for n in range(6)]
[1.0, 2.0, 4.0, 5.0, 5.0, 5.0]
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from alwidgets.app._changes import Answer
from alwidgets.app._review import review_outcome
from alwidgets.exceptions import InvalidInputError, StoreError

__all__ = [
    "RETRY_DELAYS",
    "PendingAnswer",
    "conflict_text",
    "is_unreachable",
    "kept_text",
    "pending_answer",
    "retry_delay",
    "save_before_close",
    "undo_refusal",
    "write_answer",
]

#: Waits between retries of unsaved answers (s); the last one repeats.
RETRY_DELAYS = (1.0, 2.0, 4.0, 5.0)


def is_unreachable(err: BaseException) -> bool:
    """The store could not be reached (worth retrying), as opposed to a refused write."""
    return isinstance(err, StoreError) and str(err).startswith("store unreachable")


def retry_delay(attempt: int) -> float:
    """Seconds to wait before retry number ``attempt`` (0-based)."""
    return RETRY_DELAYS[min(attempt, len(RETRY_DELAYS) - 1)]


@dataclass
class PendingAnswer:
    """An answer with what its write needs (query info, when it was shown) and what the
    review makes of it (``outcome``: kept, changed or unsure on a review card)."""

    answer: Answer
    action: str  # the action written (a skip on a review card keeps the label)
    label: Any
    shown_at: float | None
    info: dict[str, Any] = field(default_factory=dict)
    outcome: str | None = None
    at: float = 0.0  # when it was given (the pace log)

    @property
    def pos(self) -> int:
        return self.answer.pos


def save_before_close(unsaved: Callable[[], list[Any]], retry: Callable[[], object]) -> None:
    """At :meth:`~alwidgets.ActiveLabeler.close`: warn how many answers are not saved,
    ``retry()`` once more, and name those still lost (``unsaved()``: their ids)."""
    lost = unsaved()
    if not lost:
        return
    warnings.warn(
        f"closing with {len(lost)} answer(s) not saved yet (the store was unreachable); "
        "trying once more.",
        RuntimeWarning,
        stacklevel=3,
    )
    retry()
    if lost := unsaved():
        warnings.warn(
            f"{len(lost)} answer(s) could not be saved and are lost: items {lost!r}. Label "
            "them again when the store is back.",
            RuntimeWarning,
            stacklevel=3,
        )


def kept_text(err: BaseException | None) -> str:
    """What the card of an answer kept unsaved says (``err``: why; ``None``: it waits
    behind earlier unsaved answers)."""
    if err is None:
        return "not saved yet: earlier answers wait for the store; saved when it is back"
    return f"not saved yet ({err}); it is saved when the store is back"


def conflict_text(others: Sequence[str]) -> str:
    """What the card of an answer kept as a conflict says.

    >>> conflict_text(["bo"])
    'bo labeled this meanwhile — kept as a conflict, not a label'
    """
    names = " and ".join(others) or "a colleague"
    return f"{names} labeled this meanwhile — kept as a conflict, not a label"


def undo_refusal(n: int) -> str:
    """Why an undo is refused while ``n`` answers are unsaved."""
    return (
        f"not undone: {n} answer(s) are not saved yet (the store is unreachable); undo "
        "once they are saved."
    )


def pending_answer(a: Answer, queue: Any, mirror: Any) -> PendingAnswer:
    """What ``a`` writes: when its card was shown, why it was picked, what a review
    makes of it (the queue and the mirror are read, not changed)."""
    now = time.time()
    if a.seconds is not None and np.isfinite(a.seconds) and a.seconds >= 0:
        shown_at: float | None = now - a.seconds
    else:
        shown_at = queue.current.shown_at if a.pos in queue.current.positions else None
    current = mirror.label_of(a.pos)
    action, label, outcome = review_outcome(queue.review, current, a.pos, a.action, a.label)
    info = queue.query_info.get(a.pos, {})
    return PendingAnswer(a, action, label, shown_at, info, outcome, now)


def write_answer(
    store: Any, ids: Sequence[Any], pending: PendingAnswer, annotator: str, overlap: int
) -> int:
    """Write one answer (durable when this returns); its event id.

    A label counts only while fewer than ``overlap`` colleagues labeled the item: else
    the store keeps it as a conflict and raises
    :class:`~alwidgets.exceptions.LabelConflictError`. A write that failed is retried
    with the same arguments: the store then reuses its idempotency key, so it is
    recorded at most once.
    """
    item = ids[pending.pos]
    kw = {"annotator": annotator, "shown_at": pending.shown_at, **pending.info}
    if pending.action == "label":
        return int(store.label(item, pending.label, overlap=overlap, **kw))
    if pending.action == "skip":
        return int(store.skip(item, **kw))
    if pending.action == "unsure":
        return int(store.unsure(item, **kw))
    raise InvalidInputError(
        f"unknown action {pending.action!r}; the actions are 'label', 'skip' and 'unsure'."
    )

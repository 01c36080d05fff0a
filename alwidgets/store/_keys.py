"""Idempotency keys: a write retried after a lost reply is recorded at most once.

Every insert carries a client-made ``key`` (unique in ``events`` and ``models``). A
write that failed with a :class:`~alwidgets.exceptions.StoreError` (the server was
unreachable, maybe right after it committed) keeps its key, so the caller's retry of
the same write sends the same key and finds the row instead of writing a second one.

Examples
--------
>>> keys = PendingKeys()
>>> with keys.key(("label", 1, "x", "ana")) as first:
...     pass
>>> try:
...     with keys.key(("label", 2, "x", "ana")) as failed:
...         raise StoreError("store unreachable: ...")
... except StoreError:
...     pass
>>> with keys.key(("label", 2, "x", "ana")) as retried:
...     retried == failed != first
True
>>> keys.pending
{}
"""

from __future__ import annotations

import threading
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from alwidgets.exceptions import StoreError

__all__ = ["PendingKeys"]


class PendingKeys:
    """The keys of failed writes, kept until their retry succeeds (the newest
    :attr:`LIMIT`), so an app replaying several unsaved answers in order retries
    each with its own key. One per store object."""

    #: Failed writes whose keys are kept (oldest dropped).
    LIMIT = 256

    def __init__(self) -> None:
        self._lock = threading.Lock()
        #: What failed (the write's identity) -> its key.
        self.pending: dict[tuple[Any, ...], str] = {}

    @contextmanager
    def key(self, what: tuple[Any, ...]) -> Iterator[str]:
        """The key of the write ``what``: its failed attempt's, or a new one."""
        with self._lock:
            key = self.pending.get(what) or uuid.uuid4().hex
        try:
            yield key
        except StoreError:
            with self._lock:
                self.pending[what] = key
                while len(self.pending) > self.LIMIT:
                    del self.pending[next(iter(self.pending))]
            raise
        with self._lock:
            self.pending.pop(what, None)

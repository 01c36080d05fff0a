"""The write path of a :class:`~alwidgets.store.SessionStore`: ``label``, ``skip``,
``unsure``, ``undo``.

Every write is one ``INSERT`` into the append-only ``events`` table, committed
before the call returns, with a client-made idempotency ``key`` (a retry after a
lost COMMIT reply finds its row instead of writing a second one). An undo is an
event too, pointing at the event it reverts.

Claims are enforced where answers are written: ``label(..., overlap=k)`` counts, in
its write transaction, the *other* annotators with a live label on the item; at
``k`` or more the answer is recorded as a ``conflict`` event and
:class:`~alwidgets.exceptions.LabelConflictError` is raised. The same transaction
renews the writer's live leases (when this store object claimed for that
annotator) and, when the label fills the item, deletes the others' leases on it.
"""

from __future__ import annotations

import datetime as dt
import threading
import time
import warnings
from typing import TYPE_CHECKING, Any

from alwidgets.exceptions import InvalidInputError, LabelConflictError
from alwidgets.store._backend import INSERT_SQL, Write
from alwidgets.store._codec import (
    QUERY_INFO,
    Value,
    encode_item_id,
    encode_overlap,
    encode_query_info,
)
from alwidgets.store._sets import decode_labels, encode_answer

if TYPE_CHECKING:
    from alwidgets.store._backend import Backend
    from alwidgets.store._claims import LeaseBook
    from alwidgets.store._keys import PendingKeys

__all__ = ["NothingToUndoWarning", "WritesMixin"]

_TARGET_FILTER = """annotator = ? AND action != 'undo'
  AND NOT EXISTS (SELECT 1 FROM events AS u WHERE u.undoes = events.id)"""
_UNDO_TARGET_SQL = f"""
SELECT id, action, item_id, label, annotator, shown_at, answered_at,
       model_version, score, rank, strategy
FROM events
WHERE {_TARGET_FILTER}
ORDER BY id DESC LIMIT 1
"""

# what is live for an item after an undo (the ``current`` table the triggers keep)
_LIVE_SQL = "SELECT state_action, state_label FROM current WHERE item_id = ?"


_RENEW_SQL = "UPDATE claims SET expires = ? WHERE annotator = ? AND expires > ?"

_EVENT_KEYS = (
    "event_id",
    "action",
    "item_id",
    "label",
    "annotator",
    "shown_at",
    "answered_at",
    "model_version",
    "score",
    "rank",
    "strategy",
)


class NothingToUndoWarning(UserWarning):
    """``SessionStore.undo`` found no action of that annotator left to undo."""


def _inserted(conn: Any, cursor: Any, table: str, key: str) -> int:
    """The id of the row just inserted with ``key``, or of the one a lost-reply retry wrote."""
    row = cursor.fetchone()
    if row is None:
        row = conn.execute(f"SELECT id FROM {table} WHERE key = ?", (key,)).fetchone()
    return int(row[0])


def _utc(seconds: float | None) -> dt.datetime | None:
    return None if seconds is None else dt.datetime.fromtimestamp(seconds, dt.UTC)


class WritesMixin:
    """``label``, ``skip``, ``unsure`` and ``undo`` of a session store (a mixin of
    :class:`~alwidgets.store.SessionStore`, which provides the attributes below)."""

    _lock: threading.RLock
    _backend: Backend
    _classes: list[Value] | None
    _keys: PendingKeys
    _leases: LeaseBook
    _multi_label: bool

    if TYPE_CHECKING:  # provided by SessionStore and ViewsMixin

        def _run(self, fn: Any, *, write: bool = False) -> Any: ...

        def _scalar(self, sql: str, params: tuple[Any, ...] = ()) -> Any: ...

        def _annotator(self, annotator: str | None) -> str: ...

    def _record(
        self,
        action: str,
        item_id: Any,
        label: Any,
        annotator: str | None,
        query_info: tuple[Any, Any, Any, Any, Any],
        unknown: dict[str, Any],
        overlap: int | None = None,
    ) -> int:
        if unknown:
            raise TypeError(
                f"{action}() got unexpected keyword argument(s) {sorted(unknown)}; accepted: "
                f"annotator, {', '.join(QUERY_INFO)}."
            )
        item = encode_item_id(item_id)
        labeled = action == "label"
        value = encode_answer(label, self._classes, self._multi_label) if labeled else None
        who = self._annotator(annotator)
        answered_at = time.time()
        named = dict(zip(QUERY_INFO, query_info, strict=True))
        info = encode_query_info(answered_at=answered_at, **named)
        shown_at, model_version, score, rank, strategy = info
        enc = self._backend.value
        row = (action, enc(item), enc(value), who, shown_at, answered_at, enc(model_version))
        with self._keys.key((action, item, value, who)) as key:
            write = Write((*row, score, rank, strategy), key, overlap, self._leases.seconds(who))
            done = self._backend.record(write)
        if done.action == "conflict":
            assert overlap is not None
            raise LabelConflictError(done.event_id, item, list(done.others), overlap)
        return done.event_id

    # -------------------------------------------------------------------- writes
    def label(
        self,
        item_id: Any,
        label: Any,
        *,
        annotator: str | None = None,
        shown_at: Any = None,
        model_version: Any = None,
        score: Any = None,
        rank: Any = None,
        strategy: Any = None,
        overlap: int | None = None,
        **unknown: Any,
    ) -> int:
        """Record that ``item_id`` has label ``label``; durable when this returns.

        Parameters
        ----------
        item_id : int or str
            The item's id (its index value in the pool). NumPy ints become int.
        label : int or str, or an iterable of them
            One of :attr:`classes` (when the session has classes). In a
            multi-label session (:attr:`multi_label`), the set of classes that
            apply: any iterable (list, set, tuple; the empty one means "none of
            these"), stored in the session's class order.
        annotator : str, optional
            Overrides :attr:`annotator` for this action.
        shown_at : float or datetime, optional
            When the item was shown (epoch seconds, or a datetime; naive means
            local time). Gives the seconds spent on it.
        model_version : int or str, optional
            The model that ranked the item.
        score : float, optional
            Its query score (NaN is stored as missing).
        rank : int, optional
            The 1-based rank of the item in the ranking it was picked from (what
            its card shows as ``#4``); ``None`` for random or undo picks.
        strategy : str, optional
            The query strategy's name.
        overlap : int, optional
            Enforce claims: the label counts only while fewer than ``overlap``
            *other* annotators hold a live label on the item (checked in the write
            transaction, so concurrent writers cannot both pass). Otherwise the
            answer is recorded as a ``conflict`` event and
            :class:`~alwidgets.exceptions.LabelConflictError` is raised. The first
            committed label wins; a lease never blocks a write. ``None`` (default):
            no check. A label that brings the item to ``overlap`` annotators also
            deletes the other annotators' leases on it.
        **unknown
            Anything else raises a ``TypeError`` that lists the accepted names.

        Returns
        -------
        int
            The event id.

        Raises
        ------
        LabelConflictError
            ``overlap`` other annotators labeled the item first; the answer is kept
            as the conflict event ``err.event_id`` (``err.others`` names them).
        UnknownLabelError
            ``label`` (or a class in the set) is not one of :attr:`classes`.
        InvalidInputError
            Bad id, label (None/NaN), query info or ``overlap``; a set of classes in
            a single-label session; in a multi-label one a bare class, or a class
            named twice. Nothing is written.
        TypeError
            An unknown keyword argument.

        Notes
        -----
        Any write (label, skip, unsure, undo) by an annotator this store object
        claimed items for renews that annotator's live leases, by the
        ``lease_seconds`` of its last :meth:`claim`, in the same transaction.

        Examples
        --------
        >>> import os, tempfile, time
        >>> from alwidgets.store import SessionStore
        >>> tmp = tempfile.mkdtemp()
        >>> store = SessionStore(os.path.join(tmp, "s.db"), classes=["ham", "spam"])
        >>> event_id = store.label(42, "spam", shown_at=time.time() - 2.5, model_version=3)
        >>> store.labels["label"].to_dict()
        {42: 'spam'}
        >>> event = store.events.loc[event_id]
        >>> int(event["model_version"]), bool(event["seconds"] >= 2.5)
        (3, True)
        >>> store.label(42, "eggs")
        Traceback (most recent call last):
        ...
        alwidgets.exceptions.UnknownLabelError: label 'eggs' is not one of this session's classes ['ham', 'spam']; ...

        With ``overlap=1``, an item someone else labeled first is not labeled again:

        >>> store.label(42, "ham", annotator="bo", overlap=1)
        Traceback (most recent call last):
        ...
        alwidgets.exceptions.LabelConflictError: item 42 was labeled by ... meanwhile (overlap=1): your answer is kept as conflict event #2, not as a label.
        >>> store.labels["label"].to_dict(), store.events["action"].tolist()
        ({42: 'spam'}, ['label', 'conflict'])
        >>> store.close()

        In a multi-label session an answer is a set of classes, kept in class order:

        >>> tags = SessionStore(os.path.join(tmp, "tags.db"), classes=["politics", "economy",
        ...                     "sport"], multi_label=True)
        >>> _ = tags.label("n1", {"sport", "politics"}); _ = tags.label("n2", [])
        >>> tags.labels["label"].to_dict()
        {'n1': ('politics', 'sport'), 'n2': ()}
        >>> tags.close(); import shutil; shutil.rmtree(tmp)
        """
        if label is None and not self._multi_label:
            raise InvalidInputError(
                "label is None; pass one of the classes, or use skip()/unsure()."
            )
        k = encode_overlap(overlap)
        info = (shown_at, model_version, score, rank, strategy)
        return self._record("label", item_id, label, annotator, info, unknown, k)

    def skip(
        self,
        item_id: Any,
        *,
        annotator: str | None = None,
        shown_at: Any = None,
        model_version: Any = None,
        score: Any = None,
        rank: Any = None,
        strategy: Any = None,
        **unknown: Any,
    ) -> int:
        """Record that ``item_id`` was skipped (not labeled); same arguments as :meth:`label`.

        Returns
        -------
        int
            The event id.
        """
        info = (shown_at, model_version, score, rank, strategy)
        return self._record("skip", item_id, None, annotator, info, unknown)

    def unsure(
        self,
        item_id: Any,
        *,
        annotator: str | None = None,
        shown_at: Any = None,
        model_version: Any = None,
        score: Any = None,
        rank: Any = None,
        strategy: Any = None,
        **unknown: Any,
    ) -> int:
        """Record that the annotator was unsure about ``item_id``; same arguments as :meth:`label`.

        Returns
        -------
        int
            The event id.
        """
        info = (shown_at, model_version, score, rank, strategy)
        return self._record("unsure", item_id, None, annotator, info, unknown)

    def undo(self, annotator: str | None = None) -> dict[str, Any] | None:
        """Revert the annotator's last action that is not undone yet.

        Repeated calls step further back. Other annotators' actions are never
        touched. The undo is itself an event, durable when this returns. A
        ``conflict`` event is an action too: undoing it changes no label (it never
        was one) and takes it out of :meth:`agreement`.

        Parameters
        ----------
        annotator : str, optional
            Whose action to undo; defaults to :attr:`annotator`.

        Returns
        -------
        dict or None
            The undone event (``event_id``, ``action``, ``item_id``, ``label``,
            ``annotator``, times as UTC datetimes, query info) plus
            ``undo_event_id`` and ``restored``: the item's action that is live
            again, ``{"action", "label"}`` (``label`` is ``None`` unless it is a
            label), or ``None`` when the item is unanswered again. ``None`` when
            there is nothing to undo, in which case a :class:`NothingToUndoWarning`
            says so and nothing is written.

        Examples
        --------
        >>> import os, tempfile, warnings
        >>> from alwidgets.store import SessionStore
        >>> tmp = tempfile.mkdtemp()
        >>> store = SessionStore(os.path.join(tmp, "s.db"), annotator="bo")
        >>> _ = store.label("a", 1); _ = store.label("a", 2)
        >>> undone = store.undo()
        >>> undone["label"], undone["restored"], store.labels["label"].tolist()
        (2, {'action': 'label', 'label': 1}, [1])
        >>> undone = store.undo()
        >>> undone["label"], undone["restored"], len(store.labels)
        (1, None, 0)
        >>> with warnings.catch_warnings(record=True) as caught:
        ...     warnings.simplefilter("always")
        ...     store.undo() is None, str(caught[0].message)
        (True, "nothing to undo for annotator 'bo': all of their actions are undone already")
        >>> store.close(); import shutil; shutil.rmtree(tmp)
        """
        who = self._annotator(annotator)
        enc = self._backend.value
        lease = self._leases.seconds(who)

        def write(conn: Any) -> tuple[Any, int | None, Any]:
            done = conn.execute("SELECT id, undoes FROM events WHERE key = ?", (key,)).fetchone()
            if done is not None:  # a retry after a lost COMMIT reply: it is written already
                target = conn.execute(
                    _UNDO_TARGET_SQL.replace(_TARGET_FILTER, "id = ?"), (done[1],)
                ).fetchone()
                undo_id = int(done[0])
            else:
                target = conn.execute(_UNDO_TARGET_SQL, (who,)).fetchone()
                if target is None:
                    return None, None, None
                undone = ("undo", enc(target[2]), enc(target[3]), who, None, time.time(), None)
                cursor = conn.execute(INSERT_SQL, (*undone, None, None, None, target[0], key))
                undo_id = _inserted(conn, cursor, "events", key)
                if lease is not None:  # a write renews the writer's live leases
                    now = self._backend.now(conn)
                    conn.execute(_RENEW_SQL, (now + lease, who, now))
            live = conn.execute(_LIVE_SQL, (enc(target[2]),)).fetchone()
            return target, undo_id, live

        with self._keys.key(("undo", who)) as key:
            row, undo_id, live = self._run(write, write=True)
        if row is None:
            n_any = self._scalar("SELECT count(*) FROM events WHERE annotator = ?", (who,))
            why = "all of their actions are undone already" if n_any else "they have no actions"
            warnings.warn(
                f"nothing to undo for annotator {who!r}: {why}", NothingToUndoWarning, stacklevel=2
            )
            return None
        event = dict(zip(_EVENT_KEYS, row, strict=True))
        event["shown_at"], event["answered_at"] = _utc(row[5]), _utc(row[6])
        event["undo_event_id"] = undo_id
        restored = None if live is None or live[0] != "label" else live[1]
        if self._multi_label:  # a set of classes, stored as a JSON array
            event["label"], restored = decode_labels(row[3]), decode_labels(restored)
        event["restored"] = None if live is None else {"action": live[0], "label": restored}
        return event

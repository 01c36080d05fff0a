"""Work routing: leased claims on items, and following a team's events.

A claim is a lease ``(item_id, annotator, expires)`` in the mutable ``claims``
table (not an event: leases come and go, the log keeps only answers).
:meth:`ClaimsMixin.claim` runs inside the store's write transaction (SQLite:
``BEGIN IMMEDIATE``; PostgreSQL: the session's advisory lock), so two
annotators claiming at once never both get an item meant for one. An item is
offered to an annotator who has not acted on it while fewer than ``overlap``
*other* annotators label it or hold a live lease on it; an expired lease is free.
Leases are timed by the database's clock on PostgreSQL (machines' clocks may
differ), by the local clock on SQLite (one machine).

A lease is a promise about the future; the write is the truth. ``label(...,
overlap=k)`` checks the labels, not the leases, in its write transaction (see
``_writes``); a write renews its writer's live leases (the :class:`LeaseBook` keeps
this store object's lease length per annotator), and a label that fills an item
deletes the other annotators' leases on it, so their :meth:`~ClaimsMixin.renew`
sees the loss. ``conflict`` events are not answers here: an annotator whose label
became a conflict may be offered the item again when it has room.

Examples
--------
>>> import os, tempfile
>>> from alwidgets.store import SessionStore
>>> tmp = tempfile.mkdtemp()
>>> path = os.path.join(tmp, "team.db")
>>> ana = SessionStore(path, annotator="ana"); bo = SessionStore(path, annotator="bo")
>>> ana.claim(range(10), 3), bo.claim(range(10), 3)
([0, 1, 2], [3, 4, 5])
>>> _ = ana.label(0, "x"); ana.release()
3
>>> bo.claim(range(10), 3)  # bo's own leases come first; 0 is labeled, 1 and 2 are free
[1, 2, 3]
>>> sorted(bo.claims["annotator"].tolist())
['bo', 'bo', 'bo', 'bo', 'bo']
>>> ana.close(); bo.close(); import shutil; shutil.rmtree(tmp)
"""

from __future__ import annotations

import itertools
import numbers
import threading
from collections.abc import Iterable, Iterator
from typing import TYPE_CHECKING, Any, cast

from alwidgets.exceptions import InvalidInputError
from alwidgets.store._codec import Value, encode_item_id

if TYPE_CHECKING:  # pragma: no cover
    import pandas as pd

    from alwidgets.store._backend import Backend

__all__ = ["ClaimsMixin", "LeaseBook"]

_CHUNK = 2048
_LIVE = "NOT EXISTS (SELECT 1 FROM events AS u WHERE u.undoes = e.id)"
_ANSWER = "action IN ('label', 'skip', 'unsure')"  # not an undo, not a conflict
_ACTED_SQL = (
    f"SELECT DISTINCT item_id FROM events AS e WHERE annotator = ? AND {_ANSWER} "
    f"AND {_LIVE} AND {{items}}"
)
_LABELED_SQL = (
    "SELECT DISTINCT item_id, annotator FROM events AS e WHERE action = 'label' "
    f"AND annotator != ? AND {_LIVE} AND {{items}}"
)
_LEASED_SQL = (
    "SELECT item_id, annotator FROM claims WHERE annotator != ? AND expires > ? AND {items}"
)
#: On a server, the same rule as one query per chunk: one round trip instead of three.
_FREE_SQL = f"""
SELECT c.item_id FROM unnest(?::jsonb[]) WITH ORDINALITY AS c(item_id, pos)
WHERE NOT EXISTS (
    SELECT 1 FROM events AS e WHERE e.item_id = c.item_id AND e.annotator = ?
      AND e.{_ANSWER} AND {_LIVE})
  AND (SELECT count(DISTINCT o.annotator) FROM (
        SELECT e.annotator FROM events AS e WHERE e.item_id = c.item_id
          AND e.action = 'label' AND e.annotator != ? AND {_LIVE}
        UNION ALL
        SELECT l.annotator FROM claims AS l WHERE l.item_id = c.item_id
          AND l.annotator != ? AND l.expires > ?) AS o) < ?
ORDER BY c.pos LIMIT ?
"""
#: Expired leases are free anyway; every this many claims they are also deleted.
_SWEEP_EVERY = 50
_UPSERT_SQL = (
    "INSERT INTO claims (item_id, annotator, expires) VALUES (?, ?, ?) "
    "ON CONFLICT (item_id, annotator) DO UPDATE SET expires = excluded.expires"
)


def _key(value: Any) -> tuple[str, Any]:
    return (type(value).__name__, value)


def _positive(value: Any, name: str, kind: type = numbers.Real) -> None:
    number: Any = value
    if isinstance(number, bool) or not isinstance(value, kind) or not float(number) > 0:
        raise InvalidInputError(f"{name} must be a positive number, got {value!r}.")


def _encoded(items: Iterable[Any]) -> Iterator[Value]:
    """Item ids checked and encoded one by one, repeats left out (a ranking may be long:
    a claim encodes only as much of it as it reads)."""
    if isinstance(items, str | bytes) or not isinstance(items, Iterable):
        raise InvalidInputError(
            f"items must be a list of item ids, got {type(items).__name__}; wrap a single id "
            "in a list."
        )
    seen: set[tuple[str, Any]] = set()
    for item in items:
        value = encode_item_id(item)
        if _key(value) not in seen:
            seen.add(_key(value))
            yield value


class _Ranking:
    """The candidates, encoded as far as they were read; iterable again (a claim retried
    after a lost connection reads the same items, even from a one-shot generator)."""

    def __init__(self, items: Iterable[Any]) -> None:
        self._source = _encoded(items)
        self._read: list[Value] = []

    def __iter__(self) -> Iterator[Value]:
        i = 0
        while True:
            if i == len(self._read):
                value = next(self._source, None)
                if value is None:
                    return
                self._read.append(value)
            yield self._read[i]
            i += 1


def _take(
    conn: Any, backend: Backend, items: Iterator[Value], n: int, me: str, overlap: int, now: float
) -> list[Value]:
    """Up to ``n`` of ``items`` (in order) that ``me`` may work on now."""
    taken: list[Value] = []
    size = max(4 * n, 32)  # look at the top of the ranking first, then further
    while chunk := list(itertools.islice(items, size)):
        size = min(4 * size, _CHUNK)
        if backend.server:
            left = n - len(taken)
            params = [[backend.value(v) for v in chunk], me, me, me, now, overlap, left]
            taken += [row[0] for row in conn.execute(_FREE_SQL, params)]
            if len(taken) == n:
                return taken
            continue
        where, params = backend.in_list("item_id", chunk)
        acted = {_key(r[0]) for r in conn.execute(_ACTED_SQL.format(items=where), [me, *params])}
        others: dict[tuple[str, Any], set[str]] = {}
        for item, who in conn.execute(_LABELED_SQL.format(items=where), [me, *params]):
            others.setdefault(_key(item), set()).add(who)
        for item, who in conn.execute(_LEASED_SQL.format(items=where), [me, now, *params]):
            others.setdefault(_key(item), set()).add(who)
        for value in chunk:
            if _key(value) not in acted and len(others.get(_key(value), ())) < overlap:
                taken.append(value)
                if len(taken) == n:
                    return taken
    return taken


class LeaseBook:
    """How long this store object's leases last, per annotator: the ``lease_seconds``
    of its last :meth:`~ClaimsMixin.claim` for them. A write renews the writer's live
    leases by that much; an annotator the object holds no claims for (never claimed,
    or released all) renews nothing, so a lone labeler's write has no lease statement.

    Examples
    --------
    >>> book = LeaseBook()
    >>> book.claimed("ana", 30.0); book.seconds("ana"), book.seconds("bo")
    (30.0, None)
    >>> book.released("ana"); book.seconds("ana") is None
    True
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._seconds: dict[str, float] = {}

    def claimed(self, annotator: str, seconds: float) -> None:
        with self._lock:
            self._seconds[annotator] = seconds

    def released(self, annotator: str) -> None:
        with self._lock:
            self._seconds.pop(annotator, None)

    def seconds(self, annotator: str) -> float | None:
        with self._lock:
            return self._seconds.get(annotator)


class ClaimsMixin:
    """``claim``, ``renew``, ``release``, ``claims`` and ``changes_since`` of a store."""

    _backend: Backend
    _leases: LeaseBook
    _multi_label: bool

    def _annotator(self, annotator: str | None) -> str:  # pragma: no cover - see SessionStore
        raise NotImplementedError

    def _items(self, items: Iterable[Any]) -> list[Value]:
        return list(_encoded(items))

    def claim(
        self,
        candidates: Iterable[Any],
        n: int,
        *,
        annotator: str | None = None,
        overlap: int = 1,
        lease_seconds: float = 300.0,
    ) -> list[Value]:
        """Lease up to ``n`` of ``candidates``, in their order, for ``annotator``.

        An item is taken when this annotator has not acted on it (label, skip or
        unsure, not undone; a ``conflict`` event does not count) and fewer than
        ``overlap`` other annotators labeled it or hold a live lease on it. Items
        this annotator leases already are taken again (the lease is extended).
        Atomic: concurrent claims by other processes never take the same item
        beyond ``overlap``. From now on, this store object's writes for the
        annotator renew their live leases by ``lease_seconds``.

        Parameters
        ----------
        candidates : iterable of int or str
            Item ids, best first (e.g. the model's ranking).
        n : int
            How many items to take at most.
        annotator : str, optional
            Defaults to :attr:`annotator`.
        overlap : int, default 1
            How many different annotators should label each item.
        lease_seconds : float, default 300
            How long the lease lasts unless renewed (:meth:`renew`).

        Returns
        -------
        list
            The claimed item ids, in candidate order (fewer than ``n`` when the
            candidates run out).
        """
        _positive(n, "n", numbers.Integral)
        _positive(overlap, "overlap", numbers.Integral)
        _positive(lease_seconds, "lease_seconds")
        ranking = _Ranking(candidates)
        next(iter(ranking), None)  # bad input fails here, before the transaction
        me = self._annotator(annotator)
        backend = self._backend

        def work(conn: Any) -> list[Value]:
            now = backend.now(conn)
            taken = _take(conn, backend, iter(ranking), int(n), me, int(overlap), now)
            if taken:
                expires = now + float(lease_seconds)
                conn.executemany(_UPSERT_SQL, [(backend.value(v), me, expires) for v in taken])
            if sweep:
                conn.execute("DELETE FROM claims WHERE expires < ?", (now - 3600.0,))
            return taken

        self._n_claims = getattr(self, "_n_claims", 0) + 1
        sweep = self._n_claims % _SWEEP_EVERY == 1
        self._leases.claimed(me, float(lease_seconds))
        return backend.run(work, write=True)

    def renew(
        self,
        items: Iterable[Any] | None = None,
        *,
        annotator: str | None = None,
        lease_seconds: float = 300.0,
    ) -> list[Value]:
        """Extend the annotator's live leases (all, or those on ``items``).

        An expired lease is not renewed (someone else may hold the item now), nor
        one deleted because another annotator's label filled its item: claim it
        again. Returns the item ids whose lease was extended, so a caller sees
        which of its items it lost.
        """
        _positive(lease_seconds, "lease_seconds")
        me = self._annotator(annotator)
        wanted = None if items is None else self._items(items)
        backend = self._backend

        def work(conn: Any) -> list[Value]:
            now = backend.now(conn)
            sql = "UPDATE claims SET expires = ? WHERE annotator = ? AND expires > ?"
            params: list[Any] = [now + float(lease_seconds), me, now]
            if wanted is not None:
                if not wanted:
                    return []
                where, values = backend.in_list("item_id", wanted)
                sql, params = f"{sql} AND {where}", params + values
            return [r[0] for r in conn.execute(sql + " RETURNING item_id", params).fetchall()]

        return backend.run(work, write=True)

    def release(self, items: Iterable[Any] | None = None, *, annotator: str | None = None) -> int:
        """Give up the annotator's leases (all, or those on ``items``); returns how many.

        After releasing all of them, this store object's writes for the annotator
        renew nothing (until the next :meth:`claim`).
        """
        me = self._annotator(annotator)
        wanted = None if items is None else self._items(items)
        if wanted is None:
            self._leases.released(me)
        backend = self._backend

        def work(conn: Any) -> int:
            sql, params = "DELETE FROM claims WHERE annotator = ?", [cast(Any, me)]
            if wanted is not None:
                if not wanted:
                    return 0
                where, values = backend.in_list("item_id", wanted)
                sql, params = f"{sql} AND {where}", params + values
            return len(conn.execute(sql + " RETURNING item_id", params).fetchall())

        return backend.run(work, write=True)

    @property
    def claims(self) -> pd.DataFrame:
        """Live leases: columns ``item_id``, ``annotator``, ``expires`` (UTC), soonest first."""
        import pandas as pd

        from alwidgets.store._views import times, typed

        backend = self._backend

        def read(conn: Any) -> list[Any]:
            now = backend.now(conn)
            sql = (
                "SELECT item_id, annotator, expires FROM claims WHERE expires > ? ORDER BY expires"
            )
            return list(conn.execute(sql, (now,)).fetchall())

        rows = backend.run(read)
        cols = list(zip(*rows, strict=True)) if rows else [(), (), ()]
        return pd.DataFrame(
            {
                "item_id": typed(cols[0]),
                "annotator": pd.array(cols[1], dtype="str"),
                "expires": times(cols[2]),
            }
        )

    def changes_since(self, event_id: int = 0) -> pd.DataFrame:
        """Events after ``event_id`` (by anyone), like :attr:`events`; to follow a team.

        Keep the largest index seen and pass it next time. ``undone`` marks the
        events of the result that an undo (possibly an older event's) reverted.
        """
        from alwidgets.store._replay import _NEW_EVENTS_SQL
        from alwidgets.store._views import events_part

        if not isinstance(event_id, numbers.Integral) or isinstance(event_id, bool):
            raise InvalidInputError(f"event_id must be an int (an event id), got {event_id!r}.")

        def read(conn: Any) -> tuple[list[Any], list[Any]]:
            rows = conn.execute(_NEW_EVENTS_SQL, (int(event_id),)).fetchall()
            undone = conn.execute(
                "SELECT undoes FROM events WHERE undoes > ?", (int(event_id),)
            ).fetchall()
            return rows, undone

        rows, undone = self._backend.run(read)
        frame = events_part(rows, self._multi_label)
        targets = [r[0] for r in undone]
        frame.loc[frame.index.intersection(targets), "undone"] = True
        return frame

"""``SessionStore``: the durable, append-only record of a labeling session."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import math
import numbers
import os
import threading
import time
import uuid
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from alwidgets._utils import IDLE_SECONDS
from alwidgets.exceptions import InvalidInputError, StoreError
from alwidgets.store._backend import Backend, SQLiteBackend
from alwidgets.store._claims import ClaimsMixin
from alwidgets.store._codec import (
    QUERY_INFO,
    Value,
    encode_annotator,
    encode_classes,
    encode_item_id,
    encode_label,
    encode_query_info,
)

if TYPE_CHECKING:  # pandas is imported on first read, so writers start fast
    import pandas as pd

    from alwidgets.store._replay import Replay

__all__ = ["NothingToUndoWarning", "SessionStore"]

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

# ``key`` is made by the client: a retry after a lost COMMIT reply finds its row.
_INSERT_SQL = """
INSERT INTO events (action, item_id, label, annotator, shown_at, answered_at,
                    model_version, score, rank, strategy, undoes, key)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
ON CONFLICT (key) DO NOTHING RETURNING id
"""

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


def _default_annotator() -> str:
    try:
        return getpass.getuser() or "annotator"
    except (OSError, KeyError):  # no login name in some containers
        return "annotator"


def _inserted(conn: Any, cursor: Any, table: str, key: str) -> int:
    """The id of the row just inserted with ``key``, or of the one a lost-reply retry wrote."""
    row = cursor.fetchone()
    if row is None:
        row = conn.execute(f"SELECT id FROM {table} WHERE key = ?", (key,)).fetchone()
    return int(row[0])


def _utc(seconds: float | None) -> dt.datetime | None:
    return None if seconds is None else dt.datetime.fromtimestamp(seconds, dt.UTC)


class SessionStore(ClaimsMixin):
    """An append-only, crash-safe log of labeling actions: an SQLite file or a server.

    Opening an existing file (or server session) resumes it; several processes
    (notebooks, annotators) may write the same session at once. A team on
    several machines shares a session on PostgreSQL (``postgresql://`` URL,
    ``session=`` names it): same API, views and guarantees. Every write is committed (WAL
    journal, ``synchronous=FULL``: durable against process crashes and power
    loss) before the call returns. Nothing is updated in place: an undo is an
    event too.

    Parameters
    ----------
    target : str or path-like
        The session file (created if missing; resumed if it is a session
        store), or a ``postgresql://user@host:5432/db`` URL (needs
        ``pip install "alwidgets[postgres]"``; the password may come from the
        URL, ``PGPASSWORD`` or ``~/.pgpass`` and is never shown).
    classes : sequence of int or str, optional
        The allowed labels. Checked against the file's classes when resuming
        (the same set is fine; the stored order is kept). ``None`` accepts any
        int/str label, or adopts the classes stored in the file.
    annotator : str, optional
        Default annotator name for this object's actions; defaults to the login
        name. Every write method can override it.
    session : str, optional
        On a server: the session's name (several per database, kept apart;
        1-50 letters, digits, ``_.-``). On a file: the file's stem, which it
        must match when given.

    Attributes
    ----------
    path : pathlib.Path or None
        The file (``None`` on a server).
    location : str
        Where the session lives, printable: the path, or the URL with its
        password masked (``***``).
    session : str
    classes : list or None
    annotator : str
    session_id : str
        Random id written when the file was created; the same for everyone
        resuming that file.

    Raises
    ------
    StoreMismatchError
        The file is not a session store (not SQLite, or SQLite without our
        meta data), uses a newer schema, or has other classes. The file is not
        modified.
    StoreError
        The directory does not exist or is read-only; the server is
        unreachable or refuses the password (the message says which).

    Notes
    -----
    Undone and overridden events stay in :attr:`events`. The current label of
    an item is its last label event (by commit order) that was not undone: with
    several writers, the last writer wins. One connection per object, guarded
    by a lock, so a background thread may use the same object; a forked child
    process opens its own connection on first use.

    On a server, writes to one session are serialised by a transaction-level
    advisory lock (as SQLite's write lock does), so event ids follow commit
    order; a call that finds the server gone retries for about 5 s, then
    raises ``StoreError("store unreachable: ...")`` and reconnects by itself
    on the next call. Each write carries a client-made key, so a retry after a
    lost COMMIT reply never records an action twice. Work routing between
    annotators: :meth:`claim`, :meth:`renew`, :meth:`release`, :attr:`claims`.

    Durability: ``synchronous=FULL`` fsyncs the WAL on every commit, so an
    answer survives a killed kernel *and* a power cut. (``NORMAL`` would only
    survive the former, and on this kind of disk saves well under a
    millisecond per write; see ``benchmarks/README.md``.) While the store is
    open, SQLite keeps ``<path>-wal`` and ``<path>-shm`` next to the file;
    they are folded back in when the last connection closes. To copy a
    session that is in use, use :meth:`export` (``what="events"``).

    Reads are incremental: the first read of ``labels``/``state`` fetches one
    row per item (through a trigger-maintained ``current`` index of the log),
    later reads re-read only the items that new events touched, and ``events``
    appends new rows to the cached frame. Reading ``labels`` after every answer
    stays cheap in long sessions (see ``benchmarks/README.md``).

    Examples
    --------
    >>> import os, tempfile
    >>> from alwidgets.store import SessionStore
    >>> tmp = tempfile.mkdtemp()
    >>> path = os.path.join(tmp, "session.db")
    >>> with SessionStore(path, classes=["cat", "dog"], annotator="ann") as store:
    ...     _ = store.label(0, "cat", score=0.93, rank=0, strategy="margin")
    ...     _ = store.label("img_7", "dog")
    ...     _ = store.skip(3)
    ...     store.labels["label"].to_dict()
    {0: 'cat', 'img_7': 'dog'}

    Reopening resumes the session:

    >>> with SessionStore(path) as store:
    ...     store.classes, len(store.events), store.undo(annotator="ann")["action"]
    (['cat', 'dog'], 3, 'skip')
    >>> import shutil; shutil.rmtree(tmp)
    """

    #: Breaks longer than this (seconds) do not count as active labeling time.
    idle_seconds: float = IDLE_SECONDS

    def __init__(
        self,
        target: str | os.PathLike[str],
        *,
        classes: Any = None,
        annotator: str | None = None,
        session: str | None = None,
    ) -> None:
        from alwidgets.store._pg import PostgresBackend, is_url

        if not isinstance(target, str | os.PathLike) or not os.fspath(target):
            raise InvalidInputError(
                f"path must be a file path (str or pathlib.Path) or a postgresql:// URL, got "
                f"{target!r}."
            )
        wanted = encode_classes(classes)
        self.annotator = _default_annotator() if annotator is None else annotator
        self._lock = threading.RLock()
        self._replay_: Replay | None = None  # built on the first read
        self._models: tuple[int, pd.DataFrame] | None = None
        self._pending: tuple[tuple[Any, ...], str] | None = None  # see _keyed
        self._backend: Backend
        self.path: Path | None = None
        if is_url(target):
            self._backend = PostgresBackend(str(target), wanted, session)
        else:
            self.path = Path(os.fspath(target)).expanduser().absolute()
            self._backend = SQLiteBackend(self.path, wanted, session)
        meta = self._backend.meta
        self.location: str = self._backend.location
        self.session: str = self._backend.session
        self._classes: list[Value] | None = meta.classes
        self.session_id: str = meta.session_id
        self.created_at: str = meta.created_at
        self.schema_version: int = meta.schema_version

    @property
    def annotator(self) -> str:
        """Who acts when a write method gets no ``annotator=``; assignable."""
        return self._annotator_name

    @annotator.setter
    def annotator(self, name: str) -> None:
        self._annotator_name = encode_annotator(name)

    @property
    def classes(self) -> list[Value] | None:
        """The session's classes (a copy), or ``None`` when any int/str label goes."""
        return None if self._classes is None else list(self._classes)

    # ------------------------------------------------------------------ plumbing
    def _run(self, fn: Any, *, write: bool = False) -> Any:
        """``fn(connection)`` on the backend; ``write=True``: committed when this returns."""
        return self._backend.run(fn, write=write)

    def _annotator(self, annotator: str | None) -> str:
        return self.annotator if annotator is None else encode_annotator(annotator)

    def _record(
        self,
        action: str,
        item_id: Any,
        label: Any,
        annotator: str | None,
        query_info: tuple[Any, Any, Any, Any, Any],
        unknown: dict[str, Any],
    ) -> int:
        if unknown:
            raise TypeError(
                f"{action}() got unexpected keyword argument(s) {sorted(unknown)}; accepted: "
                f"annotator, {', '.join(QUERY_INFO)}."
            )
        item = encode_item_id(item_id)
        value = None if label is None else encode_label(label, self._classes)
        who = self._annotator(annotator)
        answered_at = time.time()
        named = dict(zip(QUERY_INFO, query_info, strict=True))
        info = encode_query_info(answered_at=answered_at, **named)
        shown_at, model_version, score, rank, strategy = info
        enc = self._backend.value
        row = (action, enc(item), enc(value), who, shown_at, answered_at, enc(model_version))
        with self._keyed((action, item, value, who)) as key:
            params = (*row, score, rank, strategy, None, key)
            return self._backend.insert(_INSERT_SQL, params, "events", key)

    @contextmanager
    def _keyed(self, what: tuple[Any, ...]) -> Iterator[str]:
        """The idempotency key of a write: a new one, or, when the same write failed
        last (the server was unreachable, maybe right after it committed), the key it
        had, so a caller's retry cannot record the action twice."""
        with self._lock:
            pending = self._pending
            key = pending[1] if pending is not None and pending[0] == what else uuid.uuid4().hex
        try:
            yield key
        except StoreError:
            self._pending = (what, key)
            raise
        self._pending = None

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
        **unknown: Any,
    ) -> int:
        """Record that ``item_id`` has label ``label``; durable when this returns.

        Parameters
        ----------
        item_id : int or str
            The item's id (its index value in the pool). NumPy ints become int.
        label : int or str
            One of :attr:`classes` (when the session has classes).
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
        **unknown
            Anything else raises a ``TypeError`` that lists the accepted names.

        Returns
        -------
        int
            The event id.

        Raises
        ------
        UnknownLabelError
            ``label`` is not one of :attr:`classes`.
        InvalidInputError
            Bad id, label (None/NaN) or query info. Nothing is written.
        TypeError
            An unknown keyword argument.

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
        >>> store.close(); import shutil; shutil.rmtree(tmp)
        """
        if label is None:
            raise InvalidInputError(
                "label is None; pass one of the classes, or use skip()/unsure()."
            )
        info = (shown_at, model_version, score, rank, strategy)
        return self._record("label", item_id, label, annotator, info, unknown)

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
        touched. The undo is itself an event, durable when this returns.

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
                cursor = conn.execute(_INSERT_SQL, (*undone, None, None, None, target[0], key))
                undo_id = _inserted(conn, cursor, "events", key)
            live = conn.execute(_LIVE_SQL, (enc(target[2]),)).fetchone()
            return target, undo_id, live

        with self._keyed(("undo", who)) as key:
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
        event["restored"] = (
            None
            if live is None
            else {"action": live[0], "label": live[1] if live[0] == "label" else None}
        )
        return event

    def log_model(self, version: Any, n_labels: int, **metrics: Any) -> int:
        """Record a learning-curve point: a model trained on ``n_labels`` labels.

        Parameters
        ----------
        version : int or str
            The model version (the one later passed as ``model_version``).
        n_labels : int
            How many labels it was trained on.
        **metrics
            Numbers (or short strings) such as ``accuracy=0.91``; NaN is stored
            as missing.

        Returns
        -------
        int
            The row id in :attr:`models`.

        Examples
        --------
        >>> import os, tempfile
        >>> from alwidgets.store import SessionStore
        >>> tmp = tempfile.mkdtemp()
        >>> with SessionStore(os.path.join(tmp, "s.db")) as store:
        ...     _ = store.log_model(1, 20, accuracy=0.71)
        ...     _ = store.log_model(2, 30, accuracy=0.78)
        ...     store.models[["version", "n_labels", "accuracy"]].to_dict("list")
        {'version': [1, 2], 'n_labels': [20, 30], 'accuracy': [0.71, 0.78]}
        >>> import shutil; shutil.rmtree(tmp)
        """
        value = encode_query_info(
            shown_at=None,
            model_version=version,
            score=None,
            rank=None,
            strategy=None,
            answered_at=0.0,
        )[1]
        if value is None:
            raise InvalidInputError("version is None; pass the model's int or str version.")
        if not isinstance(n_labels, numbers.Integral) or isinstance(n_labels, bool) or n_labels < 0:
            raise InvalidInputError(f"n_labels must be a non-negative int, got {n_labels!r}.")
        clean: dict[str, float | int | str | None] = {}
        for key, metric in metrics.items():
            if isinstance(metric, str) or metric is None:
                clean[key] = metric
            elif isinstance(metric, numbers.Real) and not isinstance(metric, bool):
                number = float(metric) if not isinstance(metric, numbers.Integral) else int(metric)
                if isinstance(number, float) and not math.isfinite(number):
                    clean[key] = None
                else:
                    clean[key] = number
            else:
                raise InvalidInputError(
                    f"metric {key}={metric!r} must be a number or a str; pass e.g. accuracy=0.9."
                )
        row = (self._backend.value(value), int(n_labels), time.time())
        metrics_json = json.dumps(clean, allow_nan=False)

        sql = (
            "INSERT INTO models (version, n_labels, time, metrics, key) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (key) DO NOTHING RETURNING id"
        )
        with self._keyed(("model", value, int(n_labels), metrics_json)) as key:
            return self._backend.insert(sql, (*row, metrics_json, key), "models", key)

    # --------------------------------------------------------------------- reads
    def _scalar(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self._run(lambda conn: conn.execute(sql, params).fetchone()[0])

    @property
    def _replay(self) -> Replay:
        if self._replay_ is None:
            from alwidgets.store._replay import Replay

            self._replay_ = Replay(self._backend.value)
        return self._replay_

    def _view(self, name: str) -> pd.DataFrame:
        """A view of the log, patched with whatever was written since the last read."""
        with self._lock:
            if name == "events":
                return self._run(self._replay.events)
            return self._run(lambda conn: self._replay.view(conn, name))

    @property
    def events(self) -> pd.DataFrame:
        """Every event, oldest first, indexed by ``event_id``.

        Columns: ``action`` (label/skip/unsure/undo), ``item_id``, ``label``,
        ``annotator``, ``shown_at`` and ``answered_at`` (UTC datetimes),
        ``seconds`` (answered − shown), ``model_version``, ``score``, ``rank``,
        ``strategy``, ``undoes`` (the event an undo reverts) and ``undone``
        (whether a later undo reverted this event). ``item_id``/``label`` are
        int64 or str columns (object when a session mixes both).
        """
        return self._view("events")

    @property
    def labels(self) -> pd.DataFrame:
        """Current label per item, in the order the items were labeled.

        Index ``item_id``; columns ``label``, ``annotator``, ``time`` (UTC).
        Cached until the next event, so reading it often is cheap.
        """
        return self._view("labels")

    @property
    def state(self) -> pd.DataFrame:
        """Last action per item that is not undone.

        Index ``item_id``; columns ``action`` (label/skip/unsure), ``label``
        (missing unless labeled), ``annotator``, ``time``. Items not in it were
        never answered (or all their actions were undone).
        """
        return self._view("state")

    @property
    def models(self) -> pd.DataFrame:
        """Learning-curve points from :meth:`log_model`.

        Columns ``version``, ``n_labels``, ``time`` and one column per metric.
        """
        from alwidgets.store import _views

        with self._lock:
            key = self._scalar("SELECT coalesce(max(id), 0) FROM models")
            if self._models is None or self._models[0] != key:
                self._models = (key, self._run(_views.models_frame))
            return self._models[1].copy()

    def __len__(self) -> int:
        """Number of events (all actions, undos included)."""
        return int(self._scalar("SELECT count(*) FROM events"))

    def stats(self) -> dict[str, Any]:
        """Summary numbers for the session.

        Returns
        -------
        dict
            ``n_events``; ``n_items`` (items with a live action); ``n_labeled``
            (items with a current label); ``n_labels``, ``n_skipped``,
            ``n_unsure`` (live actions); ``n_undo``; ``per_class`` (current
            labels per class); ``per_annotator`` (live label actions per
            annotator); ``active_minutes`` (each answer costs the time since
            its item was shown or since the annotator's previous answer,
            whichever is shorter; costs over :attr:`idle_seconds` are breaks
            and count nothing);
            ``labels_per_minute``; ``median_seconds_per_label`` (answered −
            shown, over label actions that know ``shown_at``). Rates are NaN
            when undefined.

        Examples
        --------
        >>> import os, tempfile, time
        >>> from alwidgets.store import SessionStore
        >>> tmp = tempfile.mkdtemp()
        >>> with SessionStore(os.path.join(tmp, "s.db"), classes=["a", "b"]) as store:
        ...     for i in range(3):
        ...         _ = store.label(i, "a", shown_at=time.time() - 4.0)
        ...     _ = store.skip(3)
        ...     s = store.stats()
        >>> s["per_class"], s["n_skipped"], round(s["median_seconds_per_label"])
        ({'a': 3}, 1, 4)
        >>> import shutil; shutil.rmtree(tmp)
        """
        from alwidgets.store import _views

        with self._lock:
            events, labels, state = self.events, self.labels, self.state
        return _views.stats_dict(events, labels, state, self.idle_seconds)

    def agreement(self) -> pd.DataFrame:
        """Cohen's kappa per annotator pair, on the items both labeled.

        Each annotator's own latest live label counts. Columns ``annotator_a``,
        ``annotator_b``, ``n_items``, ``agreement`` (fraction identical) and
        ``kappa`` (NaN when undefined: both gave one and the same label
        throughout). Pairs without shared items are left out.

        Examples
        --------
        >>> import os, tempfile
        >>> from alwidgets.store import SessionStore
        >>> tmp = tempfile.mkdtemp()
        >>> with SessionStore(os.path.join(tmp, "s.db")) as store:
        ...     for i, (a, b) in enumerate(["xx", "xy", "yy", "yy"]):
        ...         _ = store.label(i, a, annotator="ann"); _ = store.label(i, b, annotator="bo")
        ...     store.agreement().round(3).to_dict("records")
        [{'annotator_a': 'ann', 'annotator_b': 'bo', 'n_items': 4, 'agreement': 0.75, 'kappa': 0.5}]
        >>> import shutil; shutil.rmtree(tmp)
        """
        from alwidgets.store import _views

        with self._lock:
            latest = self._run(self._replay.per_annotator)
        return _views.agreement_frame(latest)

    def export(self, path: str | os.PathLike[str], *, what: str = "labels") -> Path:
        """Write a view to CSV or Parquet, chosen by the file suffix.

        Parameters
        ----------
        path : str or path-like
            ``.csv`` (``.csv.gz`` etc. compress) or ``.parquet`` (needs
            ``pip install "alwidgets[parquet]"``). Written atomically.
        what : {"labels", "events", "state", "models"}
            Which view to write. ``"events"`` is the full, lossless log.

        Returns
        -------
        pathlib.Path
            Where the file was written. :func:`alwidgets.store.read_export`
            reads it back with the exact values and dtypes; in CSV, id-like
            columns get an ``<column>_type`` companion (``int``/``str``).

        Examples
        --------
        >>> import os, tempfile
        >>> import pandas as pd
        >>> from alwidgets.store import SessionStore
        >>> tmp = tempfile.mkdtemp()
        >>> with SessionStore(os.path.join(tmp, "s.db"), classes=["ham", "spam"]) as store:
        ...     _ = store.label("mail-1", "spam"); _ = store.label("mail-2", "ham")
        ...     out = store.export(os.path.join(tmp, "labels.csv"))
        >>> pd.read_csv(out)[["item_id", "label"]].to_dict("list")
        {'item_id': ['mail-1', 'mail-2'], 'label': ['spam', 'ham']}
        >>> import shutil; shutil.rmtree(tmp)
        """
        from alwidgets.store import _export

        if what not in _export.EXPORTABLE:
            raise InvalidInputError(
                f"what={what!r} cannot be exported; choose one of {list(_export.EXPORTABLE)}."
            )
        frame = getattr(self, what)
        return _export.export_frame(frame, path)

    # ----------------------------------------------------------------- lifecycle
    @property
    def closed(self) -> bool:
        """Whether :meth:`close` was called."""
        return self._backend.closed

    def close(self) -> None:
        """Close the file. Safe to call twice; every write was committed already."""
        with self._lock:
            if not self._backend.closed:
                self._backend.close()
                self._replay_ = None
                self._models = None

    def __enter__(self) -> SessionStore:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    def __repr__(self) -> str:
        state = "closed" if self.closed else f"{len(self)} events"
        return (
            f"SessionStore({self.location!r}, "
            + (f"session={self.session!r}, " if self.path is None else "")
            + f"classes={self.classes!r}, "
            f"annotator={self.annotator!r}, {state})"
        )

"""``SessionStore``: the durable, append-only record of a labeling session."""

from __future__ import annotations

import datetime as dt
import getpass
import json
import math
import numbers
import os
import sqlite3
import threading
import time
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from alwidgets._utils import IDLE_SECONDS
from alwidgets.exceptions import InvalidInputError, StoreError
from alwidgets.store._codec import (
    QUERY_INFO,
    Value,
    encode_annotator,
    encode_classes,
    encode_item_id,
    encode_label,
    encode_query_info,
)
from alwidgets.store._schema import BUSY_TIMEOUT_S, open_store

if TYPE_CHECKING:  # pandas is imported on first read, so writers start fast
    import pandas as pd

    from alwidgets.store._replay import Replay

__all__ = ["NothingToUndoWarning", "SessionStore"]

_UNDO_TARGET_SQL = """
SELECT id, action, item_id, label, annotator, shown_at, answered_at,
       model_version, score, rank, strategy
FROM events
WHERE annotator = ? AND action != 'undo'
  AND NOT EXISTS (SELECT 1 FROM events AS u WHERE u.undoes = events.id)
ORDER BY id DESC LIMIT 1
"""

# what is live for an item after an undo (the ``current`` table the triggers keep)
_LIVE_SQL = "SELECT state_action, state_label FROM current WHERE item_id = ?"

_INSERT_SQL = """
INSERT INTO events (action, item_id, label, annotator, shown_at, answered_at,
                    model_version, score, rank, strategy, undoes)
VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
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


def _begin_immediate(conn: sqlite3.Connection) -> None:
    """Take the write lock, polling every few ms while another writer holds it.

    SQLite's own busy handler sleeps up to 100 ms between tries, which showed as
    80 ms p99 writes with two notebooks on one file; polling with short, growing
    sleeps (0.2 ms to 5 ms) keeps the wait close to the other writer's commit.
    The connection's busy timeout (for reads) is restored afterwards.
    """
    conn.execute("PRAGMA busy_timeout = 0")
    try:
        deadline: float | None = None
        delay = 0.0002
        while True:
            try:
                conn.execute("BEGIN IMMEDIATE")
                return
            except sqlite3.OperationalError as err:
                if not _is_busy(err):
                    raise
                now = time.monotonic()
                if deadline is None:
                    deadline = now + BUSY_TIMEOUT_S
                elif now > deadline:
                    raise
            time.sleep(delay)
            delay = min(delay * 2, 0.005)
    finally:
        conn.execute(f"PRAGMA busy_timeout = {int(BUSY_TIMEOUT_S * 1000)}")


def _is_busy(err: sqlite3.OperationalError) -> bool:
    return "locked" in str(err) or "busy" in str(err)


def _rowid(cursor: sqlite3.Cursor) -> int:
    if cursor.lastrowid is None:  # pragma: no cover - every INSERT sets it
        raise StoreError("SQLite did not report the id of the new row; retry the call.")
    return int(cursor.lastrowid)


def _utc(seconds: float | None) -> dt.datetime | None:
    return None if seconds is None else dt.datetime.fromtimestamp(seconds, dt.UTC)


class SessionStore:
    """An append-only, crash-safe log of labeling actions in one SQLite file.

    Opening an existing file resumes its session; several processes (notebooks,
    annotators) may write the same file at once. Every write is committed (WAL
    journal, ``synchronous=FULL``: durable against process crashes and power
    loss) before the call returns. Nothing is updated in place: an undo is an
    event too.

    Parameters
    ----------
    path : str or path-like
        The session file. Created if missing; resumed if it is a session store.
    classes : sequence of int or str, optional
        The allowed labels. Checked against the file's classes when resuming
        (the same set is fine; the stored order is kept). ``None`` accepts any
        int/str label, or adopts the classes stored in the file.
    annotator : str, optional
        Default annotator name for this object's actions; defaults to the login
        name. Every write method can override it.

    Attributes
    ----------
    path : pathlib.Path
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
        The directory does not exist or is read-only.

    Notes
    -----
    Undone and overridden events stay in :attr:`events`. The current label of
    an item is its last label event (by commit order) that was not undone: with
    several writers, the last writer wins. One connection per object, guarded
    by a lock, so a background thread may use the same object; a forked child
    process opens its own connection on first use.

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
        path: str | os.PathLike[str],
        *,
        classes: Any = None,
        annotator: str | None = None,
    ) -> None:
        if not isinstance(path, str | os.PathLike) or not os.fspath(path):
            raise InvalidInputError(
                f"path must be a file path (str or pathlib.Path), got {path!r}."
            )
        wanted = encode_classes(classes)
        self.annotator = _default_annotator() if annotator is None else annotator
        self.path = Path(os.fspath(path)).expanduser().absolute()
        self._lock = threading.RLock()
        self._conn: sqlite3.Connection | None = None
        self._replay_: Replay | None = None  # built on the first read
        self._models: tuple[int, pd.DataFrame] | None = None
        conn, meta = open_store(self.path, wanted)
        self._conn, self._pid = conn, os.getpid()
        self._inherited: list[sqlite3.Connection] = []
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
    @contextmanager
    def _connection(self) -> Iterator[sqlite3.Connection]:
        with self._lock:
            if self._conn is None:
                raise StoreError(
                    f"the session store {str(self.path)!r} is closed; open it again with "
                    "SessionStore(path)."
                )
            if self._pid != os.getpid():
                # a forked child must not use (or close) the parent's SQLite connection
                self._inherited.append(self._conn)
                self._conn, _ = open_store(self.path, None)
                self._pid = os.getpid()
            try:
                yield self._conn
            except sqlite3.DatabaseError as err:
                raise self._error(err) from err

    def _error(self, err: sqlite3.DatabaseError) -> StoreError:
        where = f"the session store {str(self.path)!r}"
        text = str(err)
        if "locked" in text or "busy" in text:
            return StoreError(
                f"{where} stayed locked by another process for {BUSY_TIMEOUT_S:.0f} s ({text}); "
                "retry, or check for a writer that hangs inside a transaction."
            )
        if isinstance(err, sqlite3.OperationalError):
            return StoreError(
                f"cannot write {where} ({text}); check that the disk is not full and that the "
                "file and its directory are writable."
            )
        return StoreError(
            f"{where} looks damaged ({text}); run `sqlite3 FILE 'PRAGMA integrity_check'`, or "
            "restore it from an export."
        )

    @contextmanager
    def _transaction(self) -> Iterator[sqlite3.Connection]:
        """``BEGIN IMMEDIATE`` ... ``COMMIT``: committed (and fsynced) on exit."""
        with self._connection() as conn:
            _begin_immediate(conn)
            try:
                yield conn
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise

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
        row = (action, item, value, who, shown_at, answered_at)
        with self._transaction() as conn:
            cursor = conn.execute(_INSERT_SQL, (*row, model_version, score, rank, strategy, None))
        return _rowid(cursor)

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
        undo_id: int | None = None
        live: tuple[Any, ...] | None = None
        with self._transaction() as conn:
            row = conn.execute(_UNDO_TARGET_SQL, (who,)).fetchone()
            if row is not None:
                undone = ("undo", row[2], row[3], who, None, time.time())
                cursor = conn.execute(_INSERT_SQL, (*undone, None, None, None, None, row[0]))
                undo_id = _rowid(cursor)
                live = conn.execute(_LIVE_SQL, (row[2],)).fetchone()
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
        with self._transaction() as conn:
            cursor = conn.execute(
                "INSERT INTO models (version, n_labels, time, metrics) VALUES (?, ?, ?, ?)",
                (value, int(n_labels), time.time(), json.dumps(clean, allow_nan=False)),
            )
        return _rowid(cursor)

    # --------------------------------------------------------------------- reads
    def _scalar(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        with self._connection() as conn:
            return conn.execute(sql, params).fetchone()[0]

    @property
    def _replay(self) -> Replay:
        if self._replay_ is None:
            from alwidgets.store._replay import Replay

            self._replay_ = Replay()
        return self._replay_

    def _view(self, name: str) -> pd.DataFrame:
        """A view of the log, patched with whatever was written since the last read."""
        with self._connection() as conn:
            if name == "events":
                return self._replay.events(conn)
            return self._replay.view(conn, name)

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

        with self._connection() as conn:
            key = conn.execute("SELECT coalesce(max(id), 0) FROM models").fetchone()[0]
            if self._models is None or self._models[0] != key:
                self._models = (key, _views.models_frame(conn))
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

        with self._connection() as conn:
            latest = self._replay.per_annotator(conn)
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
        return self._conn is None

    def close(self) -> None:
        """Close the file. Safe to call twice; every write was committed already."""
        with self._lock:
            if self._conn is not None:
                self._conn.close()
                self._conn = None
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
            f"SessionStore({str(self.path)!r}, classes={self.classes!r}, "
            f"annotator={self.annotator!r}, {state})"
        )

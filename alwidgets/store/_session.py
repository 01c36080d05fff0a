"""``SessionStore``: the durable, append-only record of a labeling session.

The class holds the opening, plumbing and lifecycle; its writes are in
:mod:`._writes`, its reads in :mod:`._reads`, its claims in :mod:`._claims`.
"""

from __future__ import annotations

import getpass
import os
import threading
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from alwidgets.exceptions import InvalidInputError
from alwidgets.store._backend import Backend, SQLiteBackend
from alwidgets.store._claims import ClaimsMixin, LeaseBook
from alwidgets.store._codec import Value, encode_annotator, encode_classes
from alwidgets.store._keys import PendingKeys
from alwidgets.store._reads import ViewsMixin
from alwidgets.store._writes import NothingToUndoWarning, WritesMixin

if TYPE_CHECKING:  # pandas is imported on first read, so writers start fast
    import pandas as pd

    from alwidgets.store._replay import Replay
    from alwidgets.store._tally import Tally

__all__ = ["NothingToUndoWarning", "SessionStore", "default_annotator"]


def default_annotator() -> str:
    """Who acts when no annotator is named: ``JUPYTERHUB_USER`` when set, else the
    login name (``"annotator"`` when there is none, as in some containers).

    On a JupyterHub every user's kernel runs under the hub's user name, so the
    login name alone would name everyone alike.

    Examples
    --------
    >>> import os
    >>> os.environ["JUPYTERHUB_USER"] = "ana"
    >>> default_annotator()
    'ana'
    >>> del os.environ["JUPYTERHUB_USER"]
    """
    hub = os.environ.get("JUPYTERHUB_USER", "").strip()
    if hub:
        return hub
    try:
        return getpass.getuser() or "annotator"
    except (OSError, KeyError):  # no login name in some containers
        return "annotator"


#: The name the app imported before ``default_annotator`` was public.
_default_annotator = default_annotator


class SessionStore(WritesMixin, ViewsMixin, ClaimsMixin):
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
        Default annotator name for this object's actions; defaults to
        :func:`default_annotator` (``JUPYTERHUB_USER``, else the login name).
        Every write method can override it.
    session : str, optional
        On a server: the session's name (several per database, kept apart;
        1-50 letters, digits, ``_.-``). On a file: the file's stem, which it
        must match when given.
    multi_label : bool, optional
        The session kind. ``True``: an answer is the set of classes that apply
        (:meth:`label` takes any iterable of classes, the empty one meaning "none of
        these"; needs ``classes``); ``False``: one class per answer. ``None``
        (default) adopts the kind of an existing session; a new one is then
        single-label. Fixed when the session is created: opening it as the other
        kind is a ``StoreMismatchError``.

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
        meta data), uses a newer schema, has other classes, or is of the other
        kind (``multi_label``). The file is not modified.
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

    Double labels: claims are enforced where answers are written. A lease is a
    promise about the future; the write is the truth. ``label(..., overlap=k)``
    counts, in its own write transaction, the *other* annotators with a live label
    on the item: fewer than ``k``, it is a label; ``k`` or more, the answer is kept
    as a ``conflict`` event (in :attr:`events`, counted by :meth:`stats`,
    :meth:`annotator_stats` and :meth:`agreement`, undoable, but never a label:
    :attr:`labels`, :attr:`state` and :meth:`claim` ignore it) and
    :class:`~alwidgets.exceptions.LabelConflictError` names who labeled first. So
    the first committed label wins whatever the leases, the load or a frozen
    kernel, and no answer is silently dropped or doubled. The same transaction
    renews the writer's live leases (when this object claimed for that annotator)
    and, when the label fills the item, deletes the other annotators' leases on it.

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
    ...     _ = store.label(0, "cat", score=0.93, rank=1, strategy="margin")
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

    def __init__(
        self,
        target: str | os.PathLike[str],
        *,
        classes: Any = None,
        annotator: str | None = None,
        session: str | None = None,
        multi_label: bool | None = None,
    ) -> None:
        from alwidgets.store._pg import PostgresBackend, is_url

        if not isinstance(target, str | os.PathLike) or not os.fspath(target):
            raise InvalidInputError(
                f"path must be a file path (str or pathlib.Path) or a postgresql:// URL, got "
                f"{target!r}."
            )
        wanted = encode_classes(classes)
        if multi_label is not None and not isinstance(multi_label, bool):
            raise InvalidInputError(
                f"multi_label must be True, False or None (use the stored kind), got "
                f"{multi_label!r}."
            )
        self.annotator = default_annotator() if annotator is None else annotator
        self._lock = threading.RLock()
        self._replay_: Replay | None = None  # built on the first read
        self._tally_: Tally | None = None  # built on the first annotator_stats()
        self._leases = LeaseBook()
        self._models: tuple[int, pd.DataFrame] | None = None
        self._keys = PendingKeys()  # idempotency keys of failed writes, for their retries
        self._backend: Backend
        self.path: Path | None = None
        if is_url(target):
            self._backend = PostgresBackend(str(target), wanted, session, multi_label)
        else:
            self.path = Path(os.fspath(target)).expanduser().absolute()
            self._backend = SQLiteBackend(self.path, wanted, session, multi_label)
        meta = self._backend.meta
        self.location: str = self._backend.location
        self.session: str = self._backend.session
        self._classes: list[Value] | None = meta.classes
        self.session_id: str = meta.session_id
        self.created_at: str = meta.created_at
        self.schema_version: int = meta.schema_version
        self._multi_label: bool = meta.multi_label

    @property
    def annotator(self) -> str:
        """Who acts when a write method gets no ``annotator=``; assignable."""
        return self._annotator_name

    @annotator.setter
    def annotator(self, name: str) -> None:
        self._annotator_name = encode_annotator(name)

    @property
    def multi_label(self) -> bool:
        """Whether an answer is a set of classes (fixed when the session was created)."""
        return self._multi_label

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
                self._tally_ = None
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
            + ("multi_label=True, " if self.multi_label else "")
            + f"annotator={self.annotator!r}, {state})"
        )

"""Layer 6: the session store — every labeling action, durable and append-only.

:class:`SessionStore` keeps a labeling session in one SQLite file (stdlib
``sqlite3``, WAL journal, ``synchronous=FULL``) or, for a team, in a
PostgreSQL database (``SessionStore("postgresql://...", session="name")``,
optional extra ``alwidgets[postgres]``): each ``label``, ``skip``,
``unsure`` and ``undo`` is an event committed before the call returns, so a
crash, a kernel restart or a second annotator loses nothing. pandas is the
interface: :attr:`~SessionStore.events`, :attr:`~SessionStore.labels`,
:attr:`~SessionStore.state` and :attr:`~SessionStore.models` are DataFrames,
:meth:`~SessionStore.export` writes CSV or Parquet and :func:`read_export`
reads such a file back with exact types. :meth:`~SessionStore.claim` routes
work between annotators (leases, see ``_claims``; ``label(..., overlap=k)``
enforces them where the answer is written) and :func:`copy_session` moves a
session between a file and a server with its whole history. In a multi-label
session (``multi_label=True``) an answer is a set of classes (see ``_sets``).

Examples
--------
>>> import os, tempfile
>>> from alwidgets.store import SessionStore
>>> tmp = tempfile.mkdtemp()
>>> with SessionStore(os.path.join(tmp, "s.db"), classes=["neg", "pos"]) as store:
...     _ = store.label(10, "pos")
...     _ = store.label(11, "neg")
...     _ = store.undo()
...     store.labels.index.tolist()
[10]
>>> import shutil; shutil.rmtree(tmp)
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from alwidgets.store._copy import copy_session
from alwidgets.store._schema import SCHEMA_VERSION
from alwidgets.store._session import NothingToUndoWarning, SessionStore, default_annotator

if TYPE_CHECKING:  # pragma: no cover
    from alwidgets.store._export import read_export

__all__ = [
    "SCHEMA_VERSION",
    "NothingToUndoWarning",
    "SessionStore",
    "copy_session",
    "default_annotator",
    "read_export",
]


def __getattr__(name: str) -> Any:
    # pandas loads on first read, so a process that only writes starts fast
    if name == "read_export":
        from alwidgets.store._export import read_export

        return read_export
    raise AttributeError(f"module 'alwidgets.store' has no attribute {name!r}")

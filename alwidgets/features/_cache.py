"""A disk cache of embeddings: one SQLite file, keyed by sha256 of (model id, text).

SQLite gives what the cache needs without a home-made protocol: a write is one
transaction (a crash mid-write rolls back, the file stays usable), several processes
(two kernels on the same notebook) read and write at once (WAL, a busy timeout, and
``INSERT OR IGNORE`` so racing writers of the same text agree), and lookups by key are
indexed. Any problem with the cache (directory not writable, file damaged) becomes a
warning and the caller goes on without it: a cache must never stop labeling.
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import sqlite3
import warnings
from collections.abc import Sequence
from pathlib import Path

import numpy as np

__all__ = ["CACHE_FILE", "EmbeddingCache", "default_cache_dir", "text_key"]

CACHE_FILE = "embeddings.sqlite"
_LOOKUP_CHUNK = 500  # keys per SELECT ... IN (...), below SQLite's variable limit


def default_cache_dir() -> Path:
    """Where embeddings are cached when no directory is given.

    ``$ALWIDGETS_CACHE_DIR`` if set, else ``$XDG_CACHE_HOME/alwidgets`` (by default
    ``~/.cache/alwidgets``), with an ``embeddings`` subfolder.

    Examples
    --------
    >>> default_cache_dir().name
    'embeddings'
    """
    root = os.environ.get("ALWIDGETS_CACHE_DIR")
    if root:
        return Path(root).expanduser() / "embeddings"
    xdg = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(xdg).expanduser() / "alwidgets" / "embeddings"


def text_key(model_id: str, text: str) -> bytes:
    """The cache key of one text under one model: sha256 of both, 32 bytes.

    Examples
    --------
    >>> len(text_key("all-MiniLM-L6-v2", "hello"))
    32
    >>> text_key("a", "bc") == text_key("ab", "c")
    False
    """
    digest = hashlib.sha256()
    digest.update(model_id.encode("utf-8"))
    digest.update(b"\x00")
    digest.update(text.encode("utf-8", "surrogatepass"))
    return digest.digest()


class EmbeddingCache:
    """Embeddings on disk in ``<directory>/embeddings.sqlite``; float32 vectors by key.

    Parameters
    ----------
    directory : str or Path
        Created if missing. If it cannot be created or written, the cache is
        disabled with a ``RuntimeWarning`` (``enabled`` is False) and every lookup
        misses.

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> with tempfile.TemporaryDirectory() as d:
    ...     cache = EmbeddingCache(d)
    ...     keys = [text_key("m", "a"), text_key("m", "b")]
    ...     cache.put(keys[:1], np.ones((1, 3), dtype=np.float32))
    ...     found = cache.get(keys, dim=3)
    ...     cache.close()
    >>> sorted(found)  # positions found in the cache
    [0]
    >>> found[0].tolist()
    [1.0, 1.0, 1.0]
    """

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.path = Path(directory).expanduser() / CACHE_FILE
        self._conn: sqlite3.Connection | None = None
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            conn = sqlite3.connect(self.path, timeout=60.0, isolation_level=None)
            conn.execute("PRAGMA journal_mode=WAL")
            conn.execute("PRAGMA synchronous=NORMAL")
            conn.execute(
                "CREATE TABLE IF NOT EXISTS embeddings "
                "(key BLOB PRIMARY KEY, dim INTEGER NOT NULL, vector BLOB NOT NULL) WITHOUT ROWID"
            )
            self._conn = conn
        except (OSError, sqlite3.Error) as err:
            self._disable(f"cannot use {self.path.parent} ({err})")

    @property
    def enabled(self) -> bool:
        """Whether lookups and writes reach the disk."""
        return self._conn is not None

    def _disable(self, why: str) -> None:
        if self._conn is not None:
            with contextlib.suppress(sqlite3.Error):  # closing a broken connection
                self._conn.close()
        self._conn = None
        warnings.warn(
            f"embedding cache disabled: {why}; embeddings are computed without caching. "
            "Pass cache_dir= a writable folder (or cache_dir=False to silence this).",
            RuntimeWarning,
            stacklevel=3,
        )

    def get(self, keys: Sequence[bytes], dim: int | None = None) -> dict[int, np.ndarray]:
        """Cached vectors for ``keys``: {position in keys: float32 vector}; misses are absent.

        Vectors of another dimension than ``dim`` (when given) count as misses.
        """
        found: dict[int, np.ndarray] = {}
        if self._conn is None or not keys:
            return found
        where: dict[bytes, list[int]] = {}
        for i, key in enumerate(keys):
            where.setdefault(key, []).append(i)
        unique = list(where)
        try:
            for start in range(0, len(unique), _LOOKUP_CHUNK):
                chunk = unique[start : start + _LOOKUP_CHUNK]
                marks = ",".join("?" * len(chunk))
                rows = self._conn.execute(
                    f"SELECT key, dim, vector FROM embeddings WHERE key IN ({marks})", chunk
                ).fetchall()
                for key, d, blob in rows:
                    if (dim is not None and d != dim) or len(blob) != 4 * d:
                        continue
                    vec = np.frombuffer(blob, dtype=np.float32)
                    for i in where[bytes(key)]:
                        found[i] = vec
        except sqlite3.Error as err:
            self._disable(f"cannot read {self.path} ({err})")
            return {}
        return found

    def put(self, keys: Sequence[bytes], vectors: np.ndarray) -> None:
        """Store one vector per key, in one transaction (all or nothing)."""
        if self._conn is None or not len(keys):
            return
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        rows = [(k, int(v.shape[0]), v.tobytes()) for k, v in zip(keys, vectors, strict=True)]
        try:
            with self._transaction():
                self._conn.executemany(
                    "INSERT OR IGNORE INTO embeddings (key, dim, vector) VALUES (?, ?, ?)", rows
                )
        except sqlite3.Error as err:
            self._disable(f"cannot write {self.path} ({err})")

    def _transaction(self) -> _Transaction:
        assert self._conn is not None
        return _Transaction(self._conn)

    def __len__(self) -> int:
        if self._conn is None:
            return 0
        return int(self._conn.execute("SELECT COUNT(*) FROM embeddings").fetchone()[0])

    def close(self) -> None:
        """Close the connection (the file stays)."""
        if self._conn is not None:
            self._conn.close()
            self._conn = None


class _Transaction:
    """``BEGIN IMMEDIATE`` ... ``COMMIT``, rolled back on any error."""

    def __init__(self, conn: sqlite3.Connection) -> None:
        self.conn = conn

    def __enter__(self) -> None:
        self.conn.execute("BEGIN IMMEDIATE")

    def __exit__(self, exc_type: object, exc: object, tb: object) -> None:
        if exc_type is None:
            self.conn.execute("COMMIT")
        else:
            self.conn.execute("ROLLBACK")

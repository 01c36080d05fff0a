"""Child process for the cache tests: write entries, optionally die in the middle of a write.

Usage: ``python cache_writer.py DIR START STOP [die]``; vectors are ``[i, i, i]`` for key ``i``.
With ``die``: commit START..STOP, then open a transaction with more rows and exit hard
before it commits (as a killed kernel would).
"""

from __future__ import annotations

import os
import sys

import numpy as np

from alwidgets.features._cache import EmbeddingCache, text_key


def vectors(start: int, stop: int) -> tuple[list[bytes], np.ndarray]:
    keys = [text_key("test-model", f"text {i}") for i in range(start, stop)]
    vecs = np.repeat(np.arange(start, stop, dtype=np.float32)[:, None], 3, axis=1)
    return keys, vecs


if __name__ == "__main__":
    folder, start, stop = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
    cache = EmbeddingCache(folder)
    for lo in range(
        start, stop, 25
    ):  # many small transactions, to interleave with the other writer
        cache.put(*vectors(lo, min(lo + 25, stop)))
    if len(sys.argv) > 4 and sys.argv[4] == "die":
        keys, vecs = vectors(stop, stop + 100)
        conn = cache._conn
        assert conn is not None
        conn.execute("BEGIN IMMEDIATE")
        conn.executemany(
            "INSERT INTO embeddings (key, dim, vector) VALUES (?, ?, ?)",
            [(k, 3, v.tobytes()) for k, v in zip(keys, vecs, strict=True)],
        )
        os._exit(9)  # no commit, no close: the transaction dies with the process
    cache.close()

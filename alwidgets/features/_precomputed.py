"""Class descriptions with features you computed yourself (any embedding model).

:class:`PrecomputedEmbeddings` is the first step of a Pipeline whose ``X`` already
holds embeddings: it passes them through unchanged and gives the Pipeline a
``similarity(X, descriptions)`` method from your function that embeds the
descriptions, so ``ActiveLearner(..., descriptions=...)`` and
``simulate(..., descriptions=...)`` work as with :class:`TextFeatures`.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> from sklearn.pipeline import make_pipeline
>>> vectors = {"about cats": [1.0, 0.0], "about dogs": [0.0, 1.0]}
>>> def embed(texts):
...     return np.array([vectors[t] for t in texts])
>>> X = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3]])   # your precomputed embeddings
>>> step = PrecomputedEmbeddings(embed)
>>> step.similarity(X, {"cat": "about cats", "dog": "about dogs"}).argmax(axis=1).tolist()
[0, 1, 0]
>>> model = make_pipeline(step, LogisticRegression())
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin

from alwidgets._descriptions import description_texts
from alwidgets.exceptions import InvalidInputError

__all__ = ["PrecomputedEmbeddings"]


def _unit(M: Any) -> Any:
    from sklearn.preprocessing import normalize

    return normalize(M if sp.issparse(M) else np.asarray(M, dtype=np.float64))


class PrecomputedEmbeddings(TransformerMixin, BaseEstimator):
    """Pass precomputed embeddings through; compare them with embedded class descriptions.

    Parameters
    ----------
    embed_descriptions : callable
        ``embed_descriptions(list_of_str) -> array (n, d)`` with the same model (and
        width ``d``) that made ``X``. Make it a module-level function if the app's
        worker process must pickle the Pipeline.

    Notes
    -----
    ``transform`` returns ``X`` unchanged; ``fit`` only records its width. Like
    ``TextFeatures``, it never reads ``y``.
    """

    __alwidgets_label_free__ = True

    def __init__(self, embed_descriptions: Callable[[list[str]], Any]) -> None:
        self.embed_descriptions = embed_descriptions

    def fit(self, X: Any, y: Any = None) -> PrecomputedEmbeddings:
        """Record the width of ``X``; returns self."""
        self.n_features_in_ = int(np.shape(X)[1])
        return self

    def transform(self, X: Any) -> Any:
        """``X`` itself."""
        return X

    def description_rows(self, descriptions: Any) -> np.ndarray:
        """The descriptions' embeddings: rows like those of ``X`` (an ActiveLearner trains on them)."""
        return np.asarray(
            self.embed_descriptions(description_texts(descriptions)), dtype=np.float64
        )

    def similarity(self, X: Any, descriptions: Any) -> np.ndarray:
        """Cosine similarity of every row of ``X`` to every description, shape (n, k)."""
        if not callable(self.embed_descriptions):
            raise InvalidInputError(
                "embed_descriptions must be a function list[str] -> array (n, d), got "
                f"{type(self.embed_descriptions).__name__}."
            )
        texts = description_texts(descriptions)
        D = np.asarray(self.embed_descriptions(texts), dtype=np.float64)
        width = int(np.shape(X)[1]) if len(np.shape(X)) == 2 else -1
        if D.ndim != 2 or D.shape != (len(texts), width):
            raise InvalidInputError(
                f"embed_descriptions returned shape {D.shape} for {len(texts)} descriptions; "
                f"expected ({len(texts)}, {width}), the width of X: embed them with the model "
                "that made X."
            )
        if hasattr(X, "iloc"):
            X = X.to_numpy(dtype=np.float64)
        S = _unit(X) @ _unit(D).T
        return np.asarray(S, dtype=np.float64)

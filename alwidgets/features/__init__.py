"""Features a model can learn from with few labels.

* :class:`TextFeatures` — TF-IDF columns next to sentence embeddings
  (all-MiniLM-L6-v2 by default, ``pip install "alwidgets[embeddings]"``), cached on
  disk, usable in a ``Pipeline`` or to precompute ``X`` once.

Which to use: TF-IDF alone when classes differ in surface words (sources, product
codes, templates) and you want no deep-learning stack; embeddings when they differ in
meaning (sentiment, topic in other words); both (the default) when unsure — in the
benchmarks both together were at least as good as the better one alone.

What the classes mean, before any label (``docs/guide/descriptions.md``):

* :meth:`TextFeatures.similarity` — cosine similarity of texts to class descriptions.
* :func:`zero_shot` — a suggested class and its score per text (:class:`ZeroShot`).
* :func:`prefer_model` — whether the model's suggestions replace the zero-shot ones
  (out-of-fold accuracy on the labels against zero-shot accuracy on the same labels;
  :func:`out_of_fold_predictions` computes the former).
* :func:`description_phase` — whether the next batch is still chosen by the descriptions
  (until every class has a few labels or the model wins; what
  ``ActiveLearner(descriptions=...)`` applies and reports as ``description_phase_``).
* :class:`PrecomputedEmbeddings` — the same with embeddings you computed yourself.

Examples
--------
>>> from alwidgets.features import TextFeatures
>>> TextFeatures(embeddings=None).fit_transform(["a cat", "a dog"]).shape
(2, 2)
"""

from __future__ import annotations

from alwidgets._handover import DescriptionPhase, description_phase
from alwidgets.features._cache import default_cache_dir
from alwidgets.features._describe import (
    ModelPreference,
    ZeroShot,
    out_of_fold_predictions,
    prefer_model,
    zero_shot,
)
from alwidgets.features._precomputed import PrecomputedEmbeddings
from alwidgets.features._text import TextFeatures, check_texts

__all__ = [
    "DescriptionPhase",
    "ModelPreference",
    "PrecomputedEmbeddings",
    "TextFeatures",
    "ZeroShot",
    "check_texts",
    "default_cache_dir",
    "description_phase",
    "out_of_fold_predictions",
    "prefer_model",
    "zero_shot",
]

"""Features a model can learn from with few labels.

* :class:`TextFeatures` — TF-IDF columns next to sentence embeddings
  (all-MiniLM-L6-v2 by default, ``pip install "alwidgets[embeddings]"``), cached on
  disk, usable in a ``Pipeline`` or to precompute ``X`` once.

Which to use: TF-IDF alone when classes differ in surface words (sources, product
codes, templates) and you want no deep-learning stack; embeddings when they differ in
meaning (sentiment, topic in other words); both (the default) when unsure — in the
benchmarks both together were at least as good as the better one alone.

Examples
--------
>>> from alwidgets.features import TextFeatures
>>> TextFeatures(embeddings=None).fit_transform(["a cat", "a dog"]).shape
(2, 2)
"""

from __future__ import annotations

from alwidgets.features._cache import default_cache_dir
from alwidgets.features._text import TextFeatures, check_texts

__all__ = ["TextFeatures", "check_texts", "default_cache_dir"]

"""Zero-shot suggestions from class descriptions, and when the model's suggestions take over.

Before the first label, the only knowledge is what the classes mean. :func:`zero_shot`
embeds the texts and the descriptions with the same sentence model and suggests, per
text, the class whose description is closest (cosine similarity), with that
similarity as its score.

Once there are labels, :func:`prefer_model` (defined in ``alwidgets/_handover.py``, beside
the rule that decides when the queries stop following the descriptions) decides whose suggestion to show: the
model's cross-validated (out-of-fold) predictions on the labeled items and the
zero-shot suggestions on the same items are scored against the person's labels; the
model takes over when it is right on more of them. The comparison is paired (the same
items), needs no held-out labels, and is biased toward zero-shot early on (a
description cold start picks the items the descriptions fit best), so the switch
happens only when the model is clearly ahead.

Examples
--------
>>> from alwidgets.features import TextFeatures, zero_shot
>>> texts = ["a wonderful, moving film", "dull and far too long", "I loved every minute"]
>>> guess = zero_shot(texts, {"pos": "a positive movie review: the film is good",
...                           "neg": "a negative movie review: the film is bad"},
...                   features=TextFeatures(progress=False))
>>> guess.label.tolist()
['pos', 'neg', 'pos']
>>> bool((guess.score > 0).all())
True
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from alwidgets._descriptions import check_descriptions
from alwidgets._handover import ModelPreference, out_of_fold_predictions, prefer_model
from alwidgets.exceptions import InvalidInputError

__all__ = ["ModelPreference", "ZeroShot", "out_of_fold_predictions", "prefer_model", "zero_shot"]


@dataclass(frozen=True)
class ZeroShot:
    """Zero-shot suggestions: every item's similarity to every class description.

    Attributes
    ----------
    classes : ndarray, shape (k,)
        The described classes, in the descriptions' order.
    similarity : ndarray of float64, shape (n, k)
        Cosine similarity of each item to each description.
    """

    classes: np.ndarray
    similarity: np.ndarray

    @property
    def index(self) -> np.ndarray:
        """Position in :attr:`classes` of each item's suggestion (argmax similarity)."""
        return np.asarray(self.similarity.argmax(axis=1), dtype=np.int64)

    @property
    def label(self) -> np.ndarray:
        """Each item's suggested class."""
        return self.classes[self.index]

    @property
    def score(self) -> np.ndarray:
        """Each item's similarity to its suggested class (what a card shows)."""
        return np.asarray(self.similarity.max(axis=1), dtype=np.float64)

    def accuracy(self, y: Any, positions: Any = None) -> float:
        """Share of ``y`` (labels of the items at ``positions``, default all) suggested right."""
        y = np.asarray(y)
        guess = self.label if positions is None else self.label[np.asarray(positions)]
        if len(guess) != len(y):
            raise InvalidInputError(
                f"got {len(y)} labels for {len(guess)} suggestions; pass the positions of "
                "the labeled items."
            )
        return float(np.mean(guess == y)) if len(y) else float("nan")


def _text_features(features: Any) -> Any:
    from alwidgets.features._text import TextFeatures

    if features is None:
        return TextFeatures(tfidf=False)
    step = features.steps[0][1] if hasattr(features, "steps") else features
    if not hasattr(step, "similarity"):
        raise InvalidInputError(
            f"zero_shot needs a TextFeatures (or a Pipeline that starts with one) to embed "
            f"texts and descriptions, got {type(step).__name__}; pass features=TextFeatures()."
        )
    return step


def zero_shot(X: Any, descriptions: Any, *, features: Any = None) -> ZeroShot:
    """Suggest a class per text from the class descriptions alone (no labels).

    Parameters
    ----------
    X : sequence of str
        The texts (e.g. the whole pool: similarities are cached embeddings).
    descriptions : dict
        ``{class: description}``; see :meth:`alwidgets.features.TextFeatures.similarity`.
    features : TextFeatures, Pipeline or None
        Whose embedding model to use: a :class:`TextFeatures`, or a Pipeline that
        starts with one (the model you will train, so suggestions and model share
        the embedding). None: ``TextFeatures(tfidf=False)`` with the default model.

    Returns
    -------
    ZeroShot
        ``.label``, ``.index``, ``.score`` per text, ``.similarity`` (n, k).

    Raises
    ------
    InvalidInputError
        Bad texts or descriptions, or ``features`` that cannot embed.
    """
    desc = check_descriptions(descriptions)
    similarity = _text_features(features).similarity(X, desc)
    return ZeroShot(classes=np.asarray(list(desc)), similarity=similarity)

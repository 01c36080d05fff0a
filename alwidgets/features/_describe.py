"""Zero-shot suggestions from class descriptions, and when the model's suggestions take over.

Before the first label, the only knowledge is what the classes mean. :func:`zero_shot`
embeds the texts and the descriptions with the same sentence model and suggests, per
text, the class whose description is closest (cosine similarity), with that
similarity as its score.

Once there are labels, :func:`prefer_model` decides whose suggestion to show: the
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


@dataclass(frozen=True)
class ModelPreference:
    """Whose suggestions to show, and why (for a status line).

    Attributes
    ----------
    use_model : bool
        True when the model's suggestions should replace the zero-shot ones.
    model_accuracy, zero_shot_accuracy : float
        Out-of-fold accuracy of the model and accuracy of zero-shot on the same
        labeled items (NaN when not measured).
    n_labels : int
        Labeled items compared.
    reason : str
        One sentence saying what was compared.
    """

    use_model: bool
    model_accuracy: float
    zero_shot_accuracy: float
    n_labels: int
    reason: str


def prefer_model(y: Any, model_predictions: Any, zero_shot_predictions: Any) -> ModelPreference:
    """Decide whether the model's suggestions replace the zero-shot ones.

    The rule: the model takes over when its out-of-fold predictions on the labeled
    items are right on **more** of them than the zero-shot suggestions on the same
    items (a tie keeps zero-shot). Pure: the caller computes the out-of-fold
    predictions (e.g. :func:`out_of_fold_predictions`) and the zero-shot ones
    (:func:`zero_shot`). The measured consequence is in ``benchmarks/results/text.md``.

    Parameters
    ----------
    y : array-like of shape (n,)
        The person's labels.
    model_predictions : array-like of shape (n,) or None
        Out-of-fold predictions of the model on those items; None when the model
        cannot be validated yet (then zero-shot stays).
    zero_shot_predictions : array-like of shape (n,)
        Zero-shot suggestions for the same items.

    Returns
    -------
    ModelPreference

    Examples
    --------
    >>> prefer_model(["a", "b", "a", "b"], ["a", "b", "a", "a"], ["a", "a", "a", "a"]).use_model
    True
    >>> p = prefer_model(["a", "b"], None, ["a", "b"])
    >>> p.use_model, p.reason
    (False, 'zero-shot: the model cannot be cross-validated yet (fewer than 2 labels in some class)')
    """
    y = np.asarray(y)
    zs = np.asarray(zero_shot_predictions)
    if zs.shape != y.shape:
        raise InvalidInputError(
            f"zero_shot_predictions has shape {zs.shape} but y has shape {y.shape}; pass one "
            "suggestion per labeled item."
        )
    zs_acc = float(np.mean(zs == y)) if len(y) else float("nan")
    if model_predictions is None or len(y) == 0:
        return ModelPreference(
            False,
            float("nan"),
            zs_acc,
            len(y),
            "zero-shot: the model cannot be cross-validated yet (fewer than 2 labels in some class)",
        )
    pred = np.asarray(model_predictions)
    if pred.shape != y.shape:
        raise InvalidInputError(
            f"model_predictions has shape {pred.shape} but y has shape {y.shape}; pass one "
            "out-of-fold prediction per labeled item."
        )
    model_right, zs_right = int(np.sum(pred == y)), int(np.sum(zs == y))
    use = model_right > zs_right
    who = "model" if use else "zero-shot"
    reason = (
        f"{who}: on the {len(y)} labels the model (cross-validated) was right on {model_right}, "
        f"the descriptions on {zs_right}"
    )
    return ModelPreference(use, model_right / len(y), zs_acc, len(y), reason)


def out_of_fold_predictions(
    estimator: Any, X: Any, y: Any, *, cv: int = 5, random_state: int | None = 0
) -> np.ndarray | None:
    """Predictions for every labeled item from a model that did not see it (stratified folds).

    ``min(cv, smallest class count)`` folds; None when a class has fewer than two
    labels (no honest estimate yet) or only one class is labeled.

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.r_[np.zeros((4, 1)), np.ones((4, 1))]
    >>> out_of_fold_predictions(LogisticRegression(), X, [0] * 4 + [1] * 4).tolist()
    [0, 0, 0, 0, 1, 1, 1, 1]
    >>> out_of_fold_predictions(LogisticRegression(), X[:5], [0, 0, 0, 0, 1]) is None
    True
    """
    from sklearn.model_selection import StratifiedKFold, cross_val_predict

    y = np.asarray(y)
    _, counts = np.unique(y, return_counts=True)
    if len(counts) < 2 or counts.min() < 2:
        return None
    folds = StratifiedKFold(
        n_splits=int(min(cv, counts.min())),
        shuffle=True,
        random_state=random_state,
    )
    return np.asarray(cross_val_predict(estimator, X, y, cv=folds))

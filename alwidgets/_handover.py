"""When the model takes over from the class descriptions: for the cards and for the queries.

Two hand-over rules, pure functions over labels and predictions, shared by every layer
that needs them (the features layer re-exports them; the learner and the app call them):

* :func:`prefer_model` — whose suggestion a card shows: the model's once its
  out-of-fold predictions on the labeled items are right on more of them than the
  zero-shot suggestions on the same items (a tie keeps zero-shot).
* :func:`description_phase` — who chooses the next batch: the description cold start
  keeps choosing (balanced over classes, typical, diverse) while some described class
  has fewer than ``per_class`` labels and :func:`prefer_model` still keeps zero-shot; then
  the learner's strategy (margin by default). A model from one label per class is not
  good enough for its uncertainty to mean anything: margin sampling right after the first
  batch lost accuracy on every benchmark set (``benchmarks/results/text.md``), as
  low-budget active learning predicts (Hacohen et al. 2022: typical items first,
  uncertainty once the budget grows).

Examples
--------
>>> phase = description_phase(["a", "a", "b"], ["a", "b"], per_class=2)
>>> phase.describe, phase.reason
(True, "descriptions: class 'b' has 1 label (fewer than 2)")
>>> description_phase(["a", "a", "b", "b"], ["a", "b"], per_class=2).describe
False
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from alwidgets._check_args import check_int
from alwidgets._utils import plain
from alwidgets.exceptions import InvalidInputError

__all__ = [
    "DESCRIBE_PER_CLASS",
    "DescriptionPhase",
    "ModelPreference",
    "description_phase",
    "out_of_fold_predictions",
    "prefer_model",
]

#: Labels per described class before the learner's strategy takes over from the descriptions.
DESCRIBE_PER_CLASS = 3


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


@dataclass(frozen=True)
class DescriptionPhase:
    """Who chooses the next batch: the descriptions, or the learner's strategy.

    Attributes
    ----------
    describe : bool
        True: the next batch is still the description cold start's.
    counts : dict
        Labels so far per described class (in the descriptions' order).
    reason : str
        One sentence for a status line.
    preference : ModelPreference or None
        The card hand-over rule's verdict, when it was asked (every class has at
        least 2 labels, so the model can be cross-validated).
    """

    describe: bool
    counts: dict[Any, int]
    reason: str
    preference: ModelPreference | None = None


def description_phase(
    y: Any,
    classes: Sequence[Any],
    *,
    per_class: int = DESCRIBE_PER_CLASS,
    model_predictions: Any = None,
    zero_shot_predictions: Any = None,
) -> DescriptionPhase:
    """Whether the next batch is still chosen by the class descriptions.

    The rule: keep choosing by the descriptions while **some described class has fewer
    than** ``per_class`` **labels** and the model does not yet beat the descriptions on
    the labels (:func:`prefer_model`, asked only when both predictions are given);
    otherwise hand over to the learner's strategy.

    Parameters
    ----------
    y : array-like of shape (n,)
        The labels so far (the labeled items only, not the descriptions).
    classes : sequence
        The described classes.
    per_class : int, default 3
        Labels every class should have before the strategy takes over; ``0`` hands
        over at the first fit.
    model_predictions, zero_shot_predictions : array-like of shape (n,), optional
        Out-of-fold predictions of the model on the labeled items
        (:func:`out_of_fold_predictions`; None while a class has fewer than 2 labels)
        and the zero-shot suggestions for the same items.

    Returns
    -------
    DescriptionPhase

    Examples
    --------
    >>> p = description_phase(["a", "a", "b"], ["a", "b"], per_class=3,
    ...                       model_predictions=None, zero_shot_predictions=["a", "a", "b"])
    >>> p.describe, p.counts
    (True, {'a': 2, 'b': 1})
    >>> p = description_phase(["a", "a", "b", "b"], ["a", "b"], per_class=3,
    ...                       model_predictions=["a", "a", "b", "b"],
    ...                       zero_shot_predictions=["a", "b", "b", "b"])
    >>> p.describe, p.reason
    (False, 'model: on the 4 labels the model (cross-validated) was right on 4, the descriptions on 3')
    >>> description_phase(["a"], ["a", "b"], per_class=0).describe
    False
    """
    per_class = check_int(per_class, "per_class", 0, "labels per class before the hand-over")
    y = np.asarray(y)
    counts = {plain(c): int(np.sum(y == c)) for c in classes}
    if not counts:
        raise InvalidInputError("description_phase needs the described classes; pass classes.")
    short = [(c, k) for c, k in counts.items() if k < per_class]
    if not short:
        return DescriptionPhase(False, counts, f"strategy: every class has {per_class}+ labels")
    preference = None
    if model_predictions is not None and zero_shot_predictions is not None:
        preference = prefer_model(y, model_predictions, zero_shot_predictions)
        if preference.use_model:
            return DescriptionPhase(False, counts, preference.reason, preference)
    c, k = min(short, key=lambda item: item[1])
    reason = (
        f"descriptions: class {c!r} has {k} label{'s' if k != 1 else ''} (fewer than {per_class})"
    )
    return DescriptionPhase(True, counts, reason, preference)

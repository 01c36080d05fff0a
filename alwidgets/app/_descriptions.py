"""Class descriptions in the app: ``classes={class: description}``, zero-shot cards, the hand-over.

A person who says what each class means (``classes={"fresh": "a positive movie review:
the film is good", ...}``) gets, before any label:

* a first batch chosen by the descriptions (the engine's
  :class:`~alwidgets.strategies.DescriptionColdStart`: close to each description,
  balanced over classes, diverse);
* a **zero-shot suggestion** on every card: the class whose description is closest
  (cosine similarity of the pipeline's :class:`~alwidgets.features.TextFeatures`
  embeddings), with that similarity as its score, so ``Enter`` accepts it.

The pool's similarities are computed once, when the labeler is built (the first batch
needs them anyway; the embeddings are cached on disk): :class:`ZeroShotCards`. Every
retrain then measures, on the labels so far, whether the model's out-of-fold
predictions beat the zero-shot suggestions (:func:`handover`, the engine's
:func:`~alwidgets.features.prefer_model`); the first time they do, the model's
suggestions take over for good (the scheduler stops asking). Pure functions and
immutable records: the scheduler owns the hand-over, the card maker reads
:class:`ZeroShotCards`.

Examples
--------
>>> split_classes({"fresh": "a good film", "rotten": "a bad film"})
(['fresh', 'rotten'], {'fresh': 'a good film', 'rotten': 'a bad film'})
>>> split_classes(["cat", "dog"])
(['cat', 'dog'], None)
>>> split_classes({"fresh": "a good film", "rotten": 3})
Traceback (most recent call last):
...
alwidgets.exceptions.InvalidInputError: the description of class 'rotten' must be a string, got int (3); ...
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from alwidgets._descriptions import check_descriptions, similarity_step
from alwidgets.exceptions import InvalidInputError

__all__ = [
    "ZeroShotCards",
    "check_describable",
    "describe_with",
    "handover",
    "split_classes",
    "zero_shot_suggests",
]


def split_classes(classes: Any) -> tuple[Any, dict[Any, str] | None]:
    """``(classes, descriptions)``: a dict gives its keys (in order) and itself, checked
    (each value a non-empty string); anything else is passed on as is, with ``None``."""
    if not isinstance(classes, Mapping):
        return classes, None
    descriptions = check_descriptions(classes, name="classes")
    return list(descriptions), descriptions


def check_describable(estimator: Any, *, on_dask: bool) -> None:
    """The pool can be compared with class descriptions: an in-memory pool and a model
    whose first step embeds text (``similarity``, as :class:`~alwidgets.features.
    TextFeatures` has). Raises :class:`~alwidgets.InvalidInputError` naming the fix."""
    fix = (
        "pass classes as a list to go without descriptions, or raw texts with "
        "estimator=make_pipeline(TextFeatures(), LogisticRegression())"
    )
    if on_dask:
        raise InvalidInputError(
            "class descriptions need the pool's similarities in memory, but X is on a Dask "
            f"cluster; {fix} on an in-memory pool."
        )
    step, similarity = similarity_step(estimator)
    if similarity is None:
        raise InvalidInputError(
            "classes were given with descriptions, which the model's first step embeds, but "
            f"{type(step).__name__} cannot embed text; {fix}."
        )


@dataclass(frozen=True)
class ZeroShotCards:
    """The pool's zero-shot suggestions, computed once (see the module docstring).

    ``index`` and ``score`` are per pool position: the session class index of the
    closest description and its cosine similarity; ``similarity`` is ``(n, k)`` in the
    session's class order (what the first batch is chosen by).
    """

    classes: list[Any]
    similarity: np.ndarray

    @classmethod
    def compute(
        cls, X: Any, descriptions: dict[Any, str], estimator: Any, classes: Sequence[Any]
    ) -> ZeroShotCards:
        """Embed the pool and the descriptions with the estimator's first step."""
        from alwidgets.features import zero_shot

        guess = zero_shot(X, descriptions, features=estimator)
        order = [list(guess.classes.tolist()).index(c) for c in classes]
        return cls(list(classes), np.ascontiguousarray(guess.similarity[:, order]))

    @property
    def index(self) -> np.ndarray:
        """Per pool position: the session class index of its zero-shot suggestion."""
        return np.asarray(self.similarity.argmax(axis=1), dtype=np.int64)

    @property
    def score(self) -> np.ndarray:
        """Per pool position: the similarity to the suggested class's description."""
        return np.asarray(self.similarity.max(axis=1), dtype=np.float64)

    def labels(self, positions: Any) -> np.ndarray:
        """The suggested classes (values, not indices) of ``positions``."""
        values = np.asarray(self.classes, dtype=object)
        return values[self.index[np.asarray(positions, dtype=np.int64)]]

    def cold_start(self) -> Any:
        """The first batch's strategy, its similarities filled in (not computed again)."""
        from alwidgets.strategies import DescriptionColdStart

        return DescriptionColdStart(similarity=self.similarity)


def zero_shot_suggests(snap: Any) -> bool:
    """Whether the zero-shot suggestion is shown for a ranking: before the first model,
    and while the last comparison kept zero-shot (``snap.preference``)."""
    if not snap.fitted:
        return True
    pref = snap.preference
    return pref is not None and not pref.use_model


def handover(job: Any, X_labeled: Any) -> Any:
    """The model against zero-shot on the job's labels (``None``: the model suggests
    already, nothing to compare). Advisory: a comparison that fails keeps zero-shot and
    says why.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.r_[np.zeros((4, 1)), np.ones((4, 1))]
    >>> job = SimpleNamespace(estimator=LogisticRegression(), labels=np.array([0] * 4 + [1] * 4),
    ...                       zero_shot=np.array([0, 1] * 4, dtype=object), random_state=0)
    >>> pref = handover(job, X)
    >>> pref.use_model, pref.reason
    (True, 'model: on the 8 labels the model (cross-validated) was right on 8, the descriptions on 4')
    """
    if job.zero_shot is None:
        return None
    from alwidgets.features import ModelPreference, out_of_fold_predictions, prefer_model

    y = np.asarray(job.labels)
    try:
        oof = out_of_fold_predictions(job.estimator, X_labeled, y, random_state=job.random_state)
        return prefer_model(y.astype(object), None if oof is None else oof.astype(object),
                            np.asarray(job.zero_shot, dtype=object))  # fmt: skip
    except Exception as err:  # advisory: zero-shot stays
        why = f"zero-shot: the model could not be compared with it ({type(err).__name__}: {err})"
        return ModelPreference(False, float("nan"), float("nan"), len(y), why)


def describe_with(learner: Any, similarity: np.ndarray | None) -> None:
    """While a fitted learner's description phase lasts (``description_phase_.describe``),
    its next batch is the description cold start's: hand it the pool's similarity the app
    computed once (:class:`ZeroShotCards`), with the labels per class, so a retrain does
    not compute it again; the batch is the one the learner would pick by itself.

    Examples
    --------
    >>> from types import SimpleNamespace
    >>> from sklearn.linear_model import LogisticRegression
    >>> from alwidgets import ActiveLearner
    >>> learner = ActiveLearner(LogisticRegression())
    >>> learner.description_phase_ = SimpleNamespace(describe=True, counts={"a": 2, "b": 1})
    >>> describe_with(learner, np.zeros((5, 2)))
    >>> learner.strategy.name, learner.strategy.counts.tolist()
    ('describe', [2, 1])
    """
    phase = getattr(learner, "description_phase_", None)
    if similarity is None or phase is None or not phase.describe:
        return
    from alwidgets.strategies import DescriptionColdStart

    counts = np.asarray(list(phase.counts.values()), dtype=np.int64)  # descriptions' order
    learner.set_params(strategy=DescriptionColdStart(similarity=similarity, counts=counts))

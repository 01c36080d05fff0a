"""The learner's class descriptions: training rows, the pool's similarity, and the phase.

:class:`~alwidgets.ActiveLearner` owns one :class:`Describer` when it is given
``descriptions`` and delegates everything about them to it:

* **fit**: the labels must be described classes; the descriptions become one labeled
  row each (``train_on_descriptions``); then the phase is decided
  (:func:`alwidgets._handover.description_phase`): the description cold start keeps
  choosing while some class has fewer than ``describe_per_class`` labels and the model
  does not yet beat the descriptions on the labels (the cards' hand-over rule,
  :func:`~alwidgets._handover.prefer_model`, asked once every class has 2 labels);
* **query**: before the first fit, and after it while the phase lasts, the batch is
  :class:`~alwidgets.strategies.DescriptionColdStart`'s, with the pool's similarity to
  the descriptions (memoised per pool) and the labels per class, so the classes with the
  fewest labels get the picks; then the learner's own strategy.

A strategy that works without a model (``random``, ``cold_start``, ``describe``) is
used as asked: it is a choice, not a cold start to replace. Multi-label tasks use the
descriptions for the first batch only (no phase). Layer 3, beside ``learner.py``.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> from alwidgets.strategies import get_strategy
>>> d = Describer({"a": "class a", "b": "class b"}, train=False, per_class=2)
>>> X = np.arange(8.0).reshape(-1, 1)
>>> _ = d.training_set(LogisticRegression(), X[:3], np.array(["a", "a", "b"]))
>>> d.decide(LogisticRegression(), X[:3], np.array(["a", "a", "b"]), multi=False).reason
"descriptions: class 'b' has 1 label (fewer than 2)"
>>> d.phase is not None and d.phase.describe
True
"""

from __future__ import annotations

from typing import Any

import numpy as np

from alwidgets._check_args import check_int
from alwidgets._descriptions import (
    SimilarityMemo,
    check_descriptions,
    check_labels_described,
    description_similarity,
    with_description_rows,
)
from alwidgets._handover import (
    DescriptionPhase,
    description_phase,
    out_of_fold_predictions,
)
from alwidgets.strategies import DescriptionColdStart, Strategy

__all__ = ["Describer"]


class Describer:
    """What an :class:`~alwidgets.ActiveLearner` does with ``{class: description}``.

    Parameters
    ----------
    descriptions : dict
        ``{class: description}`` (checked here).
    train : bool
        Add the descriptions as labeled rows at every fit (single-label).
    per_class : int
        Labels per class before the learner's strategy takes over (0: at the first fit).
    """

    def __init__(self, descriptions: Any, *, train: bool, per_class: int) -> None:
        self.descriptions = check_descriptions(descriptions)
        self.train = train
        self.per_class = per_class
        self.memo = SimilarityMemo()
        self.phase: DescriptionPhase | None = None

    @classmethod
    def reuse(
        cls, held: Describer | None, descriptions: Any, train: bool, per_class: int
    ) -> Describer | None:
        """``held`` if built from these arguments, else a new one (None without descriptions)."""
        if descriptions is None:
            return None
        per_class = check_int(per_class, "describe_per_class", 0, "labels per class")
        desc = check_descriptions(descriptions)
        if (
            held is not None
            and list(desc.items()) == list(held.descriptions.items())
            and (bool(train), per_class) == (held.train, held.per_class)
        ):
            return held
        return cls(desc, train=bool(train), per_class=per_class)

    def training_set(self, estimator: Any, X: Any, y: np.ndarray) -> tuple[Any, np.ndarray]:
        """The rows to fit on: the labeled ones, and one per description when training on them."""
        check_labels_described(self.descriptions, y)
        if not self.train:
            return X, y
        return with_description_rows(estimator, X, y, self.descriptions)

    def decide(self, estimator: Any, X: Any, y: np.ndarray, *, multi: bool) -> DescriptionPhase:
        """The phase after a fit on ``(X, y)`` (the labeled rows only); kept as :attr:`phase`.

        ``estimator`` is the unfitted model (cloned for the out-of-fold predictions,
        which are computed only when every class has 2 labels and some class fewer
        than ``per_class``).
        """
        classes = list(self.descriptions)
        if multi:
            self.phase = DescriptionPhase(False, {}, "strategy: multi-label (first batch only)")
            return self.phase
        counts = [int(np.sum(y == c)) for c in classes]
        model = zero = None
        if min(counts) >= 2 and min(counts) < self.per_class:
            model = out_of_fold_predictions(estimator, X, y, random_state=0)
            similarity = description_similarity(estimator, X, self.descriptions)
            zero = np.asarray(classes, dtype=object)[similarity.argmax(axis=1)]
            zero = zero.astype(y.dtype) if y.dtype != object else zero
        self.phase = description_phase(
            y,
            classes,
            per_class=self.per_class,
            model_predictions=model,
            zero_shot_predictions=zero,
        )
        return self.phase

    def forget(self) -> None:
        """No fit holds (an unfitted learner): the phase starts again."""
        self.phase = None

    def choose(self, strategy: Strategy, fitted: bool, estimator: Any, X_pool: Any) -> Strategy:
        """The strategy for this query: the description cold start, or ``strategy``."""
        if isinstance(strategy, DescriptionColdStart):
            return self._filled(strategy, estimator, X_pool, None)
        if strategy.works_unfitted:
            return strategy
        if not fitted:
            return self._filled(DescriptionColdStart(), estimator, X_pool, None)
        if self.phase is None or not self.phase.describe:
            return strategy
        counts = np.asarray([self.phase.counts[c] for c in self.descriptions], dtype=np.int64)
        return self._filled(DescriptionColdStart(), estimator, X_pool, counts)

    def _filled(
        self, strategy: DescriptionColdStart, estimator: Any, X_pool: Any, counts: Any
    ) -> DescriptionColdStart:
        if strategy.similarity is not None:
            return strategy
        return strategy.with_similarity(
            self.memo.get(estimator, X_pool, self.descriptions), counts=counts
        )

"""Multi-label strategies: per-class probabilities in, one score per item out.

On a multi-label task ``proba[:, j]`` is the probability that class ``j`` applies
(binary relevance: one probabilistic classifier per class), so rows do not sum to 1
and the single-label utilities (margin between the two best classes ...) do not mean
what they say. These do:

* :func:`mean_margin` — the mean over classes of ``1 - |2p - 1|``: how close each
  class's decision is to its boundary, averaged (the binary-relevance margin of
  Brinker 2006; the strongest simple baseline in the comparison of Wu et al. 2020).
* :func:`label_cardinality_inconsistency` — LCI (Li & Guo 2013): how far the number of
  predicted classes is from the labeled set's mean number of classes per item.
* :func:`max_loss_reduction` — MMC (Yang et al. 2009): the loss of the predicted label
  set, with the number of labels predicted by a logistic regression on the sorted
  probabilities (:class:`CardinalityModel`).

Examples
--------
>>> import numpy as np
>>> proba = np.array([[0.9, 0.1, 0.5], [0.99, 0.01, 0.02]])
>>> mean_margin(proba).round(3).tolist()
[0.467, 0.027]
>>> label_cardinality_inconsistency(proba, cardinality=1.5).tolist()
[0.5, 0.5]
>>> max_loss_reduction(proba, np.array([2, 1])).round(3).tolist()
[0.233, 0.013]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from alwidgets.exceptions import InvalidInputError, NotFittedError
from alwidgets.strategies._base import Selection, Strategy
from alwidgets.strategies._context import QueryContext
from alwidgets.strategies._utilities import _proba

__all__ = [
    "CardinalityModel",
    "LabelCardinalityInconsistency",
    "MaxLossReduction",
    "label_cardinality_inconsistency",
    "max_loss_reduction",
    "mean_margin",
]

MULTI = frozenset({"multi"})


def mean_margin(proba: Any) -> np.ndarray:
    """Mean over classes of ``1 - |2 p_j - 1|``, in ``[0, 1]`` (1 = every class at 0.5).

    The uncertainty of binary relevance: each class's margin ``|2p - 1|`` (the distance
    of its probability from the decision threshold, Brinker 2006), turned into an
    uncertainty and averaged over the classes. Wu, Huang & Zhang (2020, "Multi-label
    active learning algorithms for image classification: overview and future
    promise") found this simple average among the best multi-label strategies.

    Parameters
    ----------
    proba : array-like of shape (n_items, n_classes)
        Per-class probabilities that the class applies.

    Returns
    -------
    ndarray of float64, shape (n_items,)

    Examples
    --------
    >>> mean_margin([[0.5, 0.5], [1.0, 0.0], [0.75, 0.0]]).tolist()
    [1.0, 0.0, 0.25]
    """
    p = _proba(proba)
    out = np.abs(np.multiply(p, 2.0, dtype=np.float64) - 1.0).mean(axis=1)
    return np.clip(1.0 - out, 0.0, 1.0)


def label_cardinality_inconsistency(
    proba: Any, cardinality: float, *, threshold: float = 0.5
) -> np.ndarray:
    """LCI (Li & Guo 2013): ``|#{j : p_j >= threshold} - cardinality|``.

    Li, X. & Guo, Y. (2013), "Active learning with multi-label SVM classification",
    IJCAI: an item whose predicted number of labels differs from the labeled set's mean
    number of labels per item (its *label cardinality*) is likely predicted wrong.

    Parameters
    ----------
    proba : array-like of shape (n_items, n_classes)
    cardinality : float
        Mean number of classes per labeled item.
    threshold : float, default 0.5
        A class is predicted when its probability reaches it.

    Returns
    -------
    ndarray of float64, shape (n_items,), in ``[0, n_classes]``

    Examples
    --------
    >>> label_cardinality_inconsistency([[0.9, 0.8, 0.1], [0.2, 0.1, 0.3]], 1.0).tolist()
    [1.0, 1.0]
    """
    p = _proba(proba)
    predicted = (p >= threshold).sum(axis=1)
    return np.abs(predicted - float(cardinality)).astype(np.float64)


def max_loss_reduction(proba: Any, n_labels: Any) -> np.ndarray:
    """MMC's score (Yang et al. 2009), for probabilities: mean loss of the predicted set.

    The predicted set of an item is its ``n_labels`` most probable classes. Yang et al.
    score ``Σ_j (1 - ŷ_j f_j(x)) / 2`` with SVM outputs ``f_j`` and ``ŷ_j = ±1``; with
    probabilistic binary relevance ``f_j = 2 p_j - 1``, which gives ``1 - p_j`` for a
    predicted class and ``p_j`` for the others. Divided by the number of classes, so
    in ``[0, 1]`` (the ranking is the paper's).

    Parameters
    ----------
    proba : array-like of shape (n_items, n_classes)
    n_labels : array-like of int, shape (n_items,)
        Predicted number of labels per item (see :class:`CardinalityModel`).

    Examples
    --------
    >>> max_loss_reduction([[0.9, 0.6, 0.1]], [1]).round(3).tolist()
    [0.267]
    """
    p = np.asarray(_proba(proba), dtype=np.float64)
    m = np.asarray(n_labels, dtype=np.int64).reshape(-1)
    if len(m) != len(p):
        raise InvalidInputError(f"n_labels has {len(m)} entries for {len(p)} items.")
    ranks = np.argsort(np.argsort(-p, axis=1, kind="stable"), axis=1, kind="stable")
    on = ranks < m[:, None]
    return np.where(on, 1.0 - p, p).mean(axis=1)


class CardinalityModel:
    """Predicts how many classes an item has, from its sorted probabilities (MMC's step 1).

    Yang et al. (2009) train a logistic regression on the labeled items: features are an
    item's class probabilities sorted in decreasing order and normalised to sum to 1,
    the target is its number of labels. With a single number of labels among the
    labeled items, that number is predicted for every item.

    Examples
    --------
    >>> import numpy as np
    >>> proba = np.array([[0.9, 0.1, 0.1], [0.9, 0.8, 0.1], [0.8, 0.2, 0.1], [0.7, 0.9, 0.2]])
    >>> model = CardinalityModel().fit(proba, np.array([1, 2, 1, 2]))
    >>> model.predict(np.array([[0.95, 0.05, 0.0], [0.9, 0.85, 0.1]])).tolist()
    [1, 2]
    """

    @staticmethod
    def _features(proba: np.ndarray) -> np.ndarray:
        p = -np.sort(-np.asarray(proba, dtype=np.float64), axis=1)
        return p / np.maximum(p.sum(axis=1, keepdims=True), np.finfo(np.float64).tiny)

    def fit(self, proba: np.ndarray, counts: np.ndarray) -> CardinalityModel:
        counts = np.asarray(counts, dtype=np.int64)
        self.constant_: int | None = None
        if len(np.unique(counts)) < 2:
            self.constant_ = int(counts[0]) if len(counts) else 1
            return self
        from sklearn.linear_model import LogisticRegression

        self.model_ = LogisticRegression(max_iter=1000).fit(self._features(proba), counts)
        return self

    def predict(self, proba: np.ndarray) -> np.ndarray:
        if self.constant_ is not None:
            return np.full(len(proba), self.constant_, dtype=np.int64)
        return np.asarray(self.model_.predict(self._features(proba)), dtype=np.int64)


def _labels(ctx: QueryContext, name: str) -> np.ndarray:
    y = ctx.y_labeled
    if y is None or len(y) == 0 or np.ndim(y) != 2:
        raise NotFittedError(
            f"strategy {name!r} needs the labeled items' label sets (ctx.y_labeled); fit the "
            "learner on a multi-label indicator Y first."
        )
    return np.asarray(y)


class LabelCardinalityInconsistency(Strategy):
    """``lci``: items whose predicted number of labels is furthest from the usual one.

    Li & Guo (2013), see :func:`label_cardinality_inconsistency`. The usual number is
    the mean number of classes per labeled item. Scores take few distinct values, so
    many items tie; ties are broken at random (seeded), as for every strategy.
    """

    name = "lci"
    needs: frozenset[str] = frozenset({"proba", "labels"})
    tasks = MULTI
    bounds = (0.0, np.inf)

    def select(self, ctx: QueryContext, n: int, rng: np.random.Generator) -> Selection:
        cardinality = float(_labels(ctx, self.name).sum(axis=1).mean())
        return ctx.stream(
            lambda rows: label_cardinality_inconsistency(ctx.predict_proba(rows), cardinality),
            n,
            rng,
        )


class MaxLossReduction(Strategy):
    """``mmc``: maximum loss reduction with maximal confidence (Yang et al. 2009).

    Yang, B., Sun, J.-T., Wang, T. & Chen, Z. (2009), "Effective multi-label active
    learning for text classification", KDD. Two steps, as in the paper: a logistic
    regression on the labeled items' sorted, normalised probabilities predicts each
    item's number of labels (:class:`CardinalityModel`); the score is the loss of the
    predicted set (:func:`max_loss_reduction`).

    Adaptation: the paper's binary classifiers are SVMs and its loss uses their margins
    ``f_j(x)``; here they are any probabilistic classifiers and ``f_j = 2 p_j - 1``,
    and the probabilities that feed the cardinality model are the classifiers' own
    (the paper calibrates SVM outputs with a sigmoid first).
    """

    name = "mmc"
    needs: frozenset[str] = frozenset({"proba", "labels"})
    tasks = MULTI
    bounds = (0.0, 1.0)

    def select(self, ctx: QueryContext, n: int, rng: np.random.Generator) -> Selection:
        y = _labels(ctx, self.name)
        labeled = ctx.labeled_proba()
        if labeled is None:
            raise NotFittedError(f"strategy {self.name!r} needs the labeled rows (ctx.X_labeled).")
        counts = CardinalityModel().fit(labeled, y.sum(axis=1))

        def score(rows: Any) -> np.ndarray:
            p = ctx.predict_proba(rows)
            return max_loss_reduction(p, counts.predict(p))

        return ctx.stream(score, n, rng)

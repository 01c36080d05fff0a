"""Multi-label strategies from the separation of the predicted classes, and a rare-class margin.

* :func:`max_margin_uncertainty` — MMU (Li & Guo 2013): the inverse of the gap between
  the least confident class predicted *in* and the most confident class predicted *out*.
* :class:`AdaptiveMultiLabel` (``adaptive``) — Li & Guo's actual proposal: MMU and
  LCI combined as ``u^β · c^(1-β)``, with ``β`` chosen at every query by the paper's
  approximate generalization error.
* :func:`rare_class_margin` (``rare_margin``) — the per-class margin uncertainty
  averaged with weights ``1 / prevalence``, so that rare classes count as much as
  macro-F1 counts them.

Each needs only the whole pool's rows in memory (``adaptive``) or streams the pool in
chunks like any utility (``mmu``, ``rare_margin``: also blockwise on Dask).

Examples
--------
>>> import numpy as np
>>> proba = np.array([[0.9, 0.6, 0.2], [0.95, 0.05, 0.02]])
>>> max_margin_uncertainty(proba).round(3).tolist()      # gaps 0.2 - (-0.6), 0.9 - (-0.9)
[1.25, 0.556]
>>> rare_class_margin(proba, [0.5, 0.1, 0.1]).round(3).tolist()
[0.564, 0.073]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from alwidgets._utils import n_rows
from alwidgets.exceptions import InvalidInputError, NotFittedError
from alwidgets.strategies._base import Selection, Strategy
from alwidgets.strategies._context import QueryContext
from alwidgets.strategies._multilabel import _labels, label_cardinality_inconsistency
from alwidgets.strategies._utilities import _proba

__all__ = [
    "AdaptiveMultiLabel",
    "MaxMarginUncertainty",
    "RareClassMargin",
    "approximate_error",
    "max_margin_uncertainty",
    "rare_class_margin",
    "whole_pool",
]

MULTI = frozenset({"multi"})
_TINY = 1e-12
#: Li & Guo's grid of trade-offs between MMU (β = 1) and LCI (β = 0).
BETAS = tuple(i / 10 for i in range(11))


def _decision(proba: Any) -> np.ndarray:
    """Binary relevance outputs as SVM-like decision values ``f = 2p - 1`` (threshold 0)."""
    return np.multiply(_proba(proba), 2.0, dtype=np.float64) - 1.0


def max_margin_uncertainty(proba: Any) -> np.ndarray:
    """MMU (Li & Guo 2013): ``1 / (min_{j in ŷ+} f_j - max_{j in ŷ-} f_j)``, ``f = 2p - 1``.

    Li, X. & Guo, Y. (2013), "Active learning with multi-label SVM classification",
    IJCAI, section 3.1: the *separation margin* of an item is the gap between its
    smallest positive decision value (classes predicted in, ``p >= 0.5``) and its
    largest negative one; the smaller the gap, the less certain the predicted set.

    Adaptation: an item with no class predicted in (or every class in) has no gap in
    the paper; here the decision threshold stands for the missing side, as the
    *virtual label* of calibrated label ranking does (Fürnkranz et al. 2008), so the
    gap is the distance of the best (or worst) class from the threshold. Items would
    otherwise score 0 whenever nothing is predicted, which with rare classes is most
    of the pool early on.

    Parameters
    ----------
    proba : array-like of shape (n_items, n_classes)

    Returns
    -------
    ndarray of float64, shape (n_items,), in ``[0.5, 1e12]`` (a gap of 0 is capped).

    Examples
    --------
    >>> max_margin_uncertainty([[0.6, 0.4], [0.1, 0.2], [1.0, 1.0]]).round(3).tolist()
    [2.5, 1.667, 1.0]
    """
    f = _decision(proba)
    pos = np.where(f >= 0, f, np.inf).min(axis=1, initial=np.inf)
    neg = np.where(f < 0, f, -np.inf).max(axis=1, initial=-np.inf)
    pos = np.where(np.isinf(pos), 0.0, pos)
    neg = np.where(np.isinf(neg), 0.0, neg)
    return 1.0 / np.maximum(pos - neg, _TINY)


def approximate_error(proba: Any) -> float:
    """Li & Guo's approximate generalization error of a model on unlabeled items.

    For each item, the hinge loss of its worst predicted-in class plus that of its
    worst predicted-out class: ``max_{j in ŷ+} (1 - f_j) + max_{j in ŷ-} (1 + f_j)``
    (0 for an empty side), summed over the items; ``f = 2p - 1``.

    Examples
    --------
    >>> approximate_error([[0.9, 0.2], [0.5, 0.5]])
    1.6
    """
    f = _decision(proba)
    pos = np.where(f >= 0, 1.0 - f, 0.0).max(axis=1, initial=0.0)
    neg = np.where(f < 0, 1.0 + f, 0.0).max(axis=1, initial=0.0)
    return float(np.round((pos + neg).sum(), 12))


def rare_class_margin(proba: Any, prevalence: Any) -> np.ndarray:
    """Per-class margin uncertainty ``1 - |2p_j - 1|`` averaged with weights ``1 / prevalence_j``.

    :func:`~alwidgets.strategies.mean_margin` weighs every class alike, but a rare class's
    probabilities sit near 0 on almost every item, so its uncertainty barely moves the
    mean, while macro-F1 counts it as much as a common class. Weighting each class by
    the inverse of its share of positives (estimated from the labeled items) evens that
    out: the per-class ("category-wise") uncertainty of the multi-label literature (e.g.
    Esuli & Sebastiani 2009's per-class aggregation) with the class-balancing weights of
    cost-sensitive learning.

    Parameters
    ----------
    proba : array-like of shape (n_items, n_classes)
    prevalence : array-like of shape (n_classes,)
        Share of items with each class, each in ``(0, 1]`` (e.g. the Laplace estimate
        ``(positives + 1) / (n + 2)`` of the labeled items).

    Examples
    --------
    >>> rare_class_margin([[0.5, 0.0], [1.0, 0.5]], [0.5, 0.5]).tolist()
    [0.5, 0.5]
    >>> rare_class_margin([[0.5, 0.0], [1.0, 0.5]], [0.9, 0.1]).round(2).tolist()
    [0.1, 0.9]
    """
    p = _proba(proba)
    prev = np.asarray(prevalence, dtype=np.float64).reshape(-1)
    if prev.shape != (p.shape[1],) or not ((prev > 0) & (prev <= 1)).all():
        raise InvalidInputError(
            f"prevalence must hold one share in (0, 1] per class ({p.shape[1]}), got {prev}; "
            "estimate it as (positives + 1) / (n + 2) of the labeled items."
        )
    w = (1.0 / prev) / (1.0 / prev).sum()
    u = 1.0 - np.abs(np.multiply(p, 2.0, dtype=np.float64) - 1.0)
    return np.clip(u @ w, 0.0, 1.0)


def whole_pool(ctx: QueryContext, name: str) -> list[slice]:
    """The context's chunks, checked to cover the whole pool (not one Dask block).

    For strategies that need a statistic of the whole pool before they can score a
    row (ranks, an adaptive trade-off): on a Dask block they would compute it on the
    block alone, so they refuse instead.
    """
    chunks = list(ctx.chunks())
    if sum(c.stop - c.start for c in chunks) != ctx.n_pool:
        raise InvalidInputError(
            f"strategy {name!r} needs statistics of the whole pool before it scores a row, so "
            "it cannot run blockwise on a Dask pool; pass an in-memory pool (e.g. "
            "X.compute()), or use 'mean_margin', 'mmu' or 'rare_margin', which run blockwise."
        )
    return chunks


class MaxMarginUncertainty(Strategy):
    """``mmu``: max-margin prediction uncertainty (Li & Guo 2013), see :func:`max_margin_uncertainty`."""

    name = "mmu"
    tasks = MULTI
    bounds = (0.5, np.inf)  # 1/_TINY is reachable, but linear bins to it would be one bar

    def select(self, ctx: QueryContext, n: int, rng: np.random.Generator) -> Selection:
        return ctx.stream(lambda rows: max_margin_uncertainty(ctx.predict_proba(rows)), n, rng)


class RareClassMargin(Strategy):
    """``rare_margin``: mean margin weighted toward rare classes, see :func:`rare_class_margin`.

    The prevalence of each class is the Laplace estimate ``(positives + 1) / (n + 2)``
    over the labeled items, so a class nobody has tagged yet weighs most.
    """

    name = "rare_margin"
    needs: frozenset[str] = frozenset({"proba", "labels"})
    tasks = MULTI
    bounds = (0.0, 1.0)

    def select(self, ctx: QueryContext, n: int, rng: np.random.Generator) -> Selection:
        y = _labels(ctx, self.name)
        prevalence = (y.sum(axis=0) + 1.0) / (len(y) + 2.0)
        return ctx.stream(
            lambda rows: rare_class_margin(ctx.predict_proba(rows), prevalence), n, rng
        )


def _stack(a: Any, b: Any) -> Any:
    if sp.issparse(a) or sp.issparse(b):
        return sp.vstack([sp.csr_matrix(a), sp.csr_matrix(b)], format="csr")
    if hasattr(a, "iloc"):
        import pandas as pd

        return pd.concat([a, b], ignore_index=True)
    return np.concatenate([np.asarray(a), np.asarray(b)])


def _fixed_threshold(model: Any) -> Any:
    """The refit only serves probabilities: no out-of-fold thresholds (3 fits per class)."""
    cv = {k: 0.5 for k, v in model.get_params().items() if k.endswith("threshold") and v == "cv"}
    return model.set_params(**cv) if cv else model


class AdaptiveMultiLabel(Strategy):
    """``adaptive``: Li & Guo's (2013) adaptive mix of MMU and label cardinality inconsistency.

    Li, X. & Guo, Y. (2013), "Active learning with multi-label SVM classification",
    IJCAI, section 3.3. An item's score is ``u(x)^β · c(x)^(1-β)`` with ``u`` the
    max-margin uncertainty (:func:`max_margin_uncertainty`) and ``c`` the label
    cardinality inconsistency (:func:`~alwidgets.strategies.label_cardinality_inconsistency`
    against the labeled items' mean number of classes). ``β`` is chosen anew at every
    query: for each ``β`` in ``0, 0.1, …, 1`` the best item is added to the labeled set
    with its *predicted* classes, the model is refit, and the ``β`` whose refit model has
    the smallest approximate generalization error on the unlabeled items
    (:func:`approximate_error`) wins.

    Adaptations: the paper queries one item at a time; here the chosen ``β`` ranks the
    whole batch. The error is measured on a seeded sample of ``n_error`` unlabeled items
    (all of them in smaller pools) to bound the cost of the refits. Ties between
    ``β``\\ s go to the larger ``β`` (more weight on the margin).

    Parameters
    ----------
    betas : sequence of float, default ``0, 0.1, …, 1``
    n_error : int, default 1000
    """

    name = "adaptive"
    needs: frozenset[str] = frozenset({"proba", "labels", "estimator"})
    tasks = MULTI
    bounds = (0.0, np.inf)

    def __init__(self, betas: Any = BETAS, n_error: int = 1000) -> None:
        self.betas = tuple(float(b) for b in betas)
        if not self.betas or any(not 0.0 <= b <= 1.0 for b in self.betas):
            raise InvalidInputError(f"betas must be numbers in [0, 1], got {betas!r}.")
        self.n_error = int(n_error)
        self.beta_: float | None = None

    def select(self, ctx: QueryContext, n: int, rng: np.random.Generator) -> Selection:
        y = _labels(ctx, self.name)
        if ctx.X_labeled is None or n_rows(ctx.X_labeled) != len(y):
            raise NotFittedError(f"strategy {self.name!r} needs the labeled rows (ctx.X_labeled).")
        cardinality = float(y.sum(axis=1).mean())
        u = np.full(ctx.n_pool, np.nan)
        c = np.full(ctx.n_pool, np.nan)
        for rows in whole_pool(ctx, self.name):
            p = ctx.predict_proba(rows)
            u[rows] = max_margin_uncertainty(p)
            c[rows] = label_cardinality_inconsistency(p, cardinality)
        free = np.ones(ctx.n_pool, dtype=bool) if ctx.exclude is None else ~ctx.exclude
        if free.sum() > 1 and len(self.betas) > 1:
            self.beta_ = self._choose_beta(ctx, u, c, y, free, rng)
        else:
            self.beta_ = self.betas[-1]
        beta = self.beta_
        score = u**beta * c ** (1.0 - beta)
        return ctx.stream(lambda rows: score[rows], n, rng)

    def _choose_beta(
        self,
        ctx: QueryContext,
        u: np.ndarray,
        c: np.ndarray,
        y: np.ndarray,
        free: np.ndarray,
        rng: np.random.Generator,
    ) -> float:
        from sklearn.base import clone

        positions = np.flatnonzero(free)
        keys = rng.random(len(positions))  # seeded tie-break among equally good items
        best: dict[int, list[float]] = {}
        for beta in self.betas:
            s = u[positions] ** beta * c[positions] ** (1.0 - beta)
            top = int(positions[np.lexsort((keys, s))[-1]])
            best.setdefault(top, []).append(beta)
        if len(best) == 1:
            return max(next(iter(best.values())))
        m = min(self.n_error, len(positions))
        probe = np.sort(rng.choice(positions, m, replace=False))
        probe_rows = ctx.rows(probe)
        errors: list[tuple[float, float]] = []
        for item, betas in best.items():
            row = ctx.rows(np.array([item]))
            guess = (ctx.predict_proba(np.array([item])) >= 0.5).astype(y.dtype)
            model = _fixed_threshold(clone(ctx.estimator))
            model.fit(_stack(ctx.X_labeled, row), np.vstack([y, guess]))
            err = approximate_error(model.predict_proba(probe_rows))
            errors.append((err, -max(betas)))
        return -min(errors)[1]

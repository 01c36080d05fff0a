"""CVIRS (Reyes, Morell & Ventura 2018): category vector inconsistency and ranking of scores.

Reyes, O., Morell, C. & Ventura, S. (2018), "Effective active learning strategy for
multi-label learning", Neurocomputing 273, 494–508. Two parts, multiplied:

* **ranking of scores** :func:`margin_rank_score` — each class ranks the unlabeled
  items by its margin ``|P(y_j = 1) - P(y_j = 0)| = |2p_j - 1|`` (most uncertain
  first); an item's score is its Borda count over the classes, ``Σ_j (|U| - τ_j) /
  (q (|U| - 1))``. Ranks are scale-free, so a rare class whose probabilities stay near
  0 counts as much as a common one.
* **category vector inconsistency** :func:`vector_inconsistency` — the mean distance
  of the item's predicted label vector to the labeled items' label vectors, with the
  paper's entropy-based distance (normalised variation of information, 1 for two
  complementary vectors).

Examples
--------
>>> import numpy as np
>>> proba = np.array([[0.5, 0.9], [0.9, 0.5], [0.8, 0.8]])
>>> margin_rank_score(proba).tolist()
[0.5, 0.5, 0.5]
>>> vector_inconsistency(np.array([[1, 1], [0, 0]]), np.array([[1, 1]])).tolist()
[0.0, 1.0]
"""

from __future__ import annotations

from typing import Any

import numpy as np

from alwidgets.exceptions import NotFittedError
from alwidgets.strategies._base import Selection, Strategy
from alwidgets.strategies._context import QueryContext
from alwidgets.strategies._multilabel_margin import whole_pool
from alwidgets.strategies._utilities import _proba

__all__ = ["CVIRS", "entropy_distance", "margin_rank_score", "vector_inconsistency"]


def _margins(proba: Any) -> np.ndarray:
    return np.abs(np.multiply(_proba(proba), 2.0, dtype=np.float64) - 1.0)


def margin_rank_score(proba: Any, reference: Any = None) -> np.ndarray:
    """CVIRS's uncertainty: the Borda count of the per-class margin ranks, in ``[0, 1]``.

    Parameters
    ----------
    proba : array-like of shape (n_items, n_classes)
        The items to score.
    reference : array-like of shape (n_unlabeled, n_classes), optional
        Probabilities of the whole unlabeled pool the ranks are taken in (default:
        ``proba`` itself). An item's rank in class ``j`` is 1 + the number of
        reference items with a smaller margin (ties share the mean rank).

    Returns
    -------
    ndarray of float64: ``Σ_j (|U| - τ_j) / (q (|U| - 1))``; 1 = the most uncertain item
    of every class.

    Examples
    --------
    >>> margin_rank_score([[0.5, 0.5], [0.6, 0.9], [1.0, 0.0]]).tolist()
    [1.0, 0.5, 0.0]
    """
    m = _margins(proba).astype(np.float32)
    ref = m if reference is None else _margins(reference).astype(np.float32)
    return _rank_score(m, np.sort(ref, axis=0))


def _rank_score(m: np.ndarray, sorted_ref: np.ndarray) -> np.ndarray:
    """Borda count of ``m``'s per-class ranks among ``sorted_ref`` (float32, sorted per column)."""
    size = len(sorted_ref)
    if size <= 1:
        return np.ones(len(m))
    total = np.zeros(len(m))
    for j in range(m.shape[1]):
        lo = np.searchsorted(sorted_ref[:, j], m[:, j], side="left")
        hi = np.searchsorted(sorted_ref[:, j], m[:, j], side="right")
        rank = lo + (hi - lo + 1) / 2.0  # ties share their mean rank
        total += (size - rank) / (size - 1)
    return np.clip(total / m.shape[1], 0.0, 1.0)


def _h(count: Any, total: Any) -> np.ndarray:
    """``-r log2 r`` with ``r = count / total`` (0 where the count or the total is 0)."""
    count = np.asarray(count, dtype=np.float64)
    total = np.broadcast_to(np.asarray(total, dtype=np.float64), count.shape)
    r = np.divide(count, total, out=np.zeros_like(count), where=total > 0)
    return -r * np.log2(r, out=np.zeros_like(r), where=r > 0)


def entropy_distance(A: Any, B: Any) -> np.ndarray:
    """Reyes et al.'s distance between label vectors, shape (len(A), len(B)), in ``[0, 1]``.

    ``(2 H(a, b) - H(a) - H(b)) / H(a, b)`` over the positions of the two 0/1 vectors
    (the normalised variation of information of their bits), 0 for equal vectors, and
    1 when the vectors differ everywhere (whose bits carry the same information, so the
    entropy distance alone would say 0).

    Examples
    --------
    >>> entropy_distance([[1, 0, 0, 1]], [[1, 0, 0, 1], [0, 1, 1, 0], [1, 1, 0, 0]]).tolist()
    [[0.0, 1.0, 1.0]]
    """
    A = np.asarray(A, dtype=np.float64)
    B = np.asarray(B, dtype=np.float64)
    q = A.shape[1]
    both = A @ B.T  # a: 1 in both
    only_a = A.sum(axis=1)[:, None] - both  # 1 in A only
    only_b = B.sum(axis=1)[None, :] - both  # 1 in B only
    neither = q - both - only_a - only_b
    joint = _h(both, q) + _h(only_a, q) + _h(only_b, q) + _h(neither, q)
    ones_a = A.sum(axis=1)[:, None]
    ones_b = B.sum(axis=1)[None, :]
    h_a = _h(ones_a, q) + _h(q - ones_a, q)
    h_b = _h(ones_b, q) + _h(q - ones_b, q)
    dist = np.divide(2 * joint - h_a - h_b, joint, out=np.zeros_like(joint), where=joint > 1e-12)
    dist[(only_a + only_b) == q] = 1.0
    return np.clip(dist, 0.0, 1.0)


def vector_inconsistency(predicted: Any, labeled: Any) -> np.ndarray:
    """Mean :func:`entropy_distance` of each predicted vector to the labeled items' vectors.

    Distinct vectors are compared once (weighted by how often they occur), so the cost
    is (distinct predicted) × (distinct labeled), not items × labeled items.

    Examples
    --------
    >>> vector_inconsistency([[1, 0], [1, 0], [0, 1]], [[1, 0], [1, 0], [1, 1]]).round(3).tolist()
    [0.333, 0.333, 1.0]
    """
    P = np.asarray(predicted, dtype=np.uint8)
    L = np.asarray(labeled, dtype=np.uint8)
    up, inverse = np.unique(P, axis=0, return_inverse=True)
    ul, counts = np.unique(L, axis=0, return_counts=True)
    mean = entropy_distance(up, ul) @ (counts / counts.sum())
    return np.asarray(mean[np.asarray(inverse).reshape(-1)], dtype=np.float64)


class CVIRS(Strategy):
    """``cvirs``: category vector inconsistency × ranking of scores (Reyes et al. 2018).

    The score of an item is :func:`margin_rank_score` (its per-class margin ranks among
    the unlabeled items, Borda-aggregated) times :func:`vector_inconsistency` (how far
    its predicted label vector, ``p >= 0.5``, is from the labeled ones).

    Ranks need the whole pool: a first pass keeps the sorted per-class margins of the
    unlabeled rows (memory: rows × classes float32), the second scores chunk by chunk.
    It does not run blockwise on a Dask pool (a block's ranks are not the pool's).
    """

    name = "cvirs"
    needs: frozenset[str] = frozenset({"proba", "labels"})
    tasks = frozenset({"multi"})
    bounds = (0.0, 1.0)

    def select(self, ctx: QueryContext, n: int, rng: np.random.Generator) -> Selection:
        y = ctx.y_labeled
        if y is None or len(y) == 0 or np.ndim(y) != 2:
            raise NotFittedError(
                f"strategy {self.name!r} needs the labeled items' label sets (ctx.y_labeled); "
                "fit the learner on a multi-label indicator Y first."
            )
        parts = []
        for rows in whole_pool(ctx, self.name):
            m = _margins(ctx.predict_proba(rows))
            if ctx.exclude is not None:
                m = m[~ctx.exclude[rows]]
            parts.append(m.astype(np.float32))
        ref = np.sort(np.concatenate(parts), axis=0)
        labeled = np.asarray(y)

        def score(rows: slice) -> np.ndarray:
            p = ctx.predict_proba(rows)
            m = _margins(p).astype(np.float32)
            return _rank_score(m, ref) * vector_inconsistency(p >= 0.5, labeled)

        return ctx.stream(score, n, rng)

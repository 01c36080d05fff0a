"""A cold start from what the classes mean: items close to each class's description.

Before the first label the model knows nothing, but the person already said what
each class means. :class:`DescriptionColdStart` takes the similarity of every pool
item to every class description (e.g. :meth:`alwidgets.features.TextFeatures.similarity`)
and picks a first batch that

* **fits the descriptions**: per class, items ranked by how much closer they are to
  that class's description than to any other's (``S[:, c] - max_{c' != c} S[:, c']``;
  on the benchmark sets this margin picked items of the right class more often than the
  raw similarity did),
* is **balanced over classes**: ``n // k`` picks per class (the rest to the classes
  whose descriptions the already-handled items fit least, then at random), so the
  first labels cover every class; given the labels so far per class (``counts``, as the
  learner passes them while the descriptions still choose), the batch goes to the
  classes with the fewest labels first (water-filling), so every class catches up,
* is **diverse**: per class, the most fitting item first, then farthest-first
  (k-center greedy, cosine distance in the model's feature space) among that class's
  ``max(top · quota, 10)`` best-ranked items (only items closest to its description,
  while there are enough), near-duplicates (cosine > 0.95) of a better-ranked one
  skipped, so a batch holds no near-duplicates.

Pure numpy given the similarity matrix; the features come from the query context
(the Pipeline's preprocessing, fit without labels). Multi-label descriptions work
the same way (items near each class's description).

Examples
--------
>>> import numpy as np
>>> from alwidgets.strategies import DescriptionColdStart, QueryContext
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(60, 4))
>>> S = np.c_[X[:, 0], -X[:, 0], X[:, 1]] / 4      # stand-in similarities to 3 descriptions
>>> idx, scores = DescriptionColdStart(similarity=S).select(QueryContext(X), 6, rng)
>>> np.bincount(S[idx].argmax(axis=1), minlength=3).tolist()   # two per class
[2, 2, 2]
"""

from __future__ import annotations

from typing import Any

import numpy as np
import scipy.sparse as sp

from alwidgets.exceptions import InvalidInputError
from alwidgets.strategies._base import Selection, Strategy
from alwidgets.strategies._context import QueryContext

__all__ = ["DescriptionColdStart", "class_margins"]

#: Cosine similarity above which two items count as near-duplicates (one is skipped).
_DUPLICATE = 0.95
#: How many times the candidate count each class looks at, to skip near-duplicates.
_WINDOW = 3


def class_margins(similarity: np.ndarray) -> np.ndarray:
    """Per item and class: similarity to that class minus the best similarity to another.

    Positive where the item is closest to that class's description.

    Examples
    --------
    >>> class_margins(np.array([[0.5, 0.2, 0.1]])).round(2).tolist()
    [[0.3, -0.3, -0.4]]
    """
    S = np.asarray(similarity, dtype=np.float64)
    if S.shape[1] < 2:
        return S.copy()
    top2 = np.partition(S, S.shape[1] - 2, axis=1)[:, -2:]
    best, second = top2.max(axis=1), top2.min(axis=1)
    other = np.where(best[:, None] <= S, second[:, None], best[:, None])
    return S - other


def _water_fill(counts: np.ndarray, n: int, order: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Picks per class so the classes with the fewest labels catch up; classes fewest first.

    Examples
    --------
    >>> q, o = _water_fill(np.array([3, 0, 1]), 4, np.array([0, 1, 2]))
    >>> q.tolist(), o.tolist()
    ([0, 3, 1], [1, 2, 0])
    """
    order = order[np.argsort(counts[order], kind="stable")]
    have = counts.astype(np.int64).copy()
    quota = np.zeros(len(counts), dtype=np.int64)
    rank = np.empty(len(order), dtype=np.int64)
    rank[order] = np.arange(len(order))
    for _ in range(n):
        c = int(np.lexsort((rank, have))[0])  # fewest labels, then the seeded order
        quota[c] += 1
        have[c] += 1
    return quota, order


def _unit_rows(F: Any) -> Any:
    from sklearn.preprocessing import normalize

    return normalize(F.astype(np.float64) if not sp.issparse(F) else F.tocsr())


class DescriptionColdStart(Strategy):
    """First batch from class descriptions: close to each description, balanced, diverse.

    Parameters
    ----------
    similarity : ndarray of shape (n_pool, k), optional
        Similarity of every pool item to every class description (cosine; higher =
        closer). An :class:`~alwidgets.ActiveLearner` built with ``descriptions=``
        fills it in (from a Pipeline that starts with
        :class:`~alwidgets.features.TextFeatures`); pass it yourself for any other
        features, e.g. ``embeddings @ description_embeddings.T``.
    top : int, default 3
        Candidates per pick: each class chooses its ``quota`` items among its
        ``max(top · quota, 10)`` best-fitting items (higher = more diverse, less typical).
    counts : array-like of int, shape (k,), optional
        Labels so far per class (columns of ``similarity``). Given, each pick of the
        batch goes to the class with the fewest labels (counting the picks already
        given), ties in a seeded random order; otherwise ``n // k`` per class.

    Notes
    -----
    Registered as ``"describe"``. Scores (``learner.scores_``) are the zero-shot
    score of every free item (its highest similarity), NaN for excluded items.
    """

    name = "describe"
    needs: frozenset[str] = frozenset({"features", "descriptions"})
    works_unfitted = True
    bounds = (-1.0, 1.0)
    tasks: frozenset[str] = frozenset({"single", "multi"})

    def __init__(self, similarity: Any = None, *, top: int = 3, counts: Any = None) -> None:
        self.similarity = similarity
        self.top = top
        self.counts = counts

    def with_similarity(self, similarity: np.ndarray, counts: Any = None) -> DescriptionColdStart:
        """The same strategy with ``similarity`` (and the labels per class, ``counts``) filled in."""
        return DescriptionColdStart(similarity, top=self.top, counts=counts)

    def _checked(self, ctx: QueryContext) -> np.ndarray:
        if self.similarity is None:
            raise InvalidInputError(
                "strategy 'describe' needs class descriptions: pass ActiveLearner(..., "
                "descriptions={class: description}) with a Pipeline that starts with "
                "TextFeatures, or DescriptionColdStart(similarity=...) with the similarity of "
                "every pool item to every description."
            )
        S = np.asarray(self.similarity, dtype=np.float64)
        if S.ndim != 2 or S.shape[0] != ctx.n_pool or S.shape[1] < 2:
            raise InvalidInputError(
                f"similarity must have shape (n_pool, n_classes) = ({ctx.n_pool}, k >= 2), got "
                f"{S.shape}; compute it on the same pool you query."
            )
        if not np.isfinite(S).all():
            raise InvalidInputError("similarity holds NaN or inf; recompute it.")
        if isinstance(self.top, bool) or not isinstance(self.top, int) or self.top < 1:
            raise InvalidInputError(f"top must be an integer >= 1, got {self.top!r}.")
        if self.counts is not None:
            counts = np.asarray(self.counts)
            if counts.shape != (S.shape[1],) or (counts < 0).any():
                raise InvalidInputError(
                    f"counts must hold one non-negative label count per class ({S.shape[1]}), "
                    f"got {self.counts!r}."
                )
        return S

    def select(self, ctx: QueryContext, n: int, rng: np.random.Generator) -> Selection:
        S = self._checked(ctx)
        k = S.shape[1]
        free = np.ones(ctx.n_pool, dtype=bool) if ctx.exclude is None else ~ctx.exclude
        margins = class_margins(S)
        # classes the handled items fit least go first; ties at random
        handled = np.bincount(S[~free].argmax(axis=1), minlength=k) if (~free).any() else None
        order = rng.permutation(k)
        if self.counts is not None:
            quota, order = _water_fill(np.asarray(self.counts, dtype=np.int64), n, order)
        else:
            if handled is not None:
                order = order[np.argsort(handled[order], kind="stable")]
            quota = np.full(k, n // k)
            quota[order[: n % k]] += 1
        free_pos = np.flatnonzero(free)
        windows: dict[int, np.ndarray] = {}
        for c in order:
            if quota[c] == 0 or len(free_pos) == 0:
                continue
            # a window of the best-fitting items, wide enough to skip near-duplicates, and
            # only items closest to this class's description while there are enough
            w = min(len(free_pos), _WINDOW * max(self.top * int(quota[c]), 10))
            w = max(min(w, int((margins[free_pos, c] > 0).sum())), min(int(quota[c]), w))
            local = np.argpartition(-margins[free_pos, c], w - 1)[:w]
            cand = free_pos[local]
            windows[int(c)] = cand[np.lexsort((cand, -margins[cand, c]))]  # best first
        chosen = self._pick(ctx, windows, quota, order, n)
        if len(chosen) < min(n, len(free_pos)):  # small pool: fill by zero-shot score
            rest = np.setdiff1d(free_pos, chosen)
            fill = rest[np.lexsort((rest, -S[rest].max(axis=1)))][: n - len(chosen)]
            chosen = np.concatenate([chosen, fill]).astype(np.int64)
        scores = np.full(ctx.n_pool, np.nan)
        scores[free] = S[free].max(axis=1)
        return chosen, scores

    def _pick(
        self,
        ctx: QueryContext,
        windows: dict[int, np.ndarray],
        quota: np.ndarray,
        order: np.ndarray,
        n: int,
    ) -> np.ndarray:
        """Round-robin over classes: each class's best item first, then farthest-first."""
        if not windows:
            return np.zeros(0, dtype=np.int64)
        union = np.unique(np.concatenate(list(windows.values())))
        F = _unit_rows(ctx.features(union))
        gram = F @ F.T
        gram = np.asarray(gram.toarray() if sp.issparse(gram) else gram)
        where = {int(p): i for i, p in enumerate(union)}
        candidates = {
            c: self._distinct(win, where, gram, max(self.top * int(quota[c]), 10))
            for c, win in windows.items()
        }
        picked: list[int] = []
        taken = np.zeros(len(union), dtype=bool)
        closest = np.full(len(union), -np.inf)  # highest similarity to anything picked
        counts = dict.fromkeys(candidates, 0)
        progress = True
        while len(picked) < n and progress:
            progress = False
            for c in (int(c) for c in order):
                if c not in candidates or counts[c] >= quota[c] or len(picked) >= n:
                    continue
                rows = np.array([where[int(p)] for p in candidates[c]])
                rows = rows[~taken[rows]]
                if len(rows) == 0:
                    continue
                # first pick of a class: its best-fitting item; then the one farthest
                # from everything picked (candidates are in best-first order: ties keep it)
                j = rows[0] if counts[c] == 0 else rows[int(np.argmin(closest[rows]))]
                picked.append(int(union[j]))
                taken[j] = True
                closest = np.maximum(closest, gram[j])
                counts[c] += 1
                progress = True
        return np.asarray(picked, dtype=np.int64)

    @staticmethod
    def _distinct(
        window: np.ndarray, where: dict[int, int], gram: np.ndarray, m: int
    ) -> np.ndarray:
        """The first ``m`` items of a best-first window, skipping near-duplicates of earlier ones."""
        kept: list[int] = []
        rows: list[int] = []
        for p in window:
            r = where[int(p)]
            if rows and gram[r, rows].max() > _DUPLICATE:
                continue
            kept.append(int(p))
            rows.append(r)
            if len(kept) == m:
                break
        return np.asarray(kept, dtype=np.int64)

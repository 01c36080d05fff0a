"""QueryContext: everything a strategy may ask about the pool, served chunk by chunk.

A strategy never receives the whole probability matrix. It asks the context for
probabilities, committee probabilities or features of a block of rows, and
:meth:`QueryContext.stream` runs a score function over the pool in chunks while
keeping a running top-k, so extra memory stays at one chunk plus the per-item
``scores`` vector.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> from alwidgets.strategies import margin
>>> X = np.random.default_rng(0).normal(size=(50, 2))
>>> est = LogisticRegression().fit(X, X[:, 0] > 0)
>>> ctx = QueryContext(X, estimator=est, chunk_size=16)
>>> top, scores = ctx.stream(lambda rows: margin(ctx.predict_proba(rows)), 3,
...                         np.random.default_rng(0))
>>> len(top), scores.shape
(3, (50,))
"""

from __future__ import annotations

import weakref
from collections.abc import Callable, Iterator, Sequence
from typing import Any

import numpy as np
import scipy.sparse as sp

from alwidgets._utils import n_rows, take_rows
from alwidgets._validation import is_dataframe
from alwidgets.exceptions import EstimatorError, InvalidInputError, NotFittedError
from alwidgets.strategies._selectors import RunningTopK

__all__ = ["PoolCache", "QueryContext"]

Rows = slice | np.ndarray


class QueryContext:
    """The pool and the fitted model, as a strategy sees them during one query.

    Parameters
    ----------
    X : ndarray, scipy.sparse CSR matrix, DataFrame, or 1-D array of str
        The pool (validated by the caller).
    estimator : fitted classifier, optional
        ``None`` before the first fit (cold start).
    classes : ndarray, optional
        The estimator's ``classes_``.
    exclude : ndarray of bool, shape (n_pool,), optional
        Rows that must never be returned.
    X_labeled : same kind as ``X``, optional
        The rows the estimator was fitted on (core-set centers, TypiClust coverage).
    committee : sequence of fitted classifiers, optional
        Bagged copies of the estimator, for query-by-committee.
    chunk_size : int, default=65536
        Rows scored per block.
    transform : callable, optional
        Maps rows of ``X`` to numeric features (e.g. the fitted steps of a Pipeline
        before the classifier). Without it, the rows themselves are the features.
    preprocessor : unfitted transformer, optional
        Used when there is no fitted ``transform`` yet (zero labels): fitted,
        unsupervised, on the first rows whose features are requested.
    cache : dict, optional
        Survives between queries on the same pool (e.g. cluster-margin's clustering).
    multi_label : bool, default=False
        A multi-label task: :meth:`predict_proba` gives, per class, the probability that
        the class applies (columns do not sum to 1).
    y_labeled : ndarray, optional
        The labels of ``X_labeled`` (for multi-label: its 0/1 indicator rows), for
        strategies whose ``needs`` hold ``"labels"``.
    """

    def __init__(
        self,
        X: Any,
        *,
        estimator: Any = None,
        classes: np.ndarray | None = None,
        exclude: np.ndarray | None = None,
        X_labeled: Any = None,
        committee: Sequence[Any] | None = None,
        chunk_size: int = 65536,
        transform: Callable[[Any], Any] | None = None,
        preprocessor: Any = None,
        cache: dict[str, Any] | None = None,
        multi_label: bool = False,
        y_labeled: np.ndarray | None = None,
    ) -> None:
        self.X = X
        self.estimator = estimator
        self.classes = classes
        self.exclude = exclude
        self.X_labeled = X_labeled
        self.committee = list(committee) if committee is not None else None
        self.chunk_size = int(chunk_size)
        self.transform = transform
        self.preprocessor = preprocessor
        self.cache = {} if cache is None else cache
        self.multi_label = bool(multi_label)
        self.y_labeled = y_labeled
        self.n_pool = n_rows(X)
        self.n_remaining = self.n_pool - (0 if exclude is None else int(exclude.sum()))

    # ------------------------------------------------------------------ rows
    def chunks(self, size: int | None = None) -> Iterator[slice]:
        """Consecutive row slices covering the pool."""
        step = max(1, int(size or self.chunk_size))
        for start in range(0, self.n_pool, step):
            yield slice(start, min(start + step, self.n_pool))

    def rows(self, sel: Rows, X: Any = None) -> Any:
        """Rows of the pool (or of ``X``) by slice or positions, keeping the container type."""
        X = self.X if X is None else X
        return take_rows(X, sel)

    def predict_proba(self, sel: Rows) -> np.ndarray:
        """Class probabilities of some rows, shape (n_rows, n_classes).

        Single-label: rows sum to 1. Multi-label (``multi_label``): column ``j`` is
        the probability that class ``j`` applies.
        """
        return np.asarray(self._fitted().predict_proba(self.rows(sel)))

    def labeled_proba(self) -> np.ndarray | None:
        """Probabilities of the rows the model was fitted on (None before the first fit)."""
        if self.X_labeled is None or n_rows(self.X_labeled) == 0:
            return None
        return np.asarray(self._fitted().predict_proba(self.X_labeled))

    def _fitted(self) -> Any:
        if self.estimator is None:
            raise NotFittedError(
                "this strategy needs a fitted model; fit the learner on a few labels first "
                "(before that, use strategy='cold_start' or 'random')"
            )
        return self.estimator

    def committee_proba(self, sel: Rows) -> np.ndarray:
        """Probabilities of every committee member, shape (n_members, n_rows, n_classes)."""
        if not self.committee:
            raise NotFittedError(
                "this query has no committee; fit an ActiveLearner whose strategy needs "
                "'committee' (e.g. strategy='qbc') before querying"
            )
        rows = self.rows(sel)
        classes = self.classes
        out = []
        for member in self.committee:
            p = np.asarray(member.predict_proba(rows))
            if classes is not None and p.shape[1] != len(classes):  # member saw fewer classes
                full = np.zeros((p.shape[0], len(classes)))
                full[:, np.searchsorted(classes, member.classes_)] = p
                p = full
            out.append(p)
        return np.stack(out)

    # -------------------------------------------------------------- features
    def _numeric(self, rows: Any) -> Any:
        if sp.issparse(rows):
            return rows
        try:
            if is_dataframe(rows):
                return rows.to_numpy(dtype=np.float64)
            arr = np.asarray(rows)
            return arr if arr.dtype.kind == "f" else arr.astype(np.float64)
        except (TypeError, ValueError) as err:
            raise InvalidInputError(
                "this strategy measures distances between items, which needs numeric features "
                f"({err}); use a Pipeline whose first steps encode the columns (e.g. "
                "OneHotEncoder, TfidfVectorizer) before the classifier."
            ) from err

    def features(self, sel: Rows, X: Any = None) -> Any:
        """Numeric features (dense ndarray or sparse) of some rows, for distances."""
        rows = self.rows(sel, X)
        if self.transform is None and self.preprocessor is not None:
            try:
                self.transform = self.preprocessor.fit(rows).transform
            except (TypeError, ValueError) as err:
                raise EstimatorError(
                    "the first batch (no labels yet) is chosen from features, but the "
                    f"Pipeline's preprocessing could not be fitted without labels ({err}); "
                    "use strategy='random' for the first batch, or fit on a few labels first."
                ) from err
        if self.transform is not None:
            rows = self.transform(rows)
        return self._numeric(rows)

    def labeled_features(self) -> Any:
        """Features of the rows the model was fitted on, or None before the first fit."""
        if self.X_labeled is None or n_rows(self.X_labeled) == 0:
            return None
        return self.features(slice(None), self.X_labeled)

    # ------------------------------------------------------------- streaming
    def stream(
        self,
        score_fn: Callable[[slice], np.ndarray],
        k: int,
        rng: np.random.Generator,
        *,
        chunk_size: int | None = None,
    ) -> tuple[np.ndarray, np.ndarray]:
        """Score the whole pool block by block and keep the best ``k``.

        Parameters
        ----------
        score_fn : callable
            ``score_fn(rows: slice) -> ndarray`` of one score per row (higher = better).
        k : int
            How many of the best non-excluded positions to return.
        rng : numpy Generator
            Seeds the tie-breaking.
        chunk_size : int, optional
            Overrides the context's chunk size (e.g. smaller for a committee).

        Returns
        -------
        top : ndarray of int64, best first
        scores : ndarray of float64, shape (n_pool,), NaN for excluded rows
        """
        scores = np.full(self.n_pool, np.nan)
        run = RunningTopK(k, int(rng.integers(2**63)))
        # asked for (nearly) everything: one ranking at the end beats merging big chunks
        rank_at_end = k >= min(self.n_remaining // 2, self.chunk_size)
        for sl in self.chunks(chunk_size):
            skip = None if self.exclude is None else self.exclude[sl]
            if skip is not None and skip.all():
                continue
            s = np.asarray(score_fn(sl), dtype=np.float64).ravel()
            if len(s) != sl.stop - sl.start:
                raise InvalidInputError(
                    f"the score function returned {len(s)} scores for {sl.stop - sl.start} rows; "
                    "return one score per row"
                )
            scores[sl] = s
            if skip is not None:
                scores[sl][skip] = np.nan
            if not rank_at_end:
                run.push(s, sl.start, skip)
        if rank_at_end:
            run.push(scores, 0, self.exclude)
        return run.result(), scores

    def sample(self, m: int, rng: np.random.Generator) -> np.ndarray:
        """Up to ``m`` random non-excluded positions (sorted), in memory ``O(m)``.

        Returns every remaining position when ``m`` covers them all.
        """
        if m >= self.n_remaining:
            if self.exclude is None:
                return np.arange(self.n_pool, dtype=np.int64)
            return np.flatnonzero(~self.exclude).astype(np.int64)
        frac = self.n_remaining / self.n_pool
        draw = min(self.n_pool, int(m / frac * 1.25) + 16)
        while True:
            pos = rng.choice(self.n_pool, size=draw, replace=False)
            if self.exclude is not None:
                pos = pos[~self.exclude[pos]]
            if len(pos) >= m or draw == self.n_pool:
                return np.sort(pos[:m]).astype(np.int64)
            draw = min(self.n_pool, draw * 2)


class PoolCache:
    """A per-pool dict for ``QueryContext.cache`` (e.g. cluster-margin's clustering).

    ``get(X, version)`` returns the same dict while the pool object (held weakly) and ``version``
    (e.g. the learner's fit count when its features change with each fit) stay the same,
    else a fresh one. Not pickled (a weak reference means nothing in another process).

    Examples
    --------
    >>> import numpy as np
    >>> pool, cache = np.zeros((3, 2)), PoolCache()
    >>> cache.get(pool, 0) is cache.get(pool, 0), cache.get(pool, 0) is cache.get(pool, 1)
    (True, False)
    """

    def __init__(self) -> None:
        self._held: tuple[Any, Any, dict[str, Any]] | None = None

    def get(self, X: Any, version: int) -> dict[str, Any]:
        key = (tuple(getattr(X, "shape", (n_rows(X),))), version)
        held = self._held
        if held is not None and held[0]() is X and held[1] == key:
            return held[2]
        cache: dict[str, Any] = {}
        try:
            self._held = (weakref.ref(X), key, cache)
        except TypeError:  # objects without weak references are not cached
            self._held = None
        return cache

    def __getstate__(self) -> dict[str, Any]:
        return {"_held": None}

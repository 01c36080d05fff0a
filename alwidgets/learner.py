"""ActiveLearner: a scikit-learn classifier plus a query strategy.

Follows the scikit-learn estimator contract: ``__init__`` only stores its
arguments, :meth:`ActiveLearner.fit` clones and fits the estimator and returns
``self``, learned state ends in ``_``. :meth:`ActiveLearner.query` scores the
pool in chunks with a running top-k, so extra memory does not grow with the
pool beyond the per-item ``scores_`` vector.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> from alwidgets import ActiveLearner
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(200, 2))
>>> y = (X[:, 0] + X[:, 1] > 0).astype(int)
>>> learner = ActiveLearner(LogisticRegression(), strategy="margin", random_state=0)
>>> first = learner.query(X, 5)            # zero labels: the cold-start selector
>>> learner.last_strategy_
'cold_start'
>>> labeled = np.r_[first, np.flatnonzero(y == 0)[:2], np.flatnonzero(y == 1)[:2]]
>>> learner = learner.fit(X[labeled], y[labeled])   # in real life: labels from a person
>>> batch = learner.query(X, 5, exclude=labeled)
>>> len(batch), len(set(batch) & set(labeled))
(5, 0)
>>> learner.scores_.shape
(200,)

Multi-label: fit on a 0/1 indicator ``Y`` (one column per class, scikit-learn's convention).

>>> Y = np.column_stack([y, (X[:, 0] > 0.5).astype(int), (X[:, 1] > 0).astype(int)])
>>> tagger = ActiveLearner(LogisticRegression(), random_state=0).fit(X[:30], Y[:30])
>>> tagger.multi_label_, tagger.predict_proba(X[:2]).shape, tagger.strategy_.name
(True, (2, 3), 'random')
"""

from __future__ import annotations

import weakref
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from alwidgets._committee import build_committee
from alwidgets._descriptions import (
    SimilarityMemo,
    check_labels_described,
    with_description_rows,
)
from alwidgets._label_free import PrefitCache, label_free_steps
from alwidgets._multilabel import as_multilabel, check_indicator, inherit_input_tags, is_indicator
from alwidgets._utils import n_rows
from alwidgets._validation import (
    allows_nan,
    check_estimator,
    check_exclude,
    check_n,
    check_X,
    check_y,
)
from alwidgets.exceptions import InvalidInputError, NotFittedError
from alwidgets.pools import is_dask_collection
from alwidgets.strategies import (
    ColdStart,
    DescriptionColdStart,
    QueryContext,
    Strategy,
    check_task,
    get_strategy,
    resolve_rng,
    score_histogram,
)

__all__ = ["ActiveLearner"]


class ActiveLearner(ClassifierMixin, BaseEstimator):
    """A classifier that knows which items it wants labeled next.

    Parameters
    ----------
    estimator : scikit-learn classifier or Pipeline
        Anything with ``fit`` and ``predict_proba``; it is cloned on every :meth:`fit`.
        For a multi-label ``Y``: a binary classifier (fit once per class: binary
        relevance), a ``OneVsRestClassifier``/``MultiOutputClassifier``, or a native
        multi-output estimator (see :class:`alwidgets._multilabel.MultiLabelModel`).
    strategy : str, Strategy or callable, default="auto"
        ``"auto"`` is ``"margin"`` for single-label ``y`` and ``"random"`` for a
        multi-label ``Y`` (resolved at :meth:`fit`; see
        :class:`~alwidgets.strategies.AutoStrategy` for the evidence). Or a registered name
        (``alwidgets.strategies.available_strategies(task)``), a
        :class:`~alwidgets.strategies.Strategy` object, or a function:
        ``fn(proba) -> scores`` (a utility, higher = label first, scored in chunks)
        or ``fn(ctx, n, rng) -> indices`` (a full selector, see
        :class:`~alwidgets.strategies.CallableStrategy`).
    random_state : None, int or numpy Generator
        Seeds every random choice (tie-breaking, sampling, committees). Resolved afresh
        at every :meth:`fit`, so two fits with the same int seed build the same
        committee (a Generator is used as is, and advances).
    chunk_size : int, default=65536
        Pool rows scored per block. Smaller blocks use less memory.

    descriptions : dict, optional
        ``{class: description}``: what each class means, in words. With a Pipeline
        that starts with :class:`~alwidgets.features.TextFeatures` (raw texts), the
        queries before the first fit use
        :class:`~alwidgets.strategies.DescriptionColdStart` (items close to each
        description, balanced over classes, diverse) instead of ``cold_start``.
        Each description is also one labeled training row of its class (a prior
        that fades as labels come; measured in ``benchmarks/results/text.md``), unless
        ``train_on_descriptions=False``. See ``docs/guide/descriptions.md``.
    train_on_descriptions : bool, default=True
        Add the descriptions to every fit as labeled rows (single-label tasks, with a
        first step that has ``description_rows``: ``TextFeatures``,
        ``PrecomputedEmbeddings``).

    Attributes
    ----------
    estimator_ : classifier
        The fitted clone (multi-label: wrapped in a ``MultiLabelModel``, a Pipeline's
        last step).
    classes_ : ndarray
        Class labels, as seen by ``estimator_`` (multi-label: the columns of ``Y``, or
        a DataFrame's column names).
    multi_label_ : bool
        True when fitted on a 2-D indicator ``Y``. Then ``predict_proba`` is (n,
        n_classes) per-class probabilities, ``predict`` an indicator (probability >=
        0.5), ``score`` micro-F1. A class with no positive (or no negative) among the
        labels yet is not fit: it gets the constant prior ``(positives + 1) / (n + 2)``.
    n_features_in_ : int
        Number of features of ``X`` at fit (absent for raw text).
    committee_ : list of classifiers or None
        Bagged clones for query-by-committee strategies (default 5, stratified
        bootstrap resamples of the labeled set, seeded).
    strategy_ : Strategy
        The resolved strategy (``"auto"`` resolved for the task once fitted).
    scores_ : ndarray of float64, shape (n_pool,)
        Scores of the last query (higher = more worth labeling), NaN for excluded
        rows and rows the strategy did not score (diversity strategies score a
        pre-filtered candidate set).
        For a Dask pool it is None (nothing pool-sized is gathered): see ``candidate_scores_``.
    score_histogram_ : tuple of ndarray
        ``(counts, edges)`` of the last query's finite scores over fixed bins (for a
        Dask pool: counted on the blocks), so a histogram needs no full score vector.
    candidate_scores_, candidate_rows_ : pandas.Series, ndarray
        Dask pools only: the last query's candidates' scores (indexed by position) and
        feature rows (aligned; the app keeps them so cards and fits need not fetch them).
    last_strategy_ : str
        Name of the strategy that served the last query (``"cold_start"`` before the first fit).

    Examples
    --------
    >>> import numpy as np
    >>> from sklearn.linear_model import LogisticRegression
    >>> X = np.random.default_rng(0).normal(size=(100, 3))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> learner = ActiveLearner(LogisticRegression(), "entropy", random_state=0).fit(X[:10], y[:10])
    >>> batch = learner.query(X, 3, exclude=np.arange(10))
    >>> batch.shape, bool(np.all(batch >= 10))
    ((3,), True)
    >>> learner.predict_proba(X[batch]).shape
    (3, 2)
    """

    scores_: np.ndarray | None  # None after a query on a Dask pool

    def __init__(
        self,
        estimator: Any,
        strategy: str | Strategy | Any = "auto",
        random_state: Any = None,
        *,
        chunk_size: int = 65536,
        descriptions: Any = None,
        train_on_descriptions: bool = True,
    ) -> None:
        self.estimator = estimator
        self.strategy = strategy
        self.random_state = random_state
        self.chunk_size = chunk_size
        self.descriptions = descriptions
        self.train_on_descriptions = train_on_descriptions

    # ---------------------------------------------------------------- state
    @property
    def is_fitted(self) -> bool:
        """True once :meth:`fit` has succeeded."""
        return hasattr(self, "estimator_")

    def __sklearn_is_fitted__(self) -> bool:
        return self.is_fitted

    def __sklearn_tags__(self) -> Any:
        """The wrapped estimator's input tags (sparse, NaN, raw text): we accept what it accepts."""
        return inherit_input_tags(super().__sklearn_tags__(), self.estimator)

    def _rng(self) -> np.random.Generator:
        if getattr(self, "_rng_source", None) is not self.random_state or not hasattr(
            self, "_generator"
        ):
            self._generator = resolve_rng(self.random_state)
            self._rng_source = self.random_state
        return self._generator

    def _resolve_strategy(self, multi_label: bool | None = None) -> Strategy:
        """The strategy for the task (``multi_label``, else the fitted one's); checked."""
        if getattr(self, "_strategy_source", None) is not self.strategy or not hasattr(
            self, "_declared"
        ):
            self._declared = get_strategy(self.strategy)
            self._strategy_source = self.strategy
        task = getattr(self, "multi_label_", None) if multi_label is None else multi_label
        self.strategy_ = check_task(self._declared, task)  # None: task not known before fit
        return self.strategy_

    def _require_fitted(self, what: str) -> None:
        if not self.is_fitted:
            raise NotFittedError(
                f"{what} needs a fitted learner; call fit(X_labeled, y) first "
                "(query works before fit: it returns a cold-start batch to label)."
            )

    # ------------------------------------------------------------------ fit
    def fit(self, X: Any, y: Any, *, X_unlabeled: Any = None) -> ActiveLearner:
        """Clone the estimator and fit it on the labeled rows.

        Parameters
        ----------
        X : array-like, sparse matrix, DataFrame, or 1-D array of str (for text Pipelines)
        y : array-like of shape (n_samples,), or indicator of shape (n_samples, n_classes)
            Single-label: at least two classes. Multi-label: a 0/1 indicator (ndarray,
            sparse or DataFrame, as ``MultiLabelBinarizer`` gives); any number of
            labeled rows, and a class without positives yet is fine (constant prior).
        X_unlabeled : same kind as ``X``, optional
            The pool (it may hold the labeled rows too). Leading Pipeline steps that never
            read ``y`` and gain from more rows (scikit-learn's scalers, encoders,
            SimpleImputer, PCA, TruncatedSVD, and steps marked
            ``__alwidgets_label_free__ = True``) are fit on it, not on the labeled rows, and
            **once**: later fits on the same pool reuse them and fit only the rest. Not
            text vectorizers nor ``TextFeatures``: a vocabulary from the pool was not
            better (measured).
            Ignored for an estimator without such steps.


        Returns
        -------
        self

        Raises
        ------
        InvalidInputError
            Bad ``y``/``Y`` (not binary, wrong number of rows, one class only), or a
            strategy that is not meant for the task (the message lists those that are).
        EstimatorError
            No ``predict_proba``, or no usable multi-output ``predict_proba``.
        """
        check_estimator(self.estimator)
        if is_dask_collection(X):  # the labeled rows: small by nature, gathered once
            from alwidgets.pools import run_graph

            X = run_graph([], X)
        X = check_X(X, allow_nan=allows_nan(self.estimator), allow_text=True)
        multi = is_indicator(y)
        y, classes = check_indicator(y, n_rows(X)) if multi else (check_y(y, n_rows(X)), None)
        if self.descriptions is not None and not multi:
            check_labels_described(self.descriptions, y)
            if self.train_on_descriptions:
                X, y = with_description_rows(self.estimator, X, y, self.descriptions)
        strategy = self._resolve_strategy(multi)
        # a fresh generator per fit: two fits with the same random_state build the same
        # committee and then break query ties the same way (no state carried between fits)
        self._generator = resolve_rng(self.random_state)
        self._rng_source = self.random_state
        self._model = self._unfitted_model(X_unlabeled)
        base = as_multilabel(self._model) if multi else self._model
        estimator = clone(base).fit(X, y)
        self.estimator_ = estimator
        self.multi_label_ = multi
        self.classes_ = classes if multi else np.asarray(estimator.classes_)
        self._y_fit = y  # the labeled rows' labels, for strategies that need "labels"
        if len(getattr(X, "shape", ())) == 2:
            self.n_features_in_ = int(X.shape[1])
        elif hasattr(self, "n_features_in_"):
            del self.n_features_in_
        n_members = int(getattr(strategy, "n_members", 5))
        self.committee_ = (
            build_committee(self._model, X, y, n_members, self._rng())
            if "committee" in strategy.needs
            else None
        )
        self._X_fit = X
        self._fit_count = getattr(self, "_fit_count", 0) + 1
        return self

    def _unfitted_model(self, X_unlabeled: Any) -> Any:
        """The estimator to clone for this fit: label-free steps fit on the pool, if given."""
        if X_unlabeled is None or label_free_steps(self.estimator) == 0:
            return self.estimator
        if is_dask_collection(X_unlabeled):
            raise InvalidInputError(
                "X_unlabeled must be in memory (the label-free steps are fit on it once); "
                "pass a sample of the Dask pool, e.g. X.compute() if it fits."
            )
        X_unlabeled = check_X(
            X_unlabeled, name="X_unlabeled", allow_nan=allows_nan(self.estimator), allow_text=True
        )
        if not hasattr(self, "_prefit"):
            self._prefit = PrefitCache()
        return self._prefit.model(self.estimator, X_unlabeled)

    # ---------------------------------------------------------------- query
    def _pool_cache(self, X: Any) -> dict[str, Any]:
        """Per-pool cache (e.g. cluster-margin's clustering), reset when the pool or features change."""
        version = getattr(self, "_fit_count", 0) if self._has_preprocessing() else 0
        key = (tuple(getattr(X, "shape", (n_rows(X),))), version)
        held: tuple[Any, Any, dict[str, Any]] | None = getattr(self, "_cache_state", None)
        if held is not None and held[0]() is X and held[1] == key:
            return held[2]
        cache: dict[str, Any] = {}
        state: tuple[Any, Any, dict[str, Any]] | None
        try:
            state = (weakref.ref(X), key, cache)
        except TypeError:  # objects without weak references are not cached
            state = None
        self._cache_state = state
        return cache

    def __getstate__(self) -> dict[str, Any]:
        # the per-pool cache is keyed by a weak reference to the pool, which cannot be
        # pickled (and means nothing in another process): drop it, keep the fitted state
        state: dict[str, Any] = super().__getstate__()
        state.pop("_cache_state", None)
        return state

    def _has_preprocessing(self) -> bool:
        return hasattr(self.estimator, "steps") and len(self.estimator.steps) > 1

    def query(self, X_pool: Any, n: int, exclude: Any = None) -> np.ndarray:
        """Positions of the ``n`` pool rows most worth labeling next, best first.

        Parameters
        ----------
        X_pool : array-like, sparse matrix, DataFrame, or 1-D array of str
            The unlabeled pool (it may also contain labeled rows: pass them in ``exclude``).
        n : int
            Batch size; fewer rows are returned only when fewer remain.
        exclude : array-like of int or bool mask, optional
            Positions that must not be returned (already labeled, skipped ...).

        Returns
        -------
        ndarray of int64
            Unique positions into ``X_pool``, never excluded, best first.
            Before the first :meth:`fit` the cold-start selector chooses
            (unless the strategy works without a model, like ``"random"``).
        """
        n = check_n(n)
        check_n(self.chunk_size, name="chunk_size")
        check_estimator(self.estimator)
        strategy = self._resolve_strategy()
        fitted = self.is_fitted
        nan_ok = allows_nan(self.estimator)
        if is_dask_collection(X_pool):
            return self._query_dask(X_pool, n, exclude, strategy, nan_ok)
        X = check_X(X_pool, name="X_pool", allow_nan=nan_ok, allow_text=True)
        n_pool = n_rows(X)
        n_features = getattr(self, "n_features_in_", None) if fitted else None
        is_2d = len(getattr(X, "shape", ())) == 2
        if n_features is not None and is_2d and X.shape[1] != n_features:
            raise InvalidInputError(
                f"X_pool has {X.shape[1]} features but the model was fitted on "
                f"{n_features}; pass the pool with the same columns as X in fit."
            )
        mask = check_exclude(exclude, n_pool)
        active = strategy if fitted or strategy.works_unfitted else self._cold_start()
        active = self._with_descriptions(active, X)
        ctx = QueryContext(
            X, exclude=mask, chunk_size=self.chunk_size, cache=self._pool_cache(X), **self._parts()
        )
        if ctx.n_remaining == 0:
            self.scores_ = np.full(n_pool, np.nan)
            self.score_histogram_ = score_histogram(self.scores_, active.bounds)
            self.last_strategy_ = active.name
            return np.empty(0, dtype=np.int64)
        from sklearn import config_context

        with config_context(assume_finite=not nan_ok):  # X_pool was checked above, once
            idx, scores = active.select(ctx, n, self._rng())
        self.scores_ = scores
        self.score_histogram_ = score_histogram(scores, active.bounds)
        self.last_strategy_ = active.name
        return np.asarray(idx, dtype=np.int64)

    def _query_dask(
        self, X_pool: Any, n: int, exclude: Any, strategy: Strategy, nan_ok: bool
    ) -> np.ndarray:
        """:meth:`query` on a Dask array: blockwise on the cluster (``alwidgets.pools``)."""
        import pandas as pd

        from alwidgets.pools import check_dask_pool, query_blockwise

        X = check_dask_pool(X_pool, n_features=getattr(self, "n_features_in_", None))
        active = strategy if self.is_fitted or strategy.works_unfitted else self._cold_start()
        rng = self._rng()
        parts = self._parts()
        got = query_blockwise(
            X, n, strategy=active, rng=rng, exclude=exclude, allow_nan=nan_ok, **parts
        )
        self.scores_ = None
        self.candidate_scores_ = pd.Series(got.scores, index=got.positions, name="score")
        self.candidate_rows_ = got.rows  # aligned with candidate_scores_ (for a row cache)
        self.score_histogram_ = got.histogram
        self.last_strategy_ = active.name
        return got.indices

    def _parts(self) -> dict[str, Any]:
        """What a query context needs of the model (before the first fit: nothing but features)."""
        fitted, pre = self.is_fitted, self._has_preprocessing()
        return {
            "estimator": self.estimator_ if fitted else None,
            "classes": self.classes_ if fitted else None,
            "committee": getattr(self, "committee_", None) if fitted else None,
            "X_labeled": getattr(self, "_X_fit", None) if fitted else None,
            "transform": self.estimator_[:-1].transform if fitted and pre else None,
            "preprocessor": clone(self.estimator[:-1]) if not fitted and pre else None,
            "multi_label": bool(getattr(self, "multi_label_", False)) and fitted,
            "y_labeled": getattr(self, "_y_fit", None) if fitted else None,
        }

    def _cold_start(self) -> Strategy:
        if self.descriptions is not None:
            return DescriptionColdStart()
        if not hasattr(self, "_cold_start_strategy"):
            self._cold_start_strategy = ColdStart()
        return self._cold_start_strategy

    def _with_descriptions(self, active: Strategy, X: Any) -> Strategy:
        """A description cold start gets the pool's similarity to ``descriptions``."""
        if not isinstance(active, DescriptionColdStart) or active.similarity is not None:
            return active
        if self.descriptions is None:
            return active  # select() raises, naming the fix
        if not hasattr(self, "_similarity_memo"):
            self._similarity_memo = SimilarityMemo()
        return active.with_similarity(
            self._similarity_memo.get(self.estimator, X, self.descriptions)
        )

    # ---------------------------------------------------------- pass-through
    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities from the fitted estimator, columns in ``classes_`` order.

        Multi-label: column ``j`` is the probability that class ``j`` applies.
        """
        self._require_fitted("predict_proba")
        return np.asarray(self.estimator_.predict_proba(X))

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels from the fitted estimator (multi-label: a 0/1 indicator)."""
        self._require_fitted("predict")
        return np.asarray(self.estimator_.predict(X))

    def score(self, X: Any, y: Any, sample_weight: Any = None) -> float:
        """Mean accuracy on ``(X, y)``; multi-label: micro-averaged F1 against the indicator.

        (scikit-learn's classifiers score multi-label by subset accuracy, which counts an
        item right only when every class is; micro-F1 is the score alwidgets' curves use.)
        """
        self._require_fitted("score")
        return float(self.estimator_.score(X, y, sample_weight=sample_weight))

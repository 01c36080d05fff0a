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
>>> len(batch), len(set(batch) & set(labeled)), learner.scores_.shape
(5, 0, (200,))

Multi-label: fit on a 0/1 indicator ``Y`` (one column per class, scikit-learn's convention).

>>> Y = np.column_stack([y, (X[:, 0] > 0.5).astype(int), (X[:, 1] > 0).astype(int)])
>>> tagger = ActiveLearner(LogisticRegression(), random_state=0).fit(X[:30], Y[:30])
>>> tagger.multi_label_, tagger.predict_proba(X[:2]).shape, tagger.strategy_.name
(True, (2, 3), 'mmu')
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone

from alwidgets._committee import build_committee
from alwidgets._describing import Describer
from alwidgets._handover import DESCRIBE_PER_CLASS
from alwidgets._label_free import PrefitCache
from alwidgets._multilabel import as_multilabel, check_indicator, inherit_input_tags, is_indicator
from alwidgets._query_parts import has_preprocessing, query_dask, query_parts
from alwidgets._utils import n_rows
from alwidgets._validation import (
    allows_nan,
    check_estimator,
    check_exclude,
    check_n,
    check_X,
    check_y,
    is_dask_collection,
)
from alwidgets.exceptions import InvalidInputError, NotFittedError
from alwidgets.strategies import (
    ColdStart,
    DescriptionColdStart,
    PoolCache,
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
        batches are :class:`~alwidgets.strategies.DescriptionColdStart`'s (items close
        to each description, balanced over classes, diverse; the classes with the
        fewest labels first) before the first fit and after it until every class has
        ``describe_per_class`` labels or the model beats the descriptions on the labels
        (``description_phase_``); then ``strategy``'s. Each description is also one
        labeled training row of its class, unless ``train_on_descriptions=False``.
        Measured in ``benchmarks/results/text.md``; see ``docs/guide/descriptions.md``.
    train_on_descriptions : bool, default=True
        Add the descriptions to every fit as labeled rows (single-label tasks, with a
        first step that has ``description_rows``: ``TextFeatures``,
        ``PrecomputedEmbeddings``).
    describe_per_class : int, default=3
        Labels every described class gets (chosen by the descriptions) before
        ``strategy`` takes over; 0 hands over at the first fit.

    Attributes
    ----------
    estimator_ : classifier
        The fitted clone (multi-label: wrapped in a ``MultiLabelModel``, a Pipeline's
        last step).
    classes_ : ndarray
        Class labels, as seen by ``estimator_`` (multi-label: the columns of ``Y``, or
        a DataFrame's column names).
    multi_label_ : bool
        True when fitted on a 2-D indicator ``Y``: ``predict_proba`` per class, ``predict``
        an indicator (>= 0.5), ``score`` micro-F1; a class with no positive (or negative)
        label yet gets the constant prior ``(positives + 1) / (n + 2)``.
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
        Name of the strategy that served the last query (``"cold_start"`` before the first
        fit; ``"describe"`` while the descriptions choose).
    description_phase_ : DescriptionPhase or None
        With ``descriptions`` (after a fit): whether the descriptions still choose the
        next batch, the labels per class and the ``reason`` (for a status line).
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
        describe_per_class: int = DESCRIBE_PER_CLASS,
    ) -> None:
        self.estimator = estimator
        self.strategy = strategy
        self.random_state = random_state
        self.chunk_size = chunk_size
        self.descriptions = descriptions
        self.train_on_descriptions = train_on_descriptions
        self.describe_per_class = describe_per_class

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
            read ``y`` (scalers, encoders, SimpleImputer, PCA, TruncatedSVD, steps marked
            ``__alwidgets_label_free__ = True``; not text vectorizers nor ``TextFeatures``:
            measured) are fit on it **once** and reused (``alwidgets/_label_free.py``).

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
        describer = self._describer()
        X_labeled, y_labeled = X, y
        if describer is not None and not multi:
            X, y = describer.training_set(self.estimator, X, y)
        strategy = self._resolve_strategy(multi)
        # a fresh generator per fit: two fits with the same random_state build the same
        # committee and then break query ties the same way (no state carried between fits)
        self._generator = resolve_rng(self.random_state)
        self._rng_source = self.random_state
        if not hasattr(self, "_prefit"):
            self._prefit = PrefitCache()
        self._model = self._prefit.for_fit(
            self.estimator, X_unlabeled, allow_nan=allows_nan(self.estimator)
        )
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
        self.description_phase_ = (
            None
            if describer is None
            else describer.decide(self._model, X_labeled, y_labeled, multi=multi)
        )
        return self

    def _describer(self) -> Describer | None:
        """The owner of everything about ``descriptions`` (rebuilt when they change)."""
        args = (self.descriptions, self.train_on_descriptions, self.describe_per_class)
        self._describing = Describer.reuse(getattr(self, "_describing", None), *args)
        return self._describing

    # ---------------------------------------------------------------- query
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
            active = self._unfitted_or(strategy)
            got = query_dask(
                X_pool, n, strategy=active, rng=self._rng(), exclude=exclude, allow_nan=nan_ok,
                learner=self,
            )  # fmt: skip
            self.scores_, self.candidate_scores_ = None, got.candidate_scores
            self.candidate_rows_ = got.rows  # aligned with candidate_scores_ (for a row cache)
            self.score_histogram_, self.last_strategy_ = got.histogram, active.name
            return got.indices
        X = check_X(X_pool, name="X_pool", allow_nan=nan_ok, allow_text=True)
        n_features = getattr(self, "n_features_in_", None) if fitted else None
        is_2d = len(getattr(X, "shape", ())) == 2
        if n_features is not None and is_2d and X.shape[1] != n_features:
            raise InvalidInputError(
                f"X_pool has {X.shape[1]} features but the model was fitted on "
                f"{n_features}; pass the pool with the same columns as X in fit."
            )
        mask = check_exclude(exclude, n_rows(X))
        describer = self._describer()
        active = (
            describer.choose(strategy, fitted, self.estimator, X)
            if describer is not None
            else self._unfitted_or(strategy)
        )
        if not hasattr(self, "_pool_cache"):
            self._pool_cache = PoolCache()
        version = getattr(self, "_fit_count", 0) if has_preprocessing(self.estimator) else 0
        cache = self._pool_cache.get(X, version)  # reset when the pool or features change
        ctx = QueryContext(
            X, exclude=mask, chunk_size=self.chunk_size, cache=cache, **query_parts(self)
        )
        idx, scores = np.empty(0, dtype=np.int64), np.full(n_rows(X), np.nan)
        if ctx.n_remaining:
            from sklearn import config_context

            with config_context(assume_finite=not nan_ok):  # X_pool was checked above, once
                idx, scores = active.select(ctx, n, self._rng())
        self.scores_ = scores
        self.score_histogram_ = score_histogram(scores, active.bounds)
        self.last_strategy_ = active.name
        return np.asarray(idx, dtype=np.int64)

    def _unfitted_or(self, strategy: Strategy) -> Strategy:
        """``strategy``, or the cold start before the first fit (Dask: even with descriptions)."""
        if self.is_fitted or strategy.works_unfitted:
            return strategy
        if self.descriptions is not None:
            return DescriptionColdStart()  # on Dask: refused, naming the fix
        if not hasattr(self, "_cold_start_strategy"):
            self._cold_start_strategy = ColdStart()
        return self._cold_start_strategy

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

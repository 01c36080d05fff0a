"""simulate(): one strategy, one seed, replayed with the true labels as the oracle.

Examples
--------
>>> from sklearn.datasets import load_iris
>>> from sklearn.linear_model import LogisticRegression
>>> from alwidgets import simulate
>>> X, y = load_iris(return_X_y=True)
>>> curve = simulate(LogisticRegression(max_iter=500), X, y, initial=10, batch_size=10, budget=40,
...                  random_state=0, progress=False)
>>> curve[["n_labels", "strategy", "seed"]].to_dict("list")
{'n_labels': [10, 20, 30, 40], 'strategy': ['margin', 'margin', 'margin', 'margin'], 'seed': [0, 0, 0, 0]}
>>> bool(curve["accuracy"].between(0, 1).all())
True

Multi-label: pass a 0/1 indicator ``Y`` (one column per class).

>>> import numpy as np
>>> from sklearn.datasets import make_multilabel_classification
>>> X, Y = make_multilabel_classification(n_samples=300, n_classes=4, random_state=0)
>>> curve = simulate(LogisticRegression(max_iter=500), X, Y, initial=10, batch_size=10,
...                  budget=30, random_state=0, progress=False)
>>> curve.columns.tolist()[2:6], curve["strategy"].iloc[0]
(['n_labels', 'micro_f1', 'macro_f1', 'score'], 'mmu')
"""

from __future__ import annotations

import warnings
from typing import Any

import numpy as np
import pandas as pd

from alwidgets._utils import strategy_name
from alwidgets._validation import resolve_seed
from alwidgets.simulation._multilabel import resolve_auto
from alwidgets.simulation._task import (
    Callback,
    check_described,
    check_initial,
    check_run,
    check_strategy,
    check_threads,
    curve_frame,
    prepare,
    progress_bar,
    run_task,
    thread_limit,
)

__all__ = ["simulate"]


def simulate(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    strategy: Any = "auto",
    initial: int = 20,
    batch_size: int = 10,
    budget: int = 200,
    X_test: Any = None,
    y_test: Any = None,
    test_size: float = 0.25,
    random_state: Any = None,
    progress: bool = True,
    callback: Callback | None = None,
    blas_threads: int | None = 1,
    descriptions: Any = None,
) -> pd.DataFrame:
    """Replay active learning with the true labels as the oracle; return the learning curve.

    Parameters
    ----------
    estimator : classifier with ``predict_proba``
        Cloned for every fit (a Pipeline is fine, e.g. TF-IDF + LogisticRegression
        on raw text).
    X : array-like, sparse matrix, DataFrame, or 1-D array of str
        All items. Without ``X_test`` a stratified ``test_size`` share is held
        out as test set and the rest is the pool. In memory: a simulation needs
        every label anyway, so a Dask array is not accepted here (the app and
        ``ActiveLearner.query`` take Dask pools, see :mod:`alwidgets.pools`).
    y : array-like of shape (n_samples,), or 0/1 indicator (n_samples, n_classes)
        The true labels, revealed only for the items the strategy picks. A 2-D 0/1
        indicator (ndarray, sparse or DataFrame) makes it multi-label: the oracle
        reveals rows of it, and every class must occur at least once.
    strategy : str, Strategy or callable, default "auto"
        Anything :class:`~alwidgets.ActiveLearner` accepts; see
        :func:`alwidgets.strategies.available_strategies`. ``"auto"`` is ``margin``
        (single-label) or ``mmu`` (multi-label, see
        :class:`~alwidgets.strategies.AutoStrategy`), and the curve names that.
    initial : int, default 20
        Size of the random start (seeded). ``0`` starts from nothing and lets the
        learner's cold-start selector pick the first batch.
    batch_size : int, default 10
        Labels revealed per round; the model is refit and scored after each.
    budget : int, default 200
        Total labels, the initial ones included (capped at the pool size).
    X_test, y_test : optional
        A fixed test set. Pass both or neither.
    test_size : float, default 0.25
        Share of ``X`` held out when no test set is given.
    random_state : None, int or numpy.random.Generator
        Seeds the test split, the initial set and the strategy's tie-breaking.
        The integer actually used is stored in the ``seed`` column (drawn from
        fresh entropy for ``None``), so any run can be replayed. The same seed
        gives the same split and initial set to every strategy.
    progress : bool, default True
        Show a ``tqdm`` bar (a widget in notebooks, text in terminals).
    callback : callable, optional
        Called with each new curve row (a dict) right after it is measured.
    blas_threads : int or None, default 1
        Threads BLAS/OpenMP may use during the loop. Simulations fit many small
        models, which run fastest on one thread; on a busy machine, thread pools
        competing for the cores made them ~10× slower. ``None`` keeps the
        libraries' own setting (for large models on an idle many-core machine).
    descriptions : dict, optional
        ``{class: description}`` — what each class means, in words (with a Pipeline
        that starts with :class:`~alwidgets.features.TextFeatures`, on raw texts). The
        ``initial`` labels are then chosen by the description cold start
        (:class:`~alwidgets.strategies.DescriptionColdStart`: close to each
        description, balanced over classes, diverse) instead of at random; with
        ``initial=0`` it picks the first batch. See ``docs/guide/descriptions.md``.

    Returns
    -------
    pandas.DataFrame
        One row per evaluation: ``strategy``, ``seed``, ``n_labels``,
        ``accuracy`` and ``f1_macro`` (macro-averaged over every class, on the
        test set), ``classes_seen`` (distinct labels among the labeled items),
        ``seconds`` (fit + query time of that round). Multi-label: ``micro_f1``,
        ``macro_f1`` and ``score`` (= micro-F1) instead of ``accuracy`` and
        ``f1_macro``, and ``classes_seen`` counts classes with a positive label so
        far (a model is fit from the first label on). ``attrs`` holds
        ``labeled_order`` (list of row positions of ``X`` in the order they
        were labeled), ``test_positions`` (list of rows of ``X`` held out; None
        for a given test set), ``n_pool``, ``n_test`` and ``interrupted``.
        Curves of several runs concatenate with ``pandas.concat``.

    Warns
    -----
    UserWarning
        On ``KeyboardInterrupt`` (Ctrl-C, or the notebook's stop button): the
        rows measured so far are returned instead of lost.

    Raises
    ------
    InvalidInputError
        Bad shapes or values, ``budget < initial``, a test set without labels.
    EstimatorError
        An estimator without ``predict_proba``.
    UnknownStrategyError
        An unknown strategy name.

    Notes
    -----
    The label-free leading steps of a Pipeline (scalers, PCA, ...; see
    :meth:`~alwidgets.ActiveLearner.fit`) are fit once on the whole pool, as in the app, not on the labeled
    rows only (:meth:`~alwidgets.ActiveLearner.fit` with ``X_unlabeled``).

    Examples
    --------
    >>> from sklearn.datasets import load_breast_cancer
    >>> from sklearn.linear_model import LogisticRegression
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> X, y = load_breast_cancer(return_X_y=True)
    >>> model = make_pipeline(StandardScaler(), LogisticRegression())
    >>> curve = simulate(model, X, y, initial=10, batch_size=10, budget=50,
    ...                  random_state=1, progress=False)
    >>> curve["n_labels"].tolist()
    [10, 20, 30, 40, 50]
    >>> bool(curve["accuracy"].iloc[-1] > 0.9)
    True
    """
    X, y_arr, X_test, y_test, initial, batch_size, budget = check_run(
        estimator, X, y, X_test, y_test, test_size, initial, batch_size, budget
    )
    blas_threads = check_threads(blas_threads)
    multi = y_arr.ndim == 2
    strategy = resolve_auto(strategy, multi)
    check_strategy(strategy, multi)
    descriptions = check_described(estimator, y_arr, descriptions)
    seed = resolve_seed(random_state)
    task = prepare(X, y_arr, X_test, y_test, test_size, seed)
    check_initial(task, initial)
    rows: list[dict[str, Any]] = []
    order: list[int] = []
    name = strategy_name(strategy)
    pbar = progress_bar(min(budget, len(task.y_pool)), f"{name} seed {seed}", progress)
    interrupted = False
    try:
        with thread_limit(blas_threads):
            run_task(
                estimator,
                task,
                strategy,
                initial=initial,
                batch_size=batch_size,
                budget=budget,
                rows=rows,
                order=order,
                callback=callback,
                descriptions=descriptions,
                pbar=pbar,
            )
    except KeyboardInterrupt:
        interrupted = True
        warnings.warn(
            f"simulation interrupted after {len(rows)} evaluation(s) "
            f"({rows[-1]['n_labels'] if rows else 0} labels); returning the finished part "
            "of the learning curve.",
            UserWarning,
            stacklevel=2,
        )
    finally:
        if pbar is not None:
            pbar.close()
    curve = curve_frame(rows, multi)
    curve.attrs.update(
        # plain lists, not arrays: pandas compares attrs when concatenating curves
        labeled_order=task.pool_positions[np.asarray(order, dtype=np.int64)].tolist(),
        test_positions=None if task.test_positions is None else task.test_positions.tolist(),
        n_pool=len(task.y_pool),
        n_test=len(task.y_test),
        interrupted=interrupted,
    )
    return curve

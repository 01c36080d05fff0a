"""Oracle simulations: how many labels does a query strategy save over random sampling?

A simulation replays labeling with the true labels as the oracle: start from a
few labeled items, let an :class:`~alwidgets.ActiveLearner` pick the next
batch, reveal its labels, refit, score on a held-out test set, repeat until the
budget is spent. The result is a **learning curve** (score against number of
labels).

* :func:`simulate` — one strategy, one seed: a learning-curve DataFrame.
* :func:`compare` — several strategies × seeds against random sampling, paired
  by seed (every strategy gets the same test split and the same initial
  labels), summarised as a :class:`ComparisonResult`.
* :func:`cost_reduction` — the honest measure of the saving,
  ``(n_random - n_strategy) / n_random``, where ``n`` is the number of labels
  needed to *first* reach a target score; :func:`labels_to_target` gives ``n``.
* :func:`area_under_curve` — normalised area under a learning curve.

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
"""

from __future__ import annotations

import contextlib
import numbers
import time
import warnings
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
from sklearn.base import clone
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split
from sklearn.utils import _safe_indexing

from alwidgets._comparison import ComparisonResult, summarise
from alwidgets._curves import (
    METRICS,
    area_under_curve,
    check_target,
    cost_reduction,
    labels_to_target,
)
from alwidgets._validation import check_estimator, check_X, check_y, n_rows
from alwidgets.exceptions import InvalidInputError

__all__ = [
    "ComparisonResult",
    "area_under_curve",
    "compare",
    "cost_reduction",
    "labels_to_target",
    "simulate",
]

#: Columns of a learning curve, in order.
CURVE_COLUMNS = [
    "strategy",
    "seed",
    "n_labels",
    "accuracy",
    "f1_macro",
    "classes_seen",
    "seconds",
]

Callback = Callable[[dict[str, Any]], None]


# -- helpers: seeds, data, strategy names ------------------------------------


def _resolve_seed(random_state: Any) -> int:
    """One integer seed per run, recorded in the curve so every run can be replayed."""
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**32))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise InvalidInputError(f"random_state must be >= 0, got {random_state}.")
        return int(random_state)
    raise InvalidInputError(
        f"random_state must be None, a non-negative int or a numpy Generator, got "
        f"{type(random_state).__name__}; pass e.g. random_state=0."
    )


def _child_seeds(seed: int, n: int) -> list[int]:
    """Independent integer seeds for the split, the initial set and the learner."""
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(n)]


def _strategy_name(strategy: Any) -> str:
    if isinstance(strategy, str):
        return strategy
    name = getattr(strategy, "name", None) or getattr(strategy, "__name__", None)
    return str(name) if name else type(strategy).__name__


def _check_strategy(strategy: Any) -> None:
    """Fail before any work for an unknown strategy name."""
    from alwidgets.strategies import get_strategy

    get_strategy(strategy)


def _check_int(value: Any, name: str, minimum: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise InvalidInputError(f"{name} must be an integer >= {minimum} ({what}), got {value!r}.")
    return int(value)


@dataclass
class _Task:
    """One seed's data: the pool (train part) and the test set, never copied after this."""

    X_pool: Any
    y_pool: np.ndarray
    X_test: Any
    y_test: np.ndarray
    pool_positions: np.ndarray  # rows of the caller's X that form the pool
    test_positions: np.ndarray | None  # rows of X held out (None for a given test set)
    classes: np.ndarray
    seed: int
    initial_seed: int
    learner_seed: int


def _prepare(
    X: Any, y: np.ndarray, X_test: Any, y_test: np.ndarray | None, test_size: float, seed: int
) -> _Task:
    split_seed, initial_seed, learner_seed = _child_seeds(seed, 3)
    n = n_rows(X)
    if X_test is None:
        positions = np.arange(n)
        counts = np.unique(y, return_counts=True)[1]
        stratify = y if counts.min() >= 2 else None
        try:
            train, test = train_test_split(
                positions, test_size=test_size, random_state=split_seed, stratify=stratify
            )
        except ValueError:  # test set smaller than the number of classes
            train, test = train_test_split(positions, test_size=test_size, random_state=split_seed)
        train, test = np.sort(train), np.sort(test)
        X_pool, y_pool = _safe_indexing(X, train), y[train]
        X_test, y_test = _safe_indexing(X, test), y[test]
    else:
        train, test, X_pool, y_pool = np.arange(n), None, X, y
    return _Task(
        X_pool=X_pool,
        y_pool=y_pool,
        X_test=X_test,
        y_test=cast(np.ndarray, y_test),  # given, or set by the split above
        pool_positions=train,
        test_positions=test,
        classes=np.unique(np.concatenate([y_pool, y_test])),
        seed=seed,
        initial_seed=initial_seed,
        learner_seed=learner_seed,
    )


def _validate_data(
    estimator: Any, X: Any, y: Any, X_test: Any, y_test: Any, test_size: float
) -> tuple[Any, np.ndarray, Any, np.ndarray | None]:
    check_estimator(estimator)
    X = check_X(X, allow_text=True, min_rows=4)
    y = check_y(y, n_rows(X))
    if (X_test is None) != (y_test is None):
        raise InvalidInputError(
            "pass both X_test and y_test, or neither (then part of X is held out as test set)."
        )
    if X_test is not None:
        X_test = check_X(X_test, name="X_test", allow_text=True)
        y_test = np.asarray(y_test)
        if y_test.ndim != 1 or len(y_test) != n_rows(X_test):
            raise InvalidInputError(
                f"X_test has {n_rows(X_test)} rows but y_test has shape {y_test.shape}; "
                "pass one label per test row."
            )
    elif not (isinstance(test_size, numbers.Real) and 0 < test_size < 1):
        raise InvalidInputError(
            f"test_size must be a fraction between 0 and 1 (share of X held out), got {test_size!r}."
        )
    return X, y, X_test, y_test


# -- the oracle loop -----------------------------------------------------------


def initial_positions(task: _Task, initial: int) -> np.ndarray:
    """The seeded random start: ``initial`` pool positions, the same for every strategy."""
    if not initial:
        return np.zeros(0, dtype=np.int64)
    rng = np.random.default_rng(task.initial_seed)
    n_pool = len(task.y_pool)
    return rng.choice(n_pool, size=min(initial, n_pool), replace=False).astype(np.int64)


def curve_row(
    task: _Task, strategy: str, n_labels: int, predicted: Any, classes_seen: int
) -> dict[str, Any]:
    """One learning-curve row from test-set predictions (``seconds`` is left at 0)."""
    return {
        "strategy": strategy,
        "seed": task.seed,
        "n_labels": int(n_labels),
        "accuracy": float(accuracy_score(task.y_test, predicted)),
        "f1_macro": float(
            f1_score(task.y_test, predicted, labels=task.classes, average="macro", zero_division=0)
        ),
        "classes_seen": int(classes_seen),
        "seconds": 0.0,
    }


def _run(
    estimator: Any,
    task: _Task,
    strategy: Any,
    *,
    initial: int,
    batch_size: int,
    budget: int,
    rows: list[dict[str, Any]],
    order: list[int],
    callback: Callback | None,
    pbar: Any,
) -> None:
    """Label until the budget is spent, appending one curve row per evaluation to ``rows``.

    ``rows`` and ``order`` (pool positions in the order they were labeled) are filled
    in place, so an interruption leaves every finished evaluation behind.
    """
    from alwidgets.learner import ActiveLearner

    n_pool = len(task.y_pool)
    budget = min(budget, n_pool)
    labeled = np.zeros(n_pool, dtype=bool)
    start = initial_positions(task, initial)
    labeled[start] = True
    order.extend(int(i) for i in start)
    learner = ActiveLearner(estimator, strategy=strategy, random_state=task.learner_seed)
    name = _strategy_name(strategy)
    query_seconds = 0.0
    while True:
        n_labeled = int(labeled.sum())
        if n_labeled:
            t0 = time.perf_counter()
            positions = np.flatnonzero(labeled)
            y_lab = task.y_pool[positions]
            seen = np.unique(y_lab)
            if len(seen) >= 2:
                learner.fit(_safe_indexing(task.X_pool, positions), y_lab)
                fit_seconds = time.perf_counter() - t0
                predicted = learner.predict(task.X_test)
            else:  # one class so far: the only possible prediction is that class
                fit_seconds = 0.0
                predicted = np.full(len(task.y_test), seen[0])
            row = curve_row(task, name, n_labeled, predicted, len(seen))
            row["seconds"] = fit_seconds + query_seconds
            rows.append(row)
            if pbar is not None:
                pbar.update(n_labeled - pbar.n)
            if callback is not None:
                callback(dict(row))
        if n_labeled >= budget:
            return
        k = min(batch_size, budget - n_labeled)
        t0 = time.perf_counter()
        # an unfitted learner (no labels yet, or one class only) uses its cold-start selector
        picked = np.asarray(learner.query(task.X_pool, k, exclude=labeled if n_labeled else None))
        query_seconds = time.perf_counter() - t0
        if len(picked) == 0 or labeled[picked].any():  # contract broken: stop, do not loop forever
            raise InvalidInputError(
                f"strategy {name!r} returned {len(picked)} items, some already labeled; "
                "a strategy must return new, unlabeled positions."
            )
        labeled[picked] = True
        order.extend(int(i) for i in picked)


def _curve_frame(rows: list[dict[str, Any]]) -> pd.DataFrame:
    frame = pd.DataFrame(rows, columns=CURVE_COLUMNS)
    return frame.astype(
        {
            "seed": "int64",
            "n_labels": "int64",
            "accuracy": "float64",
            "f1_macro": "float64",
            "classes_seen": "int64",
            "seconds": "float64",
        }
    )


def _check_threads(blas_threads: Any) -> int | None:
    if blas_threads is None:
        return None
    return _check_int(blas_threads, "blas_threads", 1, "threads for BLAS/OpenMP, or None")


def _thread_limit(blas_threads: int | None) -> Any:
    """Context manager limiting BLAS/OpenMP threads (a no-op for ``None``)."""
    if blas_threads is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=blas_threads)


def _progress(total: int, desc: str, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="label" if "seed" in desc else "run")


def simulate(
    estimator: Any,
    X: Any,
    y: Any,
    *,
    strategy: Any = "margin",
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
) -> pd.DataFrame:
    """Replay active learning with the true labels as the oracle; return the learning curve.

    Parameters
    ----------
    estimator : classifier with ``predict_proba``
        Cloned for every fit (a Pipeline is fine, e.g. TF-IDF + LogisticRegression
        on raw text).
    X : array-like, sparse matrix, DataFrame, or 1-D array of str
        All items. Without ``X_test`` a stratified ``test_size`` share is held
        out as test set and the rest is the pool.
    y : array-like of shape (n_samples,)
        The true labels, revealed only for the items the strategy picks.
    strategy : str, Strategy or callable, default "margin"
        Anything :class:`~alwidgets.ActiveLearner` accepts; see
        :func:`alwidgets.strategies.available_strategies`.
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

    Returns
    -------
    pandas.DataFrame
        One row per evaluation: ``strategy``, ``seed``, ``n_labels``,
        ``accuracy`` and ``f1_macro`` (macro-averaged over every class, on the
        test set), ``classes_seen`` (distinct labels among the labeled items),
        ``seconds`` (fit + query time of that round). ``attrs`` holds
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
    X, y_arr, X_test, y_test = _validate_data(estimator, X, y, X_test, y_test, test_size)
    initial = _check_int(initial, "initial", 0, "size of the random start")
    batch_size = _check_int(batch_size, "batch_size", 1, "labels per round")
    budget = _check_int(budget, "budget", 1, "total labels")
    if budget < initial:
        raise InvalidInputError(
            f"budget ({budget}) is smaller than initial ({initial}); the budget counts the "
            "initial labels too, so raise budget or lower initial."
        )
    blas_threads = _check_threads(blas_threads)
    _check_strategy(strategy)
    seed = _resolve_seed(random_state)
    task = _prepare(X, y_arr, X_test, y_test, test_size, seed)
    if initial > len(task.y_pool):
        raise InvalidInputError(
            f"initial ({initial}) is larger than the pool ({len(task.y_pool)} items); lower it."
        )
    rows: list[dict[str, Any]] = []
    order: list[int] = []
    name = _strategy_name(strategy)
    pbar = _progress(min(budget, len(task.y_pool)), f"{name} seed {seed}", progress)
    interrupted = False
    try:
        with _thread_limit(blas_threads):
            _run(
                estimator,
                task,
                strategy,
                initial=initial,
                batch_size=batch_size,
                budget=budget,
                rows=rows,
                order=order,
                callback=callback,
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
    curve = _curve_frame(rows)
    curve.attrs.update(
        # plain lists, not arrays: pandas compares attrs when concatenating curves
        labeled_order=task.pool_positions[np.asarray(order, dtype=np.int64)].tolist(),
        test_positions=None if task.test_positions is None else task.test_positions.tolist(),
        n_pool=len(task.y_pool),
        n_test=len(task.y_test),
        interrupted=interrupted,
    )
    return curve


# -- compare: strategies × seeds, paired against random ------------------------


def _full_score(estimator: Any, task: _Task, metric: str) -> float:
    model = clone(estimator).fit(task.X_pool, task.y_pool)
    predicted = model.predict(task.X_test)
    if metric == "accuracy":
        return float(accuracy_score(task.y_test, predicted))
    return float(
        f1_score(task.y_test, predicted, labels=task.classes, average="macro", zero_division=0)
    )


def compare(
    estimator: Any,
    X: Any,
    y: Any,
    strategies: Sequence[Any] = ("margin",),
    seeds: int | Iterable[int] = 5,
    target: float = 0.95,
    *,
    relative: bool = True,
    metric: str = "accuracy",
    baseline: Any = "random",
    initial: int = 20,
    batch_size: int = 10,
    budget: int = 200,
    X_test: Any = None,
    y_test: Any = None,
    test_size: float = 0.25,
    progress: bool = True,
    callback: Callback | None = None,
    blas_threads: int | None = 1,
) -> ComparisonResult:
    """Run strategies × seeds against random sampling; report AULC and cost reduction.

    Every seed fixes one test split and one random initial set, shared by every
    strategy (a paired comparison), and one full-data score: the estimator fit
    on the whole pool and scored on that seed's test set. The target for a seed
    is ``target × full-data score`` (``relative=True``) or ``target`` itself.

    Parameters
    ----------
    estimator, X, y
        As for :func:`simulate`.
    strategies : sequence of str, Strategy or callable, default ("margin",)
        Strategies to measure. The baseline (random) is always added, first.
    seeds : int or iterable of int, default 5
        ``5`` means seeds ``0..4``; or give the seeds.
    target : float, default 0.95
        Relative: 0.95 = 95 % of the full-data score. Absolute when
        ``relative=False`` (e.g. ``0.9`` accuracy).
    relative : bool, default True
    metric : {"accuracy", "f1_macro"}, default "accuracy"
        Score used for the target and the area under the curve.
    baseline : str, Strategy or callable, default "random"
    initial, batch_size, budget, X_test, y_test, test_size
        As for :func:`simulate`. Choose a budget at which random sampling reaches
        the target, or cost reductions stay undefined (reported as such).
    progress : bool, default True
        One ``tqdm`` bar over the runs.
    callback : callable, optional
        Called with every curve row of every run.
    blas_threads : int or None, default 1
        As for :func:`simulate`.

    Returns
    -------
    ComparisonResult
        ``.summary`` (one row per strategy), ``.per_seed``, ``.curves``,
        ``.table()``, ``.plot()``. Displays as a table in notebooks.

    Notes
    -----
    * **AULC**: trapezoid area under the ``metric`` curve over the label range
      every run covers, divided by its width (a mean score; higher is better).
    * **Cost reduction** on a seed: ``(n_random - n) / n_random``, ``n`` = labels
      needed to first reach the target. When either run never reaches the
      target within the budget, the saving is undefined on that seed: it is
      left out of the mean, and ``reached`` / ``n_pairs`` say how often that
      happened. Curves are evaluated every ``batch_size`` labels, which bounds
      the resolution of ``n``.
    * ``KeyboardInterrupt`` stops early with a warning; finished runs are kept,
      the run in progress is dropped (``interrupted=True``).

    Examples
    --------
    >>> from sklearn.datasets import load_iris
    >>> from sklearn.linear_model import LogisticRegression
    >>> X, y = load_iris(return_X_y=True)
    >>> result = compare(LogisticRegression(max_iter=500), X, y, ["margin"], seeds=2, initial=6,
    ...                  batch_size=6, budget=36, progress=False)
    >>> result.strategies
    ['random', 'margin']
    >>> result.summary.columns[:4].tolist()
    ['strategy', 'aulc_mean', 'aulc_std', 'aulc_gain_mean']
    >>> sorted(result.per_seed["seed"].unique().tolist())
    [0, 1]
    """
    X, y_arr, X_test, y_test = _validate_data(estimator, X, y, X_test, y_test, test_size)
    initial = _check_int(initial, "initial", 0, "size of the random start")
    batch_size = _check_int(batch_size, "batch_size", 1, "labels per round")
    budget = _check_int(budget, "budget", 1, "total labels")
    if budget < initial:
        raise InvalidInputError(
            f"budget ({budget}) is smaller than initial ({initial}); raise budget or lower initial."
        )
    if metric not in METRICS:
        raise InvalidInputError(f"unknown metric {metric!r}; use one of {list(METRICS)}.")
    target = check_target(target)
    if relative and not 0 < target <= 1:
        raise InvalidInputError(
            f"a relative target is a share of the full-data score in (0, 1], got {target}; "
            "pass relative=False for an absolute score."
        )
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        seed_list = list(range(_check_int(seeds, "seeds", 1, "number of seeds")))
    else:
        seed_list = [_resolve_seed(s) for s in seeds]  # type: ignore[union-attr]
        if not seed_list or len(set(seed_list)) != len(seed_list):
            raise InvalidInputError("seeds must be a positive count or distinct integers.")
    if isinstance(strategies, str) or not isinstance(strategies, Sequence):
        raise InvalidInputError(
            f"strategies must be a list, e.g. ['margin', 'entropy'], got {strategies!r}."
        )
    ordered = [baseline, *[s for s in strategies if _strategy_name(s) != _strategy_name(baseline)]]
    names = [_strategy_name(s) for s in ordered]
    if len(set(names)) != len(names):
        raise InvalidInputError(f"strategy names must be unique, got {names}.")
    for s in ordered:
        _check_strategy(s)
    blas_threads = _check_threads(blas_threads)

    all_rows: list[dict[str, Any]] = []
    full: dict[int, tuple[float, float]] = {}
    meta: dict[str, Any] = {}
    pbar = _progress(len(seed_list) * len(ordered), "compare", progress)
    interrupted = False
    try:
        with _thread_limit(blas_threads):
            for seed in seed_list:
                task = _prepare(X, y_arr, X_test, y_test, test_size, seed)
                meta.update(n_pool=len(task.y_pool), n_test=len(task.y_test))
                if initial > len(task.y_pool):
                    raise InvalidInputError(
                        f"initial ({initial}) is larger than the pool ({len(task.y_pool)} items)."
                    )
                full_score = _full_score(estimator, task, metric)
                full[seed] = (full_score, target * full_score if relative else target)
                for strategy, name in zip(ordered, names, strict=True):
                    if pbar is not None:
                        pbar.set_postfix_str(f"{name}, seed {seed}")
                    rows: list[dict[str, Any]] = []
                    _run(
                        estimator,
                        task,
                        strategy,
                        initial=initial,
                        batch_size=batch_size,
                        budget=budget,
                        rows=rows,
                        order=[],
                        callback=callback,
                        pbar=None,
                    )
                    all_rows.extend(rows)  # only whole runs: a cut curve would bias the measures
                    if pbar is not None:
                        pbar.update(1)
    except KeyboardInterrupt:
        interrupted = True
        n_runs = len({(r["strategy"], r["seed"]) for r in all_rows})
        warnings.warn(
            f"comparison interrupted; returning the {n_runs} finished run(s) "
            "(the run in progress was dropped).",
            UserWarning,
            stacklevel=2,
        )
    finally:
        if pbar is not None:
            pbar.close()
    curves = _curve_frame(all_rows)
    per_seed, summary, n_range = summarise(curves, full, names, _strategy_name(baseline), metric)
    return ComparisonResult(
        curves=curves,
        per_seed=per_seed,
        summary=summary,
        metric=metric,
        target=target,
        relative=relative,
        baseline=_strategy_name(baseline),
        n_range=n_range,
        interrupted=interrupted,
        _meta=meta,
    )

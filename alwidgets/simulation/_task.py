"""What :func:`simulate` and :func:`compare` share: seeds, the split, one run, curve rows.

A *task* is one seed's data (pool and test set, split once, shared by every strategy
on that seed); :func:`run_task` runs one strategy on it through the one oracle loop
(:func:`~alwidgets.simulation.run_oracle_loop`) and appends a learning-curve row per round.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> X = np.random.default_rng(0).normal(size=(80, 2))
>>> y = (X[:, 0] > 0).astype(int)
>>> task = prepare(X, y, None, None, 0.25, seed=3)
>>> len(task.y_pool), len(task.y_test)
(60, 20)
>>> rows = []
>>> run_task(LogisticRegression(), task, "margin", initial=10, batch_size=10, budget=30,
...          rows=rows, order=[], callback=None, pbar=None)
>>> [r["n_labels"] for r in rows]
[10, 20, 30]
"""

from __future__ import annotations

import contextlib
import numbers
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, cast

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, f1_score
from sklearn.model_selection import train_test_split

from alwidgets._multilabel import is_indicator
from alwidgets._utils import n_rows, strategy_name, take_rows
from alwidgets._validation import check_estimator, check_int, check_X, check_y
from alwidgets.exceptions import InvalidInputError
from alwidgets.simulation._loop import OracleRound, run_oracle_loop
from alwidgets.simulation._multilabel import MULTI_CURVE_COLUMNS, check_targets, curve_metrics

__all__ = [
    "CURVE_COLUMNS",
    "Task",
    "check_described",
    "check_initial",
    "check_run",
    "check_threads",
    "curve_frame",
    "curve_row",
    "initial_positions",
    "prepare",
    "progress_bar",
    "run_task",
    "thread_limit",
    "validate_data",
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


# -- seeds, data ------------------------------------------------------


def _child_seeds(seed: int, n: int) -> list[int]:
    """Independent integer seeds for the split, the initial set and the learner."""
    return [int(s.generate_state(1)[0]) for s in np.random.SeedSequence(seed).spawn(n)]


def check_strategy(strategy: Any, multi_label: bool = False) -> None:
    """Fail before any work for an unknown strategy name, or one not meant for the task."""
    from alwidgets.strategies import check_task, get_strategy

    check_task(get_strategy(strategy), multi_label)


@dataclass
class Task:
    """One seed's data: the pool (train part) and the test set, never copied after this."""

    X_pool: Any
    y_pool: np.ndarray  # (n,) labels, or (n, k) 0/1 rows for a multi-label task
    X_test: Any
    y_test: np.ndarray
    pool_positions: np.ndarray  # rows of the caller's X that form the pool
    test_positions: np.ndarray | None  # rows of X held out (None for a given test set)
    classes: np.ndarray
    seed: int
    initial_seed: int
    learner_seed: int

    @property
    def multi_label(self) -> bool:
        return self.y_pool.ndim == 2


def prepare(
    X: Any, y: np.ndarray, X_test: Any, y_test: np.ndarray | None, test_size: float, seed: int
) -> Task:
    split_seed, initial_seed, learner_seed = _child_seeds(seed, 3)
    n = n_rows(X)
    if X_test is None:
        positions = np.arange(n)
        counts = np.unique(y, return_counts=True)[1] if y.ndim == 1 else np.zeros(1)
        stratify = y if counts.min() >= 2 else None
        try:
            train, test = train_test_split(
                positions, test_size=test_size, random_state=split_seed, stratify=stratify
            )
        except ValueError:  # test set smaller than the number of classes
            train, test = train_test_split(positions, test_size=test_size, random_state=split_seed)
        train, test = np.sort(train), np.sort(test)
        X_pool, y_pool = take_rows(X, train), y[train]
        X_test, y_test = take_rows(X, test), y[test]
    else:
        train, test, X_pool, y_pool = np.arange(n), None, X, y
    return Task(
        X_pool=X_pool,
        y_pool=y_pool,
        X_test=X_test,
        y_test=cast(np.ndarray, y_test),  # given, or set by the split above
        pool_positions=train,
        test_positions=test,
        classes=np.arange(y.shape[1])
        if y.ndim == 2
        else np.unique(np.concatenate([y_pool, cast(np.ndarray, y_test)])),
        seed=seed,
        initial_seed=initial_seed,
        learner_seed=learner_seed,
    )


def validate_data(
    estimator: Any, X: Any, y: Any, X_test: Any, y_test: Any, test_size: float
) -> tuple[Any, np.ndarray, Any, np.ndarray | None]:
    check_estimator(estimator)
    from alwidgets.pools import is_dask_collection

    if is_dask_collection(X) or is_dask_collection(X_test):
        raise InvalidInputError(
            "simulate and compare run in memory (they need every label and a fit on the "
            "whole pool); pass X.compute() if it fits, or a sample of the Dask pool. "
            "ActiveLearner.query and ActiveLabeler take Dask pools."
        )
    X = check_X(X, allow_text=True, min_rows=4)
    multi = is_indicator(y)
    if not multi:
        y = check_y(y, n_rows(X))
    if (X_test is None) != (y_test is None):
        raise InvalidInputError(
            "pass both X_test and y_test, or neither (then part of X is held out as test set)."
        )
    if X_test is not None:
        X_test = check_X(X_test, name="X_test", allow_text=True)
    if multi:  # a 0/1 indicator: multi-label
        y, y_test = check_targets(y, n_rows(X), y_test, None if X_test is None else n_rows(X_test))
    elif X_test is not None:
        y_test = np.asarray(y_test)
        if y_test.ndim != 1 or len(y_test) != n_rows(X_test):
            raise InvalidInputError(
                f"X_test has {n_rows(X_test)} rows but y_test has shape {y_test.shape}; "
                "pass one label per test row."
            )
    if X_test is None and not (isinstance(test_size, numbers.Real) and 0 < test_size < 1):
        raise InvalidInputError(
            f"test_size must be a fraction between 0 and 1 (share of X held out), got {test_size!r}."
        )
    return X, y, X_test, y_test


# -- one run: the oracle loop from a seeded start, one curve row per round ----


def check_run(
    estimator: Any,
    X: Any,
    y: Any,
    X_test: Any,
    y_test: Any,
    test_size: float,
    initial: Any,
    batch_size: Any,
    budget: Any,
) -> tuple[Any, np.ndarray, Any, np.ndarray | None, int, int, int]:
    """The checks every run starts with: data, then ``initial <= budget`` sizes."""
    X, y_arr, X_test, y_test = validate_data(estimator, X, y, X_test, y_test, test_size)
    initial = check_int(initial, "initial", 0, "size of the random start")
    batch_size = check_int(batch_size, "batch_size", 1, "labels per round")
    budget = check_int(budget, "budget", 1, "total labels")
    if budget < initial:
        raise InvalidInputError(
            f"budget ({budget}) is smaller than initial ({initial}); the budget counts the "
            "initial labels too, so raise budget or lower initial."
        )
    return X, y_arr, X_test, y_test, initial, batch_size, budget


def check_initial(task: Task, initial: int) -> None:
    """The random start must fit in the pool of this seed's split."""
    if initial > len(task.y_pool):
        raise InvalidInputError(
            f"initial ({initial}) is larger than the pool ({len(task.y_pool)} items); lower it."
        )


def check_described(estimator: Any, y: np.ndarray, descriptions: Any) -> dict[Any, str] | None:
    """Descriptions of exactly the classes of ``y``, and a model whose first step embeds them."""
    if descriptions is None:
        return None
    from alwidgets._descriptions import check_descriptions, similarity_step

    classes = np.unique(y) if y.ndim == 1 else None
    desc = check_descriptions(descriptions, classes=classes)
    first, similarity = similarity_step(estimator)
    if similarity is None:
        raise InvalidInputError(
            "descriptions are embedded by the model's first step, but "
            f"{type(first).__name__} cannot embed text; use a Pipeline that starts with "
            "TextFeatures on raw texts, e.g. make_pipeline(TextFeatures(), "
            "LogisticRegression()), or leave descriptions out."
        )
    return desc


def initial_positions(
    task: Task, initial: int, estimator: Any = None, descriptions: Any = None
) -> np.ndarray:
    """The seeded start: ``initial`` pool positions, the same for every strategy.

    At random; with ``descriptions``, chosen by the description cold start instead
    (:class:`~alwidgets.strategies.DescriptionColdStart`, seeded the same way).
    """
    if not initial:
        return np.zeros(0, dtype=np.int64)
    if descriptions is not None:
        from alwidgets.learner import ActiveLearner
        from alwidgets.strategies import DescriptionColdStart

        learner = ActiveLearner(
            estimator,
            strategy=DescriptionColdStart(),
            random_state=task.initial_seed,
            descriptions=descriptions,
        )
        return learner.query(task.X_pool, min(initial, len(task.y_pool)))
    rng = np.random.default_rng(task.initial_seed)
    n_pool = len(task.y_pool)
    return rng.choice(n_pool, size=min(initial, n_pool), replace=False).astype(np.int64)


def curve_row(
    task: Task, strategy: str, n_labels: int, predicted: Any, classes_seen: int
) -> dict[str, Any]:
    """One learning-curve row from test-set predictions (``seconds`` is left at 0)."""
    if task.multi_label:
        return {
            "strategy": strategy,
            "seed": task.seed,
            "n_labels": int(n_labels),
            **curve_metrics(task.y_test, np.asarray(predicted)),
            "classes_seen": int(classes_seen),
            "seconds": 0.0,
        }
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


def run_task(
    estimator: Any,
    task: Task,
    strategy: Any,
    *,
    initial: int,
    batch_size: int,
    budget: int,
    rows: list[dict[str, Any]],
    order: list[int],
    callback: Callback | None,
    pbar: Any,
    descriptions: Any = None,
) -> None:
    """Label until the budget is spent, appending one curve row per round to ``rows``.

    ``rows`` and ``order`` (pool positions in the order they were labeled, as of the
    last finished round) are filled in place, so an interruption leaves every
    finished evaluation behind.
    """
    name = strategy_name(strategy)

    def record(step: OracleRound) -> None:
        if task.multi_label:  # classes seen = classes with a positive so far
            n_seen = int((step.labels.sum(axis=0) > 0).sum())
            predicted = step.learner.predict(task.X_test)
        else:
            seen = np.unique(step.labels)
            n_seen = len(seen)
            if step.fitted:
                predicted = step.learner.predict(task.X_test)
            else:  # one class so far: the only possible prediction is that class
                predicted = np.full(len(task.y_test), seen[0])
        row = curve_row(task, name, len(step.positions), predicted, n_seen)
        row["seconds"] = step.seconds
        rows.append(row)
        order[:] = step.positions.tolist()
        if pbar is not None:
            pbar.update(len(step.positions) - pbar.n)
        if callback is not None:
            callback(dict(row))

    run_oracle_loop(
        estimator,
        task.X_pool,
        task.y_pool,
        strategy,
        start=initial_positions(task, initial, estimator, descriptions),
        target=budget,
        batch_size=batch_size,
        random_state=task.learner_seed,
        on_round=record,
        descriptions=descriptions,
    )


def curve_frame(rows: list[dict[str, Any]], multi_label: bool = False) -> pd.DataFrame:
    columns = MULTI_CURVE_COLUMNS if multi_label else CURVE_COLUMNS
    frame = pd.DataFrame(rows, columns=columns)
    ints = {"seed", "n_labels", "classes_seen"}
    return frame.astype(
        {c: ("int64" if c in ints else "float64") for c in columns if c != "strategy"}
    )


def check_threads(blas_threads: Any) -> int | None:
    if blas_threads is None:
        return None
    return check_int(blas_threads, "blas_threads", 1, "threads for BLAS/OpenMP, or None")


def thread_limit(blas_threads: int | None) -> Any:
    """Context manager limiting BLAS/OpenMP threads (a no-op for ``None``)."""
    if blas_threads is None:
        return contextlib.nullcontext()
    from threadpoolctl import threadpool_limits

    return threadpool_limits(limits=blas_threads)


def progress_bar(total: int, desc: str, enabled: bool) -> Any:
    if not enabled:
        return None
    from tqdm.auto import tqdm

    return tqdm(total=total, desc=desc, unit="label" if "seed" in desc else "run")

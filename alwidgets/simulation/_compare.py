"""compare(): strategies × seeds against random sampling, paired by seed."""

from __future__ import annotations

import numbers
import warnings
from collections.abc import Iterable, Sequence
from typing import Any

from sklearn.base import clone
from sklearn.metrics import accuracy_score, f1_score

from alwidgets._utils import strategy_name
from alwidgets._validation import check_int, resolve_seed
from alwidgets.exceptions import InvalidInputError
from alwidgets.simulation._metrics import check_target
from alwidgets.simulation._multilabel import (
    curve_metrics,
    full_model,
    resolve_auto,
    resolve_metric,
)
from alwidgets.simulation._result import ComparisonResult, summarise
from alwidgets.simulation._task import (
    Callback,
    Task,
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

__all__ = ["compare"]


def _full_score(estimator: Any, task: Task, metric: str) -> float:
    if task.multi_label:
        predicted = full_model(estimator, task.X_pool, task.y_pool).predict(task.X_test)
        return curve_metrics(task.y_test, predicted)[metric]
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
    strategies: Sequence[Any] = ("auto",),
    seeds: int | Iterable[int] = 5,
    target: float = 0.95,
    *,
    relative: bool = True,
    metric: str = "auto",
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
    descriptions: Any = None,
) -> ComparisonResult:
    """Run strategies × seeds against random sampling; report AULC and cost reduction.

    Every seed fixes one test split and one random initial set, shared by every
    strategy (a paired comparison), and one full-data score: the estimator fit
    on the whole pool and scored on that seed's test set. The target for a seed
    is ``target × full-data score`` (``relative=True``) or ``target`` itself.
    Runs in memory, like :func:`simulate` (it needs every label and a full-data
    fit); Dask pools are for the app and ``ActiveLearner.query``.

    Parameters
    ----------
    estimator, X, y
        As for :func:`simulate` (a 0/1 indicator ``y`` is multi-label).
    strategies : sequence of str, Strategy or callable, default ("auto",)
        Strategies to measure. The baseline (random) is always added, first.
        ``"auto"`` is ``margin`` (single-label) or ``mmu`` (multi-label).
    seeds : int or iterable of int, default 5
        ``5`` means seeds ``0..4``; or give the seeds.
    target : float, default 0.95
        Relative: 0.95 = 95 % of the full-data score. Absolute when
        ``relative=False`` (e.g. ``0.9`` accuracy).
    relative : bool, default True
    metric : str, default "auto"
        Score used for the target and the area under the curve: ``"accuracy"`` or
        ``"f1_macro"`` (single-label), ``"micro_f1"``, ``"macro_f1"`` or ``"score"``
        (multi-label). ``"auto"``: ``accuracy``, or ``micro_f1`` for multi-label.
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
    descriptions : dict, optional
        As for :func:`simulate`: ``{class: description}``; the shared start of every
        seed (``initial``, or the first batch when ``initial=0``) comes from the
        descriptions. The random baseline still picks at random after it.

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

    Multi-label (a 0/1 indicator ``Y``): micro-F1 by default, or ``metric="macro_f1"``.

    >>> from sklearn.datasets import make_multilabel_classification
    >>> X, Y = make_multilabel_classification(n_samples=300, n_classes=4, random_state=0)
    >>> result = compare(LogisticRegression(max_iter=500), X, Y, ["mean_margin", "lci"],
    ...                  seeds=2, initial=10, batch_size=10, budget=40, progress=False)
    >>> result.strategies, result.metric
    (['random', 'mean_margin', 'lci'], 'micro_f1')
    """
    X, y_arr, X_test, y_test, initial, batch_size, budget = check_run(
        estimator, X, y, X_test, y_test, test_size, initial, batch_size, budget
    )
    multi = y_arr.ndim == 2
    metric = resolve_metric(metric, multi)
    target = check_target(target)
    if relative and not 0 < target <= 1:
        raise InvalidInputError(
            f"a relative target is a share of the full-data score in (0, 1], got {target}; "
            "pass relative=False for an absolute score."
        )
    if isinstance(seeds, numbers.Integral) and not isinstance(seeds, bool):
        seed_list = list(range(check_int(seeds, "seeds", 1, "number of seeds")))
    else:
        seed_list = [resolve_seed(s) for s in seeds]  # type: ignore[union-attr]
        if not seed_list or len(set(seed_list)) != len(seed_list):
            raise InvalidInputError("seeds must be a positive count or distinct integers.")
    if isinstance(strategies, str) or not isinstance(strategies, Sequence):
        raise InvalidInputError(
            f"strategies must be a list, e.g. ['margin', 'entropy'], got {strategies!r}."
        )
    baseline = resolve_auto(baseline, multi)
    chosen = [resolve_auto(s, multi) for s in strategies]
    ordered = [baseline, *[s for s in chosen if strategy_name(s) != strategy_name(baseline)]]
    names = [strategy_name(s) for s in ordered]
    if len(set(names)) != len(names):
        raise InvalidInputError(
            f"strategy names must be unique, got {names} ('auto' stands for "
            f"{resolve_auto('auto', multi)!r} here)."
        )
    for s in ordered:
        check_strategy(s, multi)
    blas_threads = check_threads(blas_threads)
    descriptions = check_described(estimator, y_arr, descriptions)

    all_rows: list[dict[str, Any]] = []
    full: dict[int, tuple[float, float]] = {}
    meta: dict[str, Any] = {}
    pbar = progress_bar(len(seed_list) * len(ordered), "compare", progress)
    interrupted = False
    try:
        with thread_limit(blas_threads):
            for seed in seed_list:
                task = prepare(X, y_arr, X_test, y_test, test_size, seed)
                meta.update(n_pool=len(task.y_pool), n_test=len(task.y_test))
                check_initial(task, initial)
                full_score = _full_score(estimator, task, metric)
                full[seed] = (full_score, target * full_score if relative else target)
                for strategy, name in zip(ordered, names, strict=True):
                    if pbar is not None:
                        pbar.set_postfix_str(f"{name}, seed {seed}")
                    rows: list[dict[str, Any]] = []
                    run_task(
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
                        descriptions=descriptions,
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
    curves = curve_frame(all_rows, multi)
    per_seed, summary, n_range = summarise(curves, full, names, strategy_name(baseline), metric)
    return ComparisonResult(
        curves=curves,
        per_seed=per_seed,
        summary=summary,
        metric=metric,
        target=target,
        relative=relative,
        baseline=strategy_name(baseline),
        n_range=n_range,
        interrupted=interrupted,
        _meta=meta,
    )

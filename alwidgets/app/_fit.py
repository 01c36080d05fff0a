"""One retrain as a pure function: :func:`run_job` fits, ranks and scores.

Pure: it changes nothing it is given (a Dask pool's row cache only fills as a read-
through cache; the candidates' rows come back in the snapshot for its owner to keep).

It runs in a thread or a worker process (:mod:`._worker`); with an oracle it also
races the other strategies (:func:`alwidgets.simulation.run_oracle_loop`) and
measures the random-sampling expectation for the learning curve.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> X = np.random.default_rng(0).normal(size=(60, 3))
>>> job = RetrainJob(version=1, positions=np.arange(10), labels=np.array([0, 1] * 5),
...                  exclude=np.arange(10), estimator=LogisticRegression(),
...                  strategy="margin", classes=[0, 1], n_candidates=5, random_state=0)
>>> snap = run_job(job, PoolData(X))
>>> snap.version, snap.n_labels, len(snap.order), snap.error is None
(1, 10, 5, True)
"""

from __future__ import annotations

import time
from typing import Any

import numpy as np

from alwidgets._utils import n_rows, strategy_name
from alwidgets.app._descriptions import describe_with, handover
from alwidgets.app._jobs import (
    LazyLearner,
    PoolData,
    RankingSnapshot,
    RetrainJob,
    failed_snapshot,
    pool_rows,
    proba_in_class_order,
)
from alwidgets.app._multilabel import curve_metrics
from alwidgets.simulation import run_oracle_loop

__all__ = ["MIN_PER_CLASS_FOR_CV", "run_job"]

#: Fewest labels per class before the learning curve is cross-validated (3 folds).
MIN_PER_CLASS_FOR_CV = 3


def _score(
    estimator: Any, X: Any, y: np.ndarray, data: PoolData, cv: bool, seed: int
) -> tuple[float | None, float | None, str]:
    """Fit-and-score for a learning-curve point: on the eval set, else 3-fold CV
    (multi-label: micro-F1 of the multi-label model)."""
    from sklearn.base import clone

    if np.ndim(y) == 2:
        m, name = curve_metrics(estimator, X, y, data.X_eval, data.y_eval, cv, seed)
        return m.get("score"), m.get("score_std"), name

    if data.X_eval is not None:
        model = clone(estimator).fit(X, y)
        return float(model.score(data.X_eval, data.y_eval)), None, "accuracy (eval set)"
    if not cv:
        return None, None, ""
    _, counts = np.unique(y, return_counts=True)
    if len(counts) < 2 or counts.min() < MIN_PER_CLASS_FOR_CV:
        return None, None, "accuracy (CV)"
    from sklearn.model_selection import StratifiedKFold, cross_val_score

    folds = StratifiedKFold(n_splits=3, shuffle=True, random_state=seed)
    s = cross_val_score(clone(estimator), X, y, cv=folds)
    return float(s.mean()), float(s.std()), "accuracy (CV)"


def _shadow_loop(
    job: RetrainJob, data: PoolData, oracle: np.ndarray, name: str, start: np.ndarray, target: int
) -> tuple[np.ndarray, float]:
    """Race strategy ``name``: grow its own labeled set to ``target`` with the oracle."""
    positions = run_oracle_loop(
        job.estimator,
        data.X,
        oracle,
        name,
        start=start,
        target=target,
        batch_size=job.batch_size,
        random_state=job.random_state,
        descriptions=job.descriptions,  # the same start as the labeler's: only the strategy differs
    )
    y = oracle[positions]
    score, _, _ = _score(
        job.estimator, pool_rows(data, positions), y, data, job.cv, job.random_state
    )
    return positions, float("nan") if score is None else score


def _random_baseline(
    job: RetrainJob, data: PoolData, oracle: np.ndarray, n: int
) -> tuple[float, float] | None:
    """Expected score of ``n`` randomly chosen labels (mean, std over seeds)."""
    scores = []
    for seed in range(job.random_seeds):
        positions = run_oracle_loop(
            job.estimator,
            data.X,
            oracle,
            "random",
            start=(),
            target=n,
            batch_size=n,
            random_state=np.random.default_rng([job.random_state, seed]),
        )
        y = oracle[positions]
        if len(np.unique(y)) < 2:
            continue
        s, _, _ = _score(job.estimator, pool_rows(data, positions), y, data, job.cv, seed)
        if s is not None:
            scores.append(s)
    if not scores:
        return None
    return float(np.mean(scores)), float(np.std(scores))


def _dask_scores(learner: Any, data: PoolData) -> tuple[Any, tuple[np.ndarray, Any]]:
    """The candidates' scores as a pool-long NaN-elsewhere vector, and their rows (for
    the owner of the pool's row cache to keep)."""
    from alwidgets.pools import SparseScores

    cand = learner.candidate_scores_
    positions = cand.index.to_numpy()
    scores = SparseScores(n_rows(data.X), positions, cand.to_numpy())
    return scores, (positions, learner.candidate_rows_)


def _set_utility(learner: Any, data: PoolData) -> np.ndarray | None:
    """A multi-label model's mean-margin utility of the in-memory pool (what the histogram
    shows when ``random`` picks: its own scores are coin flips, not uncertainty)."""
    if not getattr(learner, "multi_label_", False) or data.rows is not None:
        return None
    from alwidgets.strategies import mean_margin

    n, step = n_rows(data.X), 65536
    parts = [
        mean_margin(learner.predict_proba(pool_rows(data, np.arange(i, min(n, i + step)))))
        for i in range(0, n, step)
    ]
    return np.concatenate(parts) if parts else None


def run_job(job: RetrainJob, data: PoolData) -> RankingSnapshot:
    """Fit, rank and score; never raises (an error is returned in the snapshot)."""
    from alwidgets.learner import ActiveLearner

    t0 = time.perf_counter()
    name = strategy_name(job.strategy)
    try:
        learner = ActiveLearner(
            job.estimator, strategy=job.strategy, random_state=job.random_state,
            descriptions=job.descriptions,
        )  # fmt: skip
        if job.fit:  # label-free steps (scalers, PCA) are fit on the in-memory pool
            unlabeled = data.X if data.rows is None else None
            learner.fit(
                pool_rows(data, job.positions, keep=True), job.labels, X_unlabeled=unlabeled
            )
            describe_with(learner, data.similarity)  # its description phase: no re-embedding
            name = (getattr(learner, "strategy_", None) and learner.strategy_.name) or name
        n = int(min(job.n_candidates, n_rows(data.X) - len(job.exclude)))
        order = np.asarray(
            learner.query(data.X, n, exclude=job.exclude) if n > 0 else [], dtype=np.int64
        )
        raw = getattr(learner, "scores_", None)
        candidate_rows = None
        if raw is None and hasattr(learner, "candidate_scores_"):  # a Dask pool
            scores, candidate_rows = _dask_scores(learner, data)
        else:
            scores = (
                np.asarray(raw, dtype=np.float64)
                if raw is not None
                else np.full(n_rows(data.X), np.nan)
            )
        proba = (
            proba_in_class_order(learner, pool_rows(data, order), job.classes)
            if job.fit and len(order)
            else None
        )
        metrics: dict[str, float] = {}
        metric_name = ""
        preference = None
        if job.fit and np.ndim(job.labels) == 2:  # multi-label: micro- and macro-F1
            metrics, metric_name = curve_metrics(
                job.estimator, pool_rows(data, job.positions), np.asarray(job.labels), data.X_eval,
                data.y_eval, job.cv, job.random_state,
            )  # fmt: skip
        elif job.fit:
            X_lab = pool_rows(data, job.positions)
            preference = handover(job, X_lab)  # the model against zero-shot, on the labels
            if data.X_eval is not None:
                metrics["score"] = float(learner.score(data.X_eval, data.y_eval))
                metric_name = "accuracy (eval set)"
            else:
                s, sd, metric_name = _score(
                    job.estimator, X_lab, job.labels, data, job.cv, job.random_state
                )
                if s is not None:
                    metrics["score"] = s
                if sd is not None:
                    metrics["score_std"] = sd
        also_proba = None
        if job.fit and job.also_predict is not None and len(job.also_predict):
            rows = pool_rows(data, job.also_predict)
            also_proba = proba_in_class_order(learner, rows, job.classes)
        stop_predictions = None
        if job.fit and job.stop_set is not None and len(job.stop_set):
            stop_predictions = np.asarray(learner.predict(pool_rows(data, job.stop_set, keep=True)))
        compare: dict[str, tuple[np.ndarray, float]] = {}
        baseline = None
        if data.oracle is not None and job.fit:
            target = len(job.positions)
            for other, start in job.compare.items():
                compare[other] = _shadow_loop(job, data, data.oracle, other, start, target)
            if job.random_seeds:
                baseline = _random_baseline(job, data, data.oracle, target)
        return RankingSnapshot(
            version=job.version,
            n_labels=len(job.positions),
            order=order,
            scores=scores,
            proba=proba,
            model=LazyLearner(learner) if job.fit else None,
            metrics=metrics,
            metric_name=metric_name,
            trained_at=time.time(),
            seconds=time.perf_counter() - t0,
            strategy=getattr(learner, "last_strategy_", name),  # "describe" in its phase
            compare=compare,
            random_baseline=baseline,
            stop_predictions=stop_predictions,
            also_positions=job.also_predict if also_proba is not None else None,
            also_proba=also_proba,
            histogram=getattr(learner, "score_histogram_", None),
            candidate_rows=candidate_rows,
            preference=preference,
            phase=getattr(learner, "description_phase_", None) if job.fit else None,
            utility=_set_utility(learner, data) if job.fit and name == "random" else None,
        )
    except Exception as err:  # a user's model may raise anything; report it, keep going
        return failed_snapshot(job, err, seconds=time.perf_counter() - t0)

"""What a retrain is given and what it returns: immutable, safe to send to a process.

A retrain is a pure function (:func:`alwidgets.app._fit.run_job`) of a
:class:`RetrainJob` (labeled positions, labels, what to exclude, the estimator and
strategy) and the :class:`PoolData`; it returns a :class:`RankingSnapshot` that the app
swaps in whole, so a ranking is always complete or absent, never half-updated.

Examples
--------
>>> snap = RankingSnapshot(version=0, n_labels=0, order=np.arange(3),
...                        scores=np.zeros(3), proba=None)
>>> snap.fitted, snap.learner is None
(False, True)
"""

from __future__ import annotations

import threading
import time
import traceback
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from alwidgets._utils import plain, strategy_name, take_rows

__all__ = [
    "LazyLearner",
    "PoolData",
    "RankingSnapshot",
    "RetrainJob",
    "failed_snapshot",
    "pool_rows",
    "proba_in_class_order",
    "row_cache",
]


@dataclass(frozen=True)
class PoolData:
    """What a worker needs besides the job: the pool, the eval set and the oracle."""

    X: Any
    X_eval: Any = None
    y_eval: Any = None
    oracle: np.ndarray | None = None  # labels aligned with the pool (teaching mode)
    rows: Any = None  # a Dask pool's RowCache: labeled and candidate rows held in the kernel
    similarity: np.ndarray | None = None  # (n, k) to the class descriptions, computed once


@dataclass(frozen=True)
class RetrainJob:
    """Everything one retrain needs, immutable (safe to send to another process)."""

    version: int
    positions: np.ndarray  # labeled pool positions
    labels: Any  # their labels (class values; multi-label: a 0/1 DataFrame, a column per class)
    exclude: np.ndarray  # positions not to rank (labeled, skipped, unsure)
    estimator: Any  # unfitted; the learner clones it
    strategy: Any
    classes: list[Any]
    n_candidates: int
    random_state: int
    fit: bool = True  # False: cold start (no model yet), rank only
    cv: bool = True  # cross-validate when there is no eval set
    compare: dict[str, np.ndarray] = field(
        default_factory=dict
    )  # strategy -> its labeled positions
    batch_size: int = 8
    random_seeds: int = 0  # >0 with an oracle: random-sampling baseline at this many labels
    stop_set: np.ndarray | None = None  # fixed positions: predictions for a stability signal
    also_predict: np.ndarray | None = None  # positions on screen: fresh suggestions for them
    descriptions: dict[Any, str] | None = None  # {class: description}: the learner's
    zero_shot: np.ndarray | None = None  # zero-shot labels of ``positions``: compare (hand-over)


class LazyLearner:
    """A fitted learner, or its pickle, unpickled on first use (thread-safe).

    A worker process sends the learner back pickled: unpickling a large model (say
    300 trees) holds the kernel's GIL for tens of milliseconds, so it is done only
    when someone asks for the model (``labeler.learner``, a card outside the ranking),
    not on every retrain.
    """

    def __init__(self, learner: Any = None, blob: bytes | None = None) -> None:
        self._learner, self._blob = learner, blob
        self._lock = threading.Lock()

    @classmethod
    def packed(cls, learner: Any) -> LazyLearner:
        """Pickle ``learner`` now (in the worker process)."""
        import pickle

        return cls(blob=pickle.dumps(learner, protocol=pickle.HIGHEST_PROTOCOL))

    def __getstate__(self) -> dict[str, Any]:
        return {"learner": self._learner, "blob": self._blob}  # a lock cannot be pickled

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__init__(state["learner"], state["blob"])  # type: ignore[misc]

    def get(self) -> Any:
        """The learner (unpickled once)."""
        with self._lock:
            if self._learner is None and self._blob is not None:
                import pickle

                self._learner, self._blob = pickle.loads(self._blob), None
            return self._learner


@dataclass(frozen=True)
class RankingSnapshot:
    """The result of a retrain: a model, the pool ranked by it, and how good it is."""

    version: int
    n_labels: int
    order: np.ndarray  # candidate positions, best first
    scores: np.ndarray  # utility per pool position (NaN where excluded / not scored)
    proba: np.ndarray | None  # (len(order), n_classes) in the session's class order
    model: LazyLearner | None = None  # the fitted learner (None: cold start, no model)
    metrics: dict[str, float] = field(default_factory=dict)
    metric_name: str = ""
    trained_at: float = 0.0  # time.time()
    seconds: float = 0.0
    strategy: str = ""
    error: str | None = None
    error_detail: str | None = None
    compare: dict[str, tuple[np.ndarray, float]] = field(default_factory=dict)
    random_baseline: tuple[float, float] | None = None  # (mean, std) at n_labels
    stop_predictions: np.ndarray | None = None  # predicted labels on the job's stop set
    also_positions: np.ndarray | None = None  # the job's ``also_predict``
    also_proba: np.ndarray | None = None  # their probabilities, session class order
    histogram: tuple[np.ndarray, np.ndarray] | None = None  # learner.score_histogram_
    candidate_rows: tuple[np.ndarray, Any] | None = None  # a Dask pool's candidates' rows
    preference: Any = None  # features.ModelPreference: the model against zero-shot (job.zero_shot)
    phase: Any = None  # the learner's description_phase_: who picks the next batches, why
    # what the histogram shows when the strategy's scores are no uncertainty (multi-label
    # ``random``): the model's mean-margin utility of every pool item
    utility: np.ndarray | None = None

    @property
    def fitted(self) -> bool:
        """Whether a model ranked this snapshot (``False``: cold start)."""
        return self.model is not None

    @property
    def learner(self) -> Any:
        """The fitted :class:`~alwidgets.ActiveLearner`, or ``None`` before the first fit."""
        return None if self.model is None else self.model.get()


def failed_snapshot(job: RetrainJob, err: BaseException, seconds: float = 0.0) -> RankingSnapshot:
    """The snapshot of a retrain that raised: no ranking, the error for the status line."""
    return RankingSnapshot(
        version=job.version,
        n_labels=len(job.positions),
        order=np.empty(0, dtype=np.int64),
        scores=np.empty(0),
        proba=None,
        trained_at=time.time(),
        seconds=seconds,
        strategy=strategy_name(job.strategy),
        error=f"{type(err).__name__}: {err}",
        error_detail="".join(traceback.format_exception(err)),
    )


def row_cache(X: Any) -> Any:
    """A :class:`~alwidgets.pools.RowCache` for a Dask array pool, else None."""
    from alwidgets.pools import RowCache, is_dask_array

    return RowCache(X) if is_dask_array(X) else None


def pool_rows(data: PoolData, positions: Any, *, keep: bool = False) -> Any:
    """Rows of the pool at ``positions``; a Dask pool's come from its :class:`RowCache`
    (fetched from the cluster only if not held; ``keep`` marks labeled rows)."""
    if data.rows is not None:
        return data.rows.take(positions, keep=keep)
    return take_rows(data.X, positions)


def proba_in_class_order(learner: Any, X: Any, classes: list[Any]) -> np.ndarray:
    """``predict_proba`` with one column per session class (0 for classes not seen yet;
    multi-label: the indicator's columns, which are the session's classes in order)."""
    proba = np.asarray(learner.predict_proba(X), dtype=np.float64)
    if getattr(learner, "multi_label_", False):
        return proba
    out = np.zeros((proba.shape[0], len(classes)))
    index = {c: i for i, c in enumerate(classes)}
    for j, c in enumerate(learner.classes_):
        k = index.get(plain(c))
        if k is not None:
            out[:, k] = proba[:, j]
    return out

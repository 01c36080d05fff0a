"""When to retrain, what a retrain is given, and what its result changes.

:class:`RetrainScheduler` holds the retrain bookkeeping of one labeler: the model
version counter, labels since the last job, the job under way (one at a time; labels
that arrive meanwhile mark it *dirty* so a follow-up job runs), the last error, the
raced strategies' labeled sets and the stopping signal's history. It builds the
immutable :class:`~alwidgets.app._jobs.RetrainJob` and digests each
:class:`~alwidgets.app._jobs.RankingSnapshot`. :class:`RetrainWiring` (a mixin of the
labeler) calls it under the labeler's lock, submits the job to the worker and swaps
the snapshot into the queue.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> s = RetrainScheduler(estimator=LogisticRegression(), strategy="margin", classes=[0, 1],
...                      n_items=50, batch_size=4, retrain_every=None, compare_with=[],
...                      seed=0, first_version=0)
>>> handled = np.zeros(50, dtype=bool); handled[:2] = True
>>> job, event = s.start({0: 0, 1: 1}, handled, current=[5, 6], force=True,
...                      trainable=True, ran_out=False)
>>> job.version, job.fit, job.exclude.tolist(), s.running
(1, True, [0, 1], True)
>>> s.start({0: 0, 1: 1}, handled, current=[5, 6], force=True, trainable=True,
...         ran_out=False)[0] is None  # one job at a time: this one is marked to follow
True
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from alwidgets.app._jobs import PoolData, RankingSnapshot, RetrainJob
from alwidgets.exceptions import InvalidInputError, StoreError

__all__ = ["RetrainScheduler", "RetrainWiring", "last_version"]

logger = logging.getLogger("alwidgets")

#: Size of the fixed sample on which successive models' predictions are compared.
STOP_SET_SIZE = 1000


class RetrainScheduler:
    """Retrain bookkeeping of one labeler (see the module docstring)."""

    def __init__(
        self,
        *,
        estimator: Any,
        strategy: Any,
        classes: list[Any],
        n_items: int,
        batch_size: int,
        retrain_every: int | None,
        compare_with: Sequence[str],
        seed: int,
        first_version: int,
        rng: np.random.Generator | None = None,
    ) -> None:
        self.estimator, self.strategy, self.classes = estimator, strategy, classes
        self.n_items, self.batch_size, self.retrain_every = n_items, batch_size, retrain_every
        self.compare_with, self.seed = list(compare_with), seed
        self.version = first_version  # of the last model started
        self.labels_since_job = 0
        self.job_labels: dict[int, Any] | None = None  # the labels of the last model fit
        self.job_event: threading.Event | None = None  # set once the job's result is applied
        self.dirty = False  # labels arrived while a job ran: run another after it
        self.last_error: str | None = None
        # raced strategies (teaching mode): the items each has labeled in its own loop
        self.compare_state: dict[str, np.ndarray] = {
            n: np.empty(0, dtype=np.int64) for n in self.compare_with if n != "random"
        }
        # a fixed sample on which successive models' predictions are compared
        # (stabilizing predictions, Bloodgood & Vijay-Shanker 2009)
        rng = np.random.default_rng(seed) if rng is None else rng
        size = min(n_items, STOP_SET_SIZE)
        self.stop_set = np.sort(rng.choice(n_items, size=size, replace=False))
        self.stop_history: list[np.ndarray] = []
        self.hint: str | None = None
        self._unlogged: tuple[int, int] | None = None  # (version, n_labels) not to log

    def resume(self, models: pd.DataFrame) -> None:
        """A resumed session: its first fit re-creates the model the session ended with;
        when it has as many labels as the store's last curve point, it adds no point."""
        if len(models) and "n_labels" in models.columns:
            self._unlogged = (self.version + 1, int(models["n_labels"].iloc[-1]))

    def should_log(self, snap: RankingSnapshot) -> bool:
        """Whether a fitted snapshot is a new learning-curve point."""
        return snap.fitted and (snap.version, snap.n_labels) != self._unlogged

    @property
    def running(self) -> bool:
        """A job is under way (its result not applied yet)."""
        return self.job_event is not None

    # ---- deciding ----
    def labeled(self, n: int = 1) -> bool:
        """Count ``n`` new labels (negative: undone); whether ``retrain_every`` is reached."""
        self.labels_since_job = max(0, self.labels_since_job + n)
        every = self.retrain_every
        return bool(every) and self.labels_since_job >= every  # type: ignore[operator]

    def after_batch(self, ran_out: bool) -> bool:
        """Whether a batch ending calls for a job (default cadence, or the ranking ran out)."""
        return (self.retrain_every is None and self.labels_since_job > 0) or ran_out

    def unchanged(self, labels: dict[int, Any]) -> bool:
        """The labels are those of the model in use (or under way): a refit adds nothing."""
        return self.last_error is None and self.job_labels is not None and self.job_labels == labels

    def start(
        self,
        labels: dict[int, Any],
        handled: np.ndarray,
        current: Sequence[int],
        *,
        force: bool,
        trainable: bool,
        ran_out: bool,
    ) -> tuple[RetrainJob | None, threading.Event | None]:
        """The job to run now and the event set once it is applied.

        ``(None, event)`` when a job is running (it is marked dirty and ``event`` is its
        event); ``(None, None)`` when nothing should run (manual mode, or no model
        possible yet and the cold-start ranking is not used up).
        """
        if self.job_event is not None:
            self.dirty = True
            return None, self.job_event
        if not force and self.retrain_every == 0:
            return None, None  # manual mode: only retrain() starts a job
        if not trainable and not force and not ran_out:
            return None, None
        job = self.make_job(trainable, labels, handled, current)
        if trainable:
            self.version += 1
            self.job_labels = dict(labels)
        self.labels_since_job = 0
        self.dirty = False
        self.job_event = threading.Event()
        return job, self.job_event

    def make_job(
        self, fit: bool, labels: dict[int, Any], handled: np.ndarray, current: Sequence[int]
    ) -> RetrainJob:
        """A fit-and-rank job (``fit=False``: a cold-start ranking, no model)."""
        positions = np.fromiter(labels, dtype=np.int64, count=len(labels))
        y = np.asarray([labels[p] for p in positions.tolist()])
        exclude = np.flatnonzero(handled)
        # a fitted model ranks many (its scores cover the whole pool anyway); the
        # cold-start selector clusters, so it is asked for a few batches only
        wanted = max(self.batch_size * 25, 200) if fit else self.batch_size * 4
        return RetrainJob(
            version=self.version + 1 if fit else 0,
            positions=positions,
            labels=y,
            exclude=exclude,
            estimator=self.estimator,
            strategy=self.strategy if fit else "cold_start",
            classes=self.classes,
            n_candidates=max(0, min(self.n_items - exclude.size, wanted)),
            random_state=self.seed,
            fit=fit,
            compare=dict(self.compare_state) if fit else {},
            batch_size=self.batch_size,
            random_seeds=3 if "random" in self.compare_with else 0,
            stop_set=self.stop_set if fit else None,
            also_predict=np.asarray(current, dtype=np.int64) if fit else None,
        )

    # ---- applying a result ----
    def model_metrics(self, snap: RankingSnapshot) -> dict[str, Any]:
        """The learning-curve point of a fitted snapshot (and the raced strategies' state)."""
        metrics: dict[str, Any] = dict(snap.metrics)
        metrics["fit_seconds"] = snap.seconds
        metrics["strategy"] = snap.strategy
        if snap.metric_name:
            metrics["metric"] = snap.metric_name
        if snap.random_baseline is not None:
            metrics["random_score"], metrics["random_score_std"] = snap.random_baseline
        for name, (positions, score) in snap.compare.items():
            self.compare_state[name] = positions
            metrics[f"{name}_score"] = score
        return metrics

    def finish(self, snap: RankingSnapshot, trainable: bool) -> bool:
        """Record a job's end; whether a follow-up job should run."""
        self.job_event = None
        if snap.error is not None:
            self.last_error = snap.error
            logger.error("alwidgets: retrain v%s failed: %s", snap.version, snap.error_detail)
        else:
            self.last_error = None
        again = self.dirty and (self.labels_since_job > 0 or not trainable)
        self.dirty = False
        return again and snap.error is None

    def update_hint(self, snap: RankingSnapshot, models: pd.DataFrame) -> None:
        """The stopping hint after a new model (advisory: never raises)."""
        if snap.stop_predictions is not None:
            self.stop_history = [*self.stop_history[-9:], snap.stop_predictions]
        try:
            from alwidgets.stopping import stopping_hint

            self.hint = stopping_hint(models, self.stop_history, score_column="score")
        except Exception:  # the hint is advisory: never let it break the app
            logger.debug("alwidgets: stopping hint failed", exc_info=True)


class RetrainWiring:
    """Starting jobs on the worker and applying their results to the queue and widgets.

    A mixin of :class:`~alwidgets.ActiveLabeler` (which provides the attributes below).
    """

    X: Any
    store: Any
    retrain_in: str
    compare_with: list[str]
    batch_widget: Any
    panels: Any
    _lock: Any
    _closed: bool
    _resuming: bool
    _fallback_shown: bool
    _data: PoolData
    _sched: RetrainScheduler
    _state: Any
    _queue: Any
    _worker: Any
    _ui: Any

    if TYPE_CHECKING:  # provided by AppView

        def _set_status(self) -> None: ...

        def _push_state(self) -> None: ...

        def _refresh_histogram(self) -> None: ...

        def _refresh_stats(self, force: bool = False) -> None: ...

    def _cold_start(self) -> RankingSnapshot:
        """A diverse first ranking, computed here (no model needed)."""
        job = self._sched.make_job(False, {}, self._state.handled, [])
        from alwidgets.app._fit import run_job

        snapshot = run_job(job, self._data)
        if snapshot.error:
            self._ui.shutdown()
            self.store.close()
            raise InvalidInputError(
                f"could not rank the pool for the first batch: {snapshot.error}. Check that "
                "X suits the estimator (e.g. raw text needs a Pipeline with a vectorizer)."
            )
        return snapshot

    def _request_job(self, force: bool = False) -> threading.Event | None:
        """Start a retrain (or a cold-start re-rank) unless one is running."""
        with self._lock:
            if self._closed:
                return None
            self._catch_up_versions()
            job, event = self._sched.start(
                self._state.labels, self._state.handled, self._queue.current.positions,
                force=force, trainable=self._state.trainable(), ran_out=self._queue.ran_out,
            )  # fmt: skip
            self._set_status()
            if job is not None and event is not None:
                self._worker.submit(job, event)  # may finish (and clear the event) at once
            return event

    def _catch_up_versions(self) -> None:
        """Number the next model after every model of the session, colleagues' included.

        Labelers of one team session each fit their own models; without this two of them
        would both log a "v6" and the team's learning curve would repeat versions.
        """
        if self._sched.running or not self._state.trainable():
            return
        try:
            logged = last_version(self.store.models)  # incremental: new rows only
        except StoreError:
            return  # unreachable: the next job catches up
        self._sched.version = max(self._sched.version, logged)

    def _on_snapshot(self, snap: RankingSnapshot) -> None:
        """Apply a finished retrain (runs in a background thread).

        Only the swap and the new prefetched batch happen under the app's lock (a key
        press waits for at most that); logging the curve point and redrawing the plots
        happen outside it.
        """
        if self._closed:
            self._sched.job_event = None
            return
        if snap.error is None and snap.fitted:
            metrics = self._sched.model_metrics(snap)
            if self._sched.should_log(snap):  # a durable curve point
                self.store.log_model(snap.version, snap.n_labels, **metrics)
        with self._lock:
            again = self._sched.finish(snap, self._state.trainable())
            if self._worker.fallback_reason and not self._fallback_shown:
                self._fallback_shown = True
                self.retrain_in = "thread"
                reason = self._worker.fallback_reason
                msg = f"retraining in a thread: the worker process failed ({reason})"
                self.batch_widget.notice(msg, "error")
            if snap.error is not None:
                self.batch_widget.notice(f"retrain failed: {snap.error}", "error")
            else:
                self._swap(snap)
            self._set_status()
        if snap.error is None:
            models = self.store.models  # read once for the hint and the curve
            self._sched.update_hint(snap, models)
            self._refresh_histogram()
            self.panels.draw_curve(models, self.compare_with)
        self._refresh_stats(force=True)
        if again:
            self._request_job()

    def _swap(self, snap: RankingSnapshot) -> None:
        """Use a new ranking (under the lock): the prefetched batch comes from it, and
        a resumed session's untouched cold-start batch is replaced too."""
        q = self._queue
        cold = not q.snapshot.fitted
        q.ran_out = False
        q.swap(snap)  # atomic: the next batch comes from the new ranking
        if self._resuming and snap.fitted:
            self._resuming = False
            if cold and not self._state.handled[q.current.positions].any():
                q.replace_current()
        q.update_suggestions(snap.also_positions, snap.also_proba)
        self._push_state()


def last_version(models: pd.DataFrame) -> int:
    """The highest model version a store has logged (0: none)."""
    versions = [v for v in models["version"] if isinstance(v, int | np.integer)]
    return int(max(versions)) if versions else 0

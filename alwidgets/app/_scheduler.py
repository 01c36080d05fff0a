"""When to retrain, what a retrain is given, and what its result changes.

:class:`RetrainScheduler` holds the retrain bookkeeping of one labeler: the model
version counter, labels since the last job, the job under way (one at a time; labels
that arrive meanwhile mark it *dirty* so a follow-up job runs), the last error, the
raced strategies' labeled sets, the stop set, and with class descriptions the hand-over
from zero-shot suggestions to the model's (:mod:`._descriptions`). It builds the
immutable :class:`~alwidgets.app._jobs.RetrainJob` and digests each
:class:`~alwidgets.app._jobs.RankingSnapshot`. The controller calls it under its lock
(the one owner of this state); the facade submits the jobs to the worker.

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
from typing import Any

import numpy as np
import pandas as pd

from alwidgets.app._jobs import RankingSnapshot, RetrainJob
from alwidgets.app._multilabel import indicator

__all__ = ["RetrainScheduler", "last_version"]

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
        descriptions: dict[Any, str] | None = None,
        zero_shot: Any = None,
        multi_label: bool = False,
    ) -> None:
        self.estimator, self.strategy, self.classes = estimator, strategy, classes
        self.multi_label = multi_label  # labels are sets: a job trains on an indicator
        self.n_items, self.batch_size, self.retrain_every = n_items, batch_size, retrain_every
        self.compare_with, self.seed = list(compare_with), seed
        self.version = first_version  # of the last model started
        self.labels_since_job = 0
        self.job_labels: dict[int, Any] | None = None  # the labels of the last model fit
        self.job_event: threading.Event | None = None  # set once the job's result is applied
        self.dirty = False  # labels arrived while a job ran: run another after it
        # retrain() was called while a job ran on other labels (a colleague's, followed
        # meanwhile, count too): the follow-up runs whatever the own-label count says
        self.requested = False
        self.last_error: str | None = None
        # applying the last result went wrong (e.g. its curve point could not be logged)
        self.apply_problem: str | None = None
        # raced strategies (teaching mode): the items each has labeled in its own loop
        self.compare_state: dict[str, np.ndarray] = {
            n: np.empty(0, dtype=np.int64) for n in self.compare_with if n != "random"
        }
        # a fixed sample on which successive models' predictions are compared
        # (stabilizing predictions, Bloodgood & Vijay-Shanker 2009)
        rng = np.random.default_rng(seed) if rng is None else rng
        size = min(n_items, STOP_SET_SIZE)
        self.stop_set = np.sort(rng.choice(n_items, size=size, replace=False))
        # class descriptions: the learner's, the first batch's strategy, and until the
        # model's suggestions beat zero-shot on the labels, what each job compares
        self.descriptions = descriptions
        self.cold_strategy: Any = "cold_start" if zero_shot is None else zero_shot.cold_start()
        self.zero_shot = zero_shot  # ZeroShotCards; None: no descriptions, or handed over
        self.preference: Any = None  # the last comparison (features.ModelPreference)
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
            self.requested = self.requested or force
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
        self.dirty = self.requested = False
        self.job_event = threading.Event()
        return job, self.job_event

    def make_job(
        self, fit: bool, labels: dict[int, Any], handled: np.ndarray, current: Sequence[int]
    ) -> RetrainJob:
        """A fit-and-rank job (``fit=False``: a cold-start ranking, no model)."""
        positions = np.fromiter(labels, dtype=np.int64, count=len(labels))
        given = [labels[p] for p in positions.tolist()]
        y = (  # an indicator whose columns name the classes (the learner's classes_)
            pd.DataFrame(indicator(given, self.classes), columns=self.classes)
            if self.multi_label
            else np.asarray(given)
        )
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
            strategy=self.strategy if fit else self.cold_strategy,
            classes=self.classes,
            n_candidates=max(0, min(self.n_items - exclude.size, wanted)),
            random_state=self.seed,
            fit=fit,
            compare=dict(self.compare_state) if fit else {},
            batch_size=self.batch_size,
            random_seeds=3 if "random" in self.compare_with else 0,
            stop_set=self.stop_set if fit else None,
            also_predict=np.asarray(current, dtype=np.int64) if fit else None,
            descriptions=self.descriptions,
            zero_shot=self.zero_shot.labels(positions) if fit and self.zero_shot else None,
        )

    # ---- applying a result ----
    def log_point(self, store: Any, snap: RankingSnapshot) -> tuple[str | None, Any]:
        """Log a fitted snapshot's learning-curve point and read the curve back: what went
        wrong (or ``None``) and the curve (``None``: not read). Store calls only, no lock
        needed: nothing of this object changes."""
        if snap.error is not None or not snap.fitted:
            return None, None
        metrics: dict[str, Any] = dict(snap.metrics)
        metrics["fit_seconds"] = snap.seconds
        metrics["strategy"] = snap.strategy
        if snap.metric_name:
            metrics["metric"] = snap.metric_name
        if snap.random_baseline is not None:
            metrics["random_score"], metrics["random_score_std"] = snap.random_baseline
        for name, (_, score) in snap.compare.items():
            metrics[f"{name}_score"] = score
        problem = None
        try:
            if self.should_log(snap):
                store.log_model(snap.version, snap.n_labels, **metrics)
        except Exception as err:  # the model is fine; only its record is missing
            logger.warning("alwidgets: logging model v%s failed: %s", snap.version, err)
            problem = f"model v{snap.version} is in use, but its curve point was not saved ({err})"
        try:
            return problem, store.models
        except Exception:  # the curve is drawn again after the next retrain
            return problem, None

    def finish(self, snap: RankingSnapshot, trainable: bool, problem: str | None = None) -> bool:
        """Record a job's end (``problem``: what went wrong applying it, for the status
        line); whether a follow-up job should run."""
        self.job_event = None
        self.apply_problem = problem
        for name, (positions, _) in snap.compare.items():  # the raced strategies' state
            self.compare_state[name] = positions
        if snap.preference is not None:  # the model's suggestions take over for good
            self.preference = snap.preference
            if snap.preference.use_model:
                self.zero_shot = None
        if snap.error is not None:
            self.last_error = snap.error
            logger.error("alwidgets: retrain v%s failed: %s", snap.version, snap.error_detail)
        else:
            self.last_error = None
        again = self.requested or (self.dirty and (self.labels_since_job > 0 or not trainable))
        self.dirty = False  # ``requested`` stays until the follow-up starts (``start``)
        return again and snap.error is None


def last_version(models: pd.DataFrame) -> int:
    """The highest model version a store has logged (0: none)."""
    versions = [v for v in models["version"] if isinstance(v, int | np.integer)]
    return int(max(versions)) if versions else 0

"""``ActiveLabeler``: the labeling app — the facade that wires pool, store, model and widgets.

Every action (``label``, ``skip``, ``unsure``, ``undo``, ``next_batch``) goes through
one code path whether it comes from a key press, a click or a Python call. The parts
(see ``docs/ARCHITECTURE.md``): :mod:`._actions` (the action path), :mod:`._session` (the store's
mirror, handled mask, undo stack), :mod:`._queue` (batches and cards), :mod:`._protocol` (front-end
messages), :mod:`._scheduler` (when to retrain), :mod:`._worker` (where fits run),
:mod:`._panels` (plots and stats), :mod:`._teaching` (oracle-driven demos),
:mod:`._review` (suspect labels as cards), :mod:`._team` (claims and the team's labels),
:mod:`._inputs` (argument checks).

Threads: key messages arrive on the kernel's main thread; retrain results are applied
from the worker's thread; the histogram is redrawn on a small UI thread; ``run()``
answers from its own thread; a background thread renews the claims and follows the
other annotators' labels. All queue and session state changes under one lock.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from alwidgets.app import _inputs as checks
from alwidgets.app._actions import ActionsMixin
from alwidgets.app._jobs import PoolData, RankingSnapshot, row_cache
from alwidgets.app._panels import AppView
from alwidgets.app._queue import BatchQueue
from alwidgets.app._review import ReviewMixin
from alwidgets.app._scheduler import RetrainScheduler, RetrainWiring, last_version
from alwidgets.app._session import SessionState
from alwidgets.app._teaching import TeachingMixin
from alwidgets.app._team import TeamRouting, TeamWiring, team_stats
from alwidgets.app._unsaved import UnsavedWiring
from alwidgets.app._worker import RetrainWorker, at_exit

__all__ = ["ActiveLabeler"]

logger = logging.getLogger("alwidgets")

#: A resumed session waits this long (s) for a model on the stored labels before its
#: first batch; a slower fit is swapped in when ready (see the class docstring).
RESUME_WAIT_S = 2.0


class ActiveLabeler(
    ActionsMixin, RetrainWiring, TeamWiring, UnsavedWiring, AppView, TeachingMixin, ReviewMixin
):
    """Label the items a model needs, in a notebook, with the model retraining behind you.

    Parameters
    ----------
    X : array-like, scipy.sparse matrix or DataFrame of shape (n_items, n_features)
        What the model sees. A DataFrame's index gives the item ids (else ``range(n)``).
        A Dask array or Dask DataFrame (numeric columns) keeps the pool on its cluster
        (``alwidgets.pools``): queries run blockwise there, only labeled rows, the
        candidates' rows and the cards' items come to the kernel, and retrains run in a
        thread. A lost cluster shows as a failed retrain; labels and the ranking in use
        stay, and the next retrain works once the cluster (and its Client) is back.
    classes : sequence of int or str
        The labels. Each gets a key: the label itself when it is a single character
        (digits ``0``–``9``, letters), else ``1``…``9``, ``0``, then letters.
    estimator : classifier with ``predict_proba``, optional
        Defaults to ``LogisticRegression(max_iter=1000)``.
    items : sequence, array or DataFrame, optional
        What the person sees, one per row of ``X`` (images, texts, file paths, rows);
        defaults to the rows of ``X``. For a Dask pool: a Dask DataFrame or Series
        (column) or a function ``item_id -> item``; only the items of cards on screen
        are fetched.
    display : str or callable, default "auto"
        How an item is drawn on its card: a kind of :func:`alwidgets.display.render`
        (``"image"``, ``"image_file"``, ``"text"``, ``"row"``, ``"html"``) or a
        function ``item -> html``.
    store : str, path or SessionStore, optional
        Where labels are kept. Reopening the same file resumes the session (labels,
        undo history, learning curve). The constructor waits up to ``RESUME_WAIT_S``
        (2 s) for a model fit on the stored labels, so the first batch comes from it;
        a slower fit shows a cold-start batch first, and that batch (while none of it
        is answered) and the prefetched one are replaced by the model's picks as soon
        as it is ready. That fit adds no learning-curve point when it has as many
        labels as the stored curve's last one. ``None`` keeps labels in a temporary
        file.
    batch_size : int, default 8
        Cards per batch.
    strategy : str or callable, default "margin"
        Query strategy (see :func:`alwidgets.strategies.available_strategies`).
    eval_set : tuple (X_test, y_test), optional
        Held-out data for the learning curve; without it the curve is cross-validated
        on the labeled items (3 folds, once every class has 3 labels).
    oracle : array-like or callable, optional
        True labels (aligned with the pool, or ``item_id -> label``) for teaching
        mode: :meth:`step` and :meth:`run` answer with it, and the learning curve
        shows the random-sampling expectation.
    oracle_noise : float, default 0
        With an oracle, the share of its answers that are wrong on purpose (a random
        other class), to show :meth:`review` at work; the ids it got wrong are in
        :attr:`oracle_mistakes`.
    compare_with : sequence of str, optional
        With an oracle, other strategies to race on the same plot (each runs its own
        loop in the background). Defaults to ``["random"]`` when an oracle is given.
    retrain_every : int, optional
        Retrain after this many new labels; default: after every batch. ``0``: only
        when :meth:`retrain` is called.
    retrain_in : {"auto", "thread", "process"}, default "auto"
        Where fits run. A worker process (started once; the pool is sent to it once)
        keeps any model from slowing the key handling; a thread suffices only when the
        model's fit and scoring release the GIL (numpy/BLAS/Cython). ``"auto"`` picks a
        process in notebooks and a thread when a process cannot work (estimator defined
        in the notebook, or a script); see :func:`alwidgets.app._worker.choose_mode`. If a
        process fails (e.g. cannot unpickle the estimator), fits fall back to a thread.
    annotator : str, optional
        Name recorded with each action (default: ``JUPYTERHUB_USER`` when set, else the
        login name).
    session : str, optional
        With a ``postgresql://`` store: the session's name on the server (several
        sessions per database).
    overlap : int, default 1
        Team routing: how many different annotators label each item. Every batch is
        claimed in the store when it is built (the prefetched one too) with a lease of
        ``lease_seconds``, renewed while the labeler is open and released on
        :meth:`close`; items labeled or claimed by colleagues are skipped, and every
        labeler trains on the team's labels. With ``overlap=2`` each item gets two
        labels from two different annotators (the stats show κ on them).
    lease_seconds : float, default 300
        How long a claim lasts without renewal (a crashed kernel's items come back
        after it).
    random_state : int, Generator or None
        Seed for the strategy, cold start and tie breaking.

    Examples
    --------
    >>> import numpy as np, tempfile, os
    >>> from sklearn.datasets import load_iris
    >>> X, y = load_iris(return_X_y=True)
    >>> path = os.path.join(tempfile.mkdtemp(), "iris.alw")
    >>> labeler = ActiveLabeler(X, classes=[0, 1, 2], store=path, batch_size=4,
    ...                         random_state=0)
    >>> for item_id in labeler.batch:
    ...     labeler.label(item_id, int(y[item_id]))
    >>> len(labeler.labels), len(labeler.batch)
    (4, 4)
    >>> labeler.undo()["item_id"] in labeler.batch
    True
    >>> labeler.close()
    """

    def __init__(
        self,
        X: Any,
        classes: Sequence[Any],
        estimator: Any = None,
        *,
        items: Any = None,
        display: str | Callable[..., Any] = "auto",
        store: Any = None,
        batch_size: int = 8,
        strategy: Any = "margin",
        eval_set: tuple[Any, Any] | None = None,
        oracle: Any = None,
        compare_with: Sequence[str] | None = None,
        oracle_noise: float = 0.0,
        retrain_every: int | None = None,
        retrain_in: str = "auto",
        annotator: str | None = None,
        random_state: Any = None,
        session: str | None = None,
        overlap: int = 1,
        lease_seconds: float = 300.0,
    ) -> None:
        self.oracle_noise = checks.check_oracle_noise(oracle_noise, oracle)
        # every argument is checked before the store is opened
        inp = checks.check_inputs(
            X, classes, estimator, items=items, display=display, batch_size=batch_size,
            strategy=strategy, eval_set=eval_set, oracle=oracle, compare_with=compare_with,
            retrain_every=retrain_every, retrain_in=retrain_in, random_state=random_state,
        )  # fmt: skip
        self.classes, self.estimator, self.X, self.ids = inp.classes, inp.estimator, inp.X, inp.ids
        self.items, self.display, self.batch_size = inp.items, inp.display, inp.batch_size
        self.strategy, self.oracle, self.compare_with = inp.strategy, inp.oracle, inp.compare_with
        self.retrain_every, self.retrain_in = inp.retrain_every, inp.retrain_in
        self.overlap, self.lease_seconds = checks.check_team(overlap, lease_seconds)
        self.annotator = checks.default_annotator() if annotator is None else annotator
        self.n_items = len(self.ids)
        self._data = PoolData(self.X, inp.X_eval, inp.y_eval, self.oracle, rows=row_cache(self.X))
        self.store = checks.open_store(
            store, self.classes, self.annotator, quiet=self.oracle is not None, session=session
        )
        self._lock = threading.RLock()
        self._state = SessionState(
            self.store, self.ids, self.classes, annotator=self.annotator,
            mine_only=self.overlap > 1,
        )  # fmt: skip
        self._team = TeamRouting(
            self.store, self.ids, annotator=self.annotator, overlap=self.overlap,
            lease_seconds=self.lease_seconds,
        )  # fmt: skip
        rng = np.random.default_rng(inp.seed)
        self._review_seed, self._noise_rng = inp.seed, np.random.default_rng([inp.seed, 1])
        self.oracle_mistakes: list[Any] = []  # ids the noisy oracle answered wrong
        self._sched = RetrainScheduler(
            estimator=self.estimator, strategy=self.strategy, classes=self.classes,
            n_items=self.n_items, batch_size=self.batch_size, retrain_every=self.retrain_every,
            compare_with=self.compare_with, seed=inp.seed, rng=rng,
            first_version=last_version(self.store.models),
        )  # fmt: skip
        # (time, seconds spent) per answer from the browser (programmatic and oracle
        # answers have no human pace); a resumed session's pace so far
        self._answer_log: list[tuple[float, float | None]] = []
        self._stats_base, self._last_stats = self.store.stats(), 0.0
        self._team_stats: dict[str, Any] = team_stats(self.store)
        self._ui = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alwidgets-ui")
        self._ui_pending = self._closed = self._fallback_shown = False
        self._runner: threading.Thread | None = None
        self._stop_run = threading.Event()
        self._worker = RetrainWorker(self._data, self._on_snapshot, mode=self.retrain_in)
        self._queue = BatchQueue(
            ids=self.ids, items=self.items, display=self.display, classes=self.classes,
            batch_size=self.batch_size, rng=rng, snapshot=self._cold_start(),
            # a Dask pool: no cluster access on the key path (a card outside the ranking
            # gets no fresh guess rather than waiting on the cluster)
            X=None if self._data.rows is not None else self.X,
            handled=self._state.handled,
            claim=self._team.claim,
        )  # fmt: skip
        self._worker.warm_up()  # a worker process starts while the first batch is labeled
        at_exit(self)  # an unclosed labeler stops its background work quietly at exit
        self._build_widgets("accuracy (eval set)" if inp.X_eval is not None else "accuracy (CV)")
        self._resuming = self._state.trainable()
        self._push_state()
        self.panels.draw_curve(self.store.models, self.compare_with)
        self._refresh_stats(force=True)
        if self._resuming:  # rank with a model on the stored labels, if it is quick
            self._sched.resume(self.store.models)
            event = self._request_job()
            if event is not None:
                event.wait(RESUME_WAIT_S)
        self._team.start(self._team_tick)
        self._set_status()

    def _pos(self, item_id: Any) -> int:
        return self._state.pos(item_id)

    # ------------------------------------------------------------------ public API
    def label(self, item_id: Any, label: Any) -> None:
        """Label an item (durable when this returns), like a key press on its card.

        Raises
        ------
        UnknownLabelError
            ``label`` is not one of :attr:`classes`.
        InvalidInputError
            ``item_id`` is not in the pool.
        """
        label = checks.check_label(label, self.classes)
        self._act(self._pos(item_id), "label", label)

    def skip(self, item_id: Any) -> None:
        """Skip an item: it is not labeled and not queried again (undo brings it back)."""
        self._act(self._pos(item_id), "skip")

    def unsure(self, item_id: Any) -> None:
        """Mark an item as unsure: recorded for review, not used for training."""
        self._act(self._pos(item_id), "unsure")

    def undo(self) -> dict[str, Any] | None:
        """Undo this annotator's last action; returns the undone event (``None``: nothing).

        An item from an earlier batch comes back at the front of the current batch.
        """
        return self._undo()

    def sync(self) -> None:
        """Take in the team's new labels now, and renew this labeler's claims.

        A background thread does this every third of ``lease_seconds``; call it to see
        colleagues' answers at once (e.g. before :meth:`retrain`).
        """
        self._team_tick()

    def next_batch(self) -> list[Any]:
        """Move on to the prefetched batch (unanswered cards go back to the pool)."""
        self._advance()
        return self.batch

    def retrain(
        self, wait: bool = False, timeout: float | None = None, force: bool = False
    ) -> None:
        """Retrain on all current labels in the background (``wait=True``: block until done).

        With ``wait=True`` the new ranking, learning-curve point and plots are in place
        when this returns, which makes notebooks and tests deterministic. Errors of the
        model do not raise here: they are logged, shown in the status line and kept in
        :attr:`last_error`, and the previous model stays in use.

        When the labels are exactly those of the model in use (or of the retrain under
        way), nothing is refit and no learning-curve point is added: the same labels
        would only log a duplicate point. ``force=True`` refits anyway.
        """
        with self._lock:
            unchanged = not force and self._sched.unchanged(self._state.labels)
            event = self._sched.job_event if unchanged else None
        if not unchanged:
            event = self._request_job(force=True)
        if not wait or event is None:
            return
        deadline = None if timeout is None else time.monotonic() + timeout
        while event is not None:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not event.wait(left):
                raise TimeoutError(f"retrain did not finish within {timeout} s")
            with self._lock:  # labels arrived meanwhile: a follow-up job may be running
                event = self._sched.job_event if self._sched.job_event is not event else None

    @property
    def batch(self) -> list[Any]:
        """Ids of the current batch's cards, in order."""
        with self._lock:
            return [self.ids[p] for p in self._queue.current.positions]

    @property
    def labels(self) -> pd.DataFrame:
        """Current labels (index ``item_id``; columns ``label``, ``annotator``, ``time``)."""
        return self.store.labels

    @property
    def learning_curve(self) -> pd.DataFrame:
        """One row per trained model: ``version``, ``n_labels``, ``score``, … (from the store)."""
        return self.store.models

    @property
    def snapshot(self) -> RankingSnapshot:
        """The ranking in use (model version, fitted learner, order, scores)."""
        return self._queue.snapshot

    @property
    def learner(self) -> Any:
        """The fitted :class:`~alwidgets.ActiveLearner` in use (``None`` before the first fit)."""
        return self.snapshot.learner

    @property
    def model_version(self) -> int:
        """Version of the model that ranks the queue (0: cold start, no model yet)."""
        snap = self.snapshot
        return snap.version if snap.fitted else 0

    @property
    def last_error(self) -> str | None:
        """The last retrain error (``None`` after a successful retrain)."""
        return self._sched.last_error

    def close(self) -> None:
        """Stop the teaching loop and the workers, and close the store."""
        self.stop()
        self._closed = True
        self._close_unsaved()
        self._team.close()
        self._worker.shutdown()
        self._ui.shutdown(wait=True)
        self.store.close()

    def _close_at_exit(self) -> None:
        """Interpreter exit without :meth:`close`: stop background work, quietly."""
        self._closed = True
        self._stop_run.set()
        if self._retry_stop is not None:  # unsaved answers: nobody is left to see them
            self._retry_stop.set()
        self._team.close()
        self._worker.shutdown()
        self._ui.shutdown(wait=False, cancel_futures=True)

    def __enter__(self) -> ActiveLabeler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"ActiveLabeler({self.n_items} items, {len(self.classes)} classes, "
            f"{self._state.n_labeled} labeled, model v{self.model_version}, "
            f"store={self.store.location!r})"
        )

"""``ActiveLabeler``: the labeling app's facade — it builds the parts, starts and stops
every thread, forwards each call to the core and each change to the view.

Every action (``label``, ``skip``, ``unsure``, ``undo``, ``next_batch``) goes through
one code path whether it comes from a key press, a click or a Python call:
:class:`~alwidgets.app._controller.LabelingController` (headless; events in, a
:class:`~alwidgets.app._changes.Changes` record out), then
:meth:`~alwidgets.app._view.AppView.render` (the only writer of widget state), then
the effects (a retrain job for :class:`~alwidgets.app._worker.RetrainWorker`,
background work for the :class:`~alwidgets.app._companion.Companion`).

Threads (the table is in ``docs/ARCHITECTURE.md``): the kernel's (key messages and
Python calls), the retrain worker's (a thread, or a process and its result thread),
the session companion (plots, the team, unsaved retries) and ``run()``'s teaching
loop. This class starts and stops each of them.
"""

from __future__ import annotations

import threading
import time
import warnings
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from alwidgets._check_args import check_team
from alwidgets._check_classes import check_label, check_oracle_noise
from alwidgets.app import _inputs as checks
from alwidgets.app._build import build_controller
from alwidgets.app._changes import Answer, Changes, UndoRequest
from alwidgets.app._companion import Companion
from alwidgets.app._jobs import PoolData, RankingSnapshot, row_cache
from alwidgets.app._protocol import MessageProtocol
from alwidgets.app._teaching import Oracle, needs_oracle, run_batches
from alwidgets.app._view import AppView
from alwidgets.app._worker import RetrainWorker, at_exit
from alwidgets.store import default_annotator

__all__ = ["ActiveLabeler"]


#: A resumed session waits this long (s) for a model on the stored labels before its
#: first batch; a slower fit is swapped in when ready (see the class docstring).
RESUME_WAIT_S = 2.0


class ActiveLabeler:
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
        The argument is kept as given; :attr:`retrain_mode` says where fits run now.
    annotator : str, optional
        Name recorded with each action (default: ``JUPYTERHUB_USER`` when set, else the
        login name).
    session : str, optional
        With a ``postgresql://`` store: the session's name on the server (several
        sessions per database).
    overlap : int, default 1
        Team routing: how many different annotators label each item. In a team (a
        server store, ``overlap > 1``, or other annotators in the store) every batch
        is claimed when it is built (the prefetched one too) with a lease of
        ``lease_seconds``, renewed in the background and released on :meth:`close`;
        items labeled or claimed by colleagues are skipped, and every labeler trains
        on the team's labels. The store checks where answers are written: a label on
        an item that ``overlap`` colleagues labeled first is kept as a conflict, not
        a label (the card says who was first; :meth:`label` warns). With
        ``overlap=2`` each item gets two labels from two different annotators (the
        stats show κ on them). A lone labeler on a file claims nothing.
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
        self.oracle_noise = check_oracle_noise(oracle_noise, oracle)
        inp = checks.check_inputs(  # every argument is checked before the store is opened
            X, classes, estimator, items=items, display=display, batch_size=batch_size,
            strategy=strategy, eval_set=eval_set, oracle=oracle, compare_with=compare_with,
            retrain_every=retrain_every, retrain_in=retrain_in, random_state=random_state,
        )  # fmt: skip
        self.classes, self.estimator, self.X, self.ids = inp.classes, inp.estimator, inp.X, inp.ids
        self.items, self.display, self.batch_size = inp.items, inp.display, inp.batch_size
        self.strategy, self.oracle, self.compare_with = inp.strategy, inp.oracle, inp.compare_with
        self.retrain_every, self.retrain_in = inp.retrain_every, retrain_in
        self.overlap, self.lease_seconds = check_team(overlap, lease_seconds)
        self.annotator = default_annotator() if annotator is None else annotator
        self.n_items = len(self.ids)
        self._data = PoolData(self.X, inp.X_eval, inp.y_eval, self.oracle, rows=row_cache(self.X))
        self.store = checks.open_store(
            store, self.classes, self.annotator, quiet=self.oracle is not None, session=session
        )
        self._ctl = build_controller(
            inp, self.store, self._data, annotator=self.annotator, overlap=self.overlap,
            lease_seconds=self.lease_seconds,
        )  # fmt: skip
        self._oracle = None
        if inp.oracle is not None:
            rng = np.random.default_rng([inp.seed, 1])
            self._oracle = Oracle(
                inp.oracle, classes=self.classes, noise=self.oracle_noise, rng=rng
            )
        protocol = MessageProtocol(
            self._ctl, classes=self.classes, n_items=self.n_items,
            deliver=lambda changes: self._deliver(changes, key_path=True),
        )  # fmt: skip
        self._view = AppView(
            classes=self.classes, strategy=str(self.strategy), n_items=self.n_items,
            metric="accuracy (eval set)" if inp.X_eval is not None else "accuracy (CV)",
            compare_with=self.compare_with, on_message=protocol, on_review=self._review_from_ui,
        )  # fmt: skip
        self.batch_widget, self.widget = self._view.batch_widget, self._view.widget
        self.review_button = self._view.review_button
        self._worker = RetrainWorker(self._data, self._on_snapshot, mode=inp.retrain_in)
        self._companion = Companion(
            team_tick=lambda: self._deliver(self._ctl.team_tick()),
            retry=lambda: bool(self._deliver(self._ctl.retry_unsaved()).result),
            every=min(5.0, max(0.5, self.lease_seconds / 3.0)),
        )  # fmt: skip
        self._companion_thread = threading.Thread(
            target=self._companion.run, name="alwidgets-session", daemon=True
        )
        self._companion_thread.start()
        self._runner: threading.Thread | None = None
        self._stop_run = threading.Event()
        self._worker.warm_up()  # a worker process starts while the first batch is labeled
        at_exit(self)  # an unclosed labeler stops its background work quietly at exit
        event = self._deliver(self._ctl.open(self.store.models)).result
        if event is not None:  # a resumed session: rank with a model on its labels if quick
            event.wait(RESUME_WAIT_S)

    # ------------------------------------------------------------------ the way through
    def _deliver(self, changes: Changes, *, key_path: bool = False) -> Changes:
        """Show ``changes`` and carry out its effects (from any thread)."""
        if key_path:  # plots are redrawn off the key path
            changes, plots = changes.without_plots()
            if plots is not None:
                self._companion.defer("plots", lambda: self._view.render(plots))
        self._view.render(changes)
        if changes.retrain is not None:
            self._worker.submit(*changes.retrain)  # may finish (and apply) at once
        for what in changes.wants:
            self._companion.want(what)
        return changes

    def _call(self, changes: Changes) -> Any:
        """A Python call's changes: shown, then its warning, error or result."""
        self._deliver(changes, key_path=True)
        if changes.warning is not None:
            warnings.warn(changes.warning, stacklevel=3)
        if changes.error is not None:
            raise changes.error
        return changes.result

    def _on_snapshot(self, snap: RankingSnapshot) -> None:
        """A finished retrain (the worker's thread): the owner of the pool's row cache
        keeps the candidates' rows; the core applies it."""
        if snap.candidate_rows is not None and self._data.rows is not None:
            self._data.rows.remember(*snap.candidate_rows)
        self._deliver(self._ctl.apply(snap, fallback=self._worker.fallback_news()))

    def _pos(self, item_id: Any) -> int:
        return self._ctl.mirror.pos(item_id)

    # ------------------------------------------------------------------ public API
    def label(self, item_id: Any, label: Any) -> None:
        """Label an item (durable when this returns), like a key press on its card.

        Raises
        ------
        UnknownLabelError
            ``label`` is not one of :attr:`classes`.
        InvalidInputError
            ``item_id`` is not in the pool.

        Warns
        -----
        LabelConflictWarning
            Enough colleagues labeled the item first: kept as a conflict, not a label.
        """
        label = check_label(label, self.classes)
        self._call(self._ctl.answer(Answer(self._pos(item_id), "label", label)))

    def skip(self, item_id: Any) -> None:
        """Skip an item: it is not labeled and not queried again (undo brings it back)."""
        self._call(self._ctl.answer(Answer(self._pos(item_id), "skip")))

    def unsure(self, item_id: Any) -> None:
        """Mark an item as unsure: recorded for review, not used for training."""
        self._call(self._ctl.answer(Answer(self._pos(item_id), "unsure")))

    def undo(self) -> dict[str, Any] | None:
        """Undo this annotator's last action; returns the undone event (``None``: nothing).

        An item from an earlier batch comes back at the front of the current batch.
        """
        return self._call(self._ctl.undo(UndoRequest()))

    def sync(self) -> None:
        """Take in the team's new labels now, and renew this labeler's claims (a
        background thread does it every few seconds in a team)."""
        self._deliver(self._ctl.team_tick(sync=True))

    def next_batch(self) -> list[Any]:
        """Move on to the prefetched batch (unanswered cards go back to the pool)."""
        self._call(self._ctl.advance())
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
        event = self._call(self._ctl.retrain(force))
        deadline = None if timeout is None else time.monotonic() + timeout
        while wait and event is not None:
            left = None if deadline is None else max(0.0, deadline - time.monotonic())
            if not event.wait(left):
                raise TimeoutError(f"retrain did not finish within {timeout} s")
            later = self._ctl.job_event()  # labels arrived meanwhile: a follow-up job
            event = later if later is not event else None

    def review(self, n: int | None = None) -> pd.DataFrame:
        """Show the most suspect labeled items as cards, to keep or change their labels.

        Parameters
        ----------
        n : int, optional
            How many to review; default: every labeled item whose out-of-fold guess
            differs from its label.

        Returns
        -------
        pandas.DataFrame
            The suspects in review order (index: item ids; columns ``label``,
            ``guess``, ``score``, ``p_label``, ``p_guess``). Empty: nothing to review,
            the cards stay as they were.
        """
        frame = self._call(self._ctl.start_review(n)).copy()
        frame.index = pd.Index([self.ids[int(p)] for p in frame.index], name="item_id")
        return frame

    def _error(self, text: str) -> None:
        self._view.render(Changes(notices=[(text, "error")]))

    def _review_from_ui(self) -> None:
        self._deliver(self._ctl.start_review(None, from_widget=True))

    # ---- teaching mode (``oracle=``) ----
    def step(self) -> list[Any]:
        """Answer the current batch with the oracle (the same path as clicks) and retrain.

        Returns the ids that were labeled. Needs ``oracle=``.
        """
        oracle = needs_oracle(self._oracle, "step")
        done = self.batch
        for item_id in done:
            self.label(item_id, oracle.answer(self._pos(item_id), item_id=item_id))
        self.retrain(wait=True)
        return done

    def run(self, n_batches: int | None = None, delay: float = 0.5, wait: bool = False) -> None:
        """Let the loop run on its own with the oracle, one batch every ``delay`` seconds.

        Runs in a background thread so the notebook stays responsive (``wait=True``
        blocks until it ends); :meth:`stop` ends it. ``n_batches=None`` runs until the
        pool is exhausted.
        """
        needs_oracle(self._oracle, "run")
        self.stop()
        self._stop_run.clear()
        self._runner = threading.Thread(
            target=run_batches, args=(self, n_batches, delay, self._stop_run, self._error),
            name="alwidgets-run", daemon=True,
        )  # fmt: skip
        self._runner.start()
        if wait:
            self._runner.join()

    def stop(self) -> None:
        """Stop a running :meth:`run` loop (after its current step)."""
        self._stop_run.set()
        if self._runner is not None and self._runner is not threading.current_thread():
            self._runner.join()
        self._runner = None

    # ---- what is shown ----
    @property
    def batch(self) -> list[Any]:
        """Ids of the current batch's cards, in order."""
        return self._ctl.read(lambda c: [self.ids[p] for p in c.queue.current.positions])

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
        return self._ctl.read(lambda c: c.queue.snapshot)

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
        return self._ctl.read(lambda c: c.sched.last_error)

    @property
    def retrain_mode(self) -> str:
        """Where fits run now: ``"thread"`` or ``"process"`` (``retrain_in="auto"``
        resolved; ``"thread"`` after a worker process failed)."""
        return self._worker.mode

    @property
    def review_progress(self) -> dict[str, int] | None:
        """The current review's ``total``, ``done``, ``kept``, ``changed``, ``unsure``."""
        return self._ctl.read(
            lambda c: None if c.queue.review is None else c.queue.review.progress()
        )

    @property
    def oracle_mistakes(self) -> list[Any]:
        """Ids the noisy oracle (``oracle_noise``) answered wrong on purpose."""
        return [] if self._oracle is None else self._oracle.mistakes

    @property
    def learning_curve_plot(self) -> Any:
        """The :class:`~alwidgets.widgets.LearningCurve` shown under the cards."""
        return self._view.curve

    @property
    def histogram(self) -> Any:
        """The :class:`~alwidgets.widgets.UncertaintyHistogram` of the unlabeled pool."""
        return self._view.histogram

    @property
    def stats(self) -> Any:
        """The :class:`~alwidgets.widgets.SessionStats` panel."""
        return self._view.stats

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    # ------------------------------------------------------------------ closing
    @property
    def _closed(self) -> bool:
        return self._ctl.read(lambda c: c.closed)

    def close(self) -> None:
        """Stop the teaching loop and the workers, save what is unsaved, close the store."""
        self.stop()
        self._companion.stop()
        self._companion_thread.join(timeout=15)
        lost = self._ctl.unsaved_items()
        if lost:
            warnings.warn(f"closing with {len(lost)} answer(s) not saved yet (the store was "
                          "unreachable); trying once more.", RuntimeWarning, stacklevel=2)  # fmt: skip
            self._view.render(self._ctl.retry_unsaved(closing=True))
            lost = self._ctl.unsaved_items()
        if lost:
            warnings.warn(f"{len(lost)} answer(s) could not be saved and are lost: items "
                          f"{lost!r}. Label them again when the store is back.", RuntimeWarning,
                          stacklevel=2)  # fmt: skip
        self._ctl.close()
        self._worker.shutdown()
        self.store.close()

    def _close_at_exit(self) -> None:
        """Interpreter exit without :meth:`close`: stop background work, quietly."""
        self._stop_run.set()
        self._companion.stop()
        self._ctl.close()
        self._worker.shutdown()

    def __enter__(self) -> ActiveLabeler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        n = self._ctl.read(lambda c: c.mirror.n_labeled)
        return (
            f"ActiveLabeler({self.n_items} items, {len(self.classes)} classes, {n} labeled, "
            f"model v{self.model_version}, store={self.store.location!r})"
        )

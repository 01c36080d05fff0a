"""``ActiveLabeler``: the facade. It checks the arguments, builds the parts, starts and
stops every thread and process, passes each call to the headless core
(:class:`~alwidgets.app._controller.LabelingController`) and each ``Changes`` it returns
to the view (:meth:`~alwidgets.app._view.AppView.render`) and to the worker or companion.
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
from alwidgets._check_classes import check_oracle_noise
from alwidgets.app import _heap
from alwidgets.app import _inputs as checks
from alwidgets.app._build import build_controller
from alwidgets.app._changes import Answer, Changes, UndoRequest
from alwidgets.app._companion import Companion
from alwidgets.app._jobs import PoolData, RankingSnapshot, row_cache
from alwidgets.app._multilabel import check_answer
from alwidgets.app._protocol import MessageProtocol
from alwidgets.app._signals import stable_curve
from alwidgets.app._teaching import Oracle, needs_oracle, start_run, teach_step
from alwidgets.app._unsaved import save_before_close
from alwidgets.app._view import AppView
from alwidgets.app._worker import RetrainWorker, at_exit
from alwidgets.store import default_annotator

__all__ = ["ActiveLabeler"]


#: A resumed session waits this long (s) for a model on its labels before the first batch.
RESUME_WAIT_S = 2.0


class ActiveLabeler:
    """Label the items a model needs, in a notebook, with the model retraining behind you.

    Parameters
    ----------
    X : array-like, scipy.sparse matrix or DataFrame of shape (n_items, n_features)
        What the model sees. A DataFrame's index gives the item ids (else ``range(n)``).
        A Dask array or DataFrame keeps the pool on its cluster (``alwidgets.pools``):
        only labeled rows, candidates' rows and the cards' items come to the kernel;
        retrains run in a thread, and a lost cluster shows as a failed retrain.
    classes : sequence of int or str, or dict {class: description}
        The labels. Each gets a key: the label itself when it is a single character
        (digits ``0``–``9``, letters), else ``1``…``9``, ``0``, then letters. A dict says
        what each class means (raw texts, a ``TextFeatures`` Pipeline): zero-shot cards,
        the first batches, a prior for the model (``docs/guide/descriptions.md``).
    estimator : classifier with ``predict_proba``, optional
        Defaults to ``LogisticRegression(max_iter=1000)``.
    items : sequence, array or DataFrame, optional
        What the person sees, one per row of ``X`` (images, texts, file paths, rows;
        default: the rows of ``X``); for a Dask pool also a function ``item_id -> item``.
    display : str or callable, default "auto"
        How an item is drawn on its card: a kind of :func:`alwidgets.display.render`
        or a function ``item -> html``.
    store : str, path or SessionStore, optional
        Where labels are kept (a file, or a ``postgresql://`` URL; ``None``: a temporary
        file). Reopening it resumes the session; the constructor waits up to 2 s for a
        model on the stored labels, a slower one replaces the untouched cold-start cards.
    batch_size : int, default 8
        Cards per batch.
    strategy : str or callable, default "auto"
        Query strategy (:func:`alwidgets.strategies.available_strategies`); ``"auto"``
        is ``margin``, and ``mmu`` for multi-label (the status says so).
    eval_set : tuple (X_test, y_test), optional
        Held-out data for the learning curve; without it the curve is cross-validated
        on the labeled items (3 folds, once every class has 3 labels).
    oracle : array-like or callable, optional
        True labels (pool-aligned, or ``item_id -> label``): :meth:`step`, :meth:`run` use them.
    oracle_noise : float, default 0
        The share of the oracle's answers that are wrong on purpose (listed in
        :attr:`oracle_mistakes`), to show :meth:`review` at work.
    compare_with : sequence of str, optional
        With an oracle, other strategies raced on the same plot (default ``["random"]``).
    retrain_every : int, optional
        Retrain after this many new labels; default: after every batch. ``0``: only
        when :meth:`retrain` is called.
    retrain_in : {"auto", "thread", "process"}, default "auto"
        Where fits run. ``"auto"``: a worker process in notebooks (no model slows the
        keys), a thread where a process cannot work (an estimator defined in the
        notebook, a script) or failed; :attr:`retrain_mode` says where fits run now.
    annotator : str, optional
        Name recorded with each action (default: ``JUPYTERHUB_USER``, else the login).
    session : str, optional
        With a ``postgresql://`` store: the session's name on the server.
    overlap : int, default 1
        How many different annotators label each item. In a team each batch is claimed
        (leased, renewed in the background) so colleagues get other items, and all train
        on the team's labels; a label on an item ``overlap`` colleagues labeled first is
        kept as a conflict, not a label. A lone labeler on a file claims nothing.
    lease_seconds : float, default 300
        How long a claim lasts without renewal.
    random_state : int, Generator or None
        Seed for the strategy, cold start and tie breaking.
    multi_label : bool, default False
        An answer is the *set* of classes that apply (``label(item, ["a", "b"])``; ``[]``
        = none of them): a chip per class, its key toggles it, Enter commits (guide:
        ``docs/guide/multilabel.md``). An oracle or eval set is then an indicator or sets.

    Attributes
    ----------
    widget, batch_widget, review_button : ipywidgets
        The whole app (what a cell shows), its cards, its review button.
    learning_curve_plot, histogram, stats : LearningCurve, UncertaintyHistogram, SessionStats
        The plots and the stats panel under the cards.

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
        self, X: Any, classes: Sequence[Any] | dict[Any, str], estimator: Any = None, *,
        items: Any = None, display: str | Callable[..., Any] = "auto", store: Any = None,
        batch_size: int = 8, strategy: Any = "auto", eval_set: tuple[Any, Any] | None = None,
        oracle: Any = None, compare_with: Sequence[str] | None = None, oracle_noise: float = 0.0,
        retrain_every: int | None = None, retrain_in: str = "auto", annotator: str | None = None,
        random_state: Any = None, session: str | None = None, overlap: int = 1,
        lease_seconds: float = 300.0, multi_label: bool = False,
    ) -> None:  # fmt: skip
        self.oracle_noise = check_oracle_noise(oracle_noise, oracle)
        inp = checks.check_inputs(  # every argument is checked before the store is opened
            X, classes, estimator, items=items, display=display, batch_size=batch_size,
            strategy=strategy, eval_set=eval_set, oracle=oracle, compare_with=compare_with,
            retrain_every=retrain_every, retrain_in=retrain_in, random_state=random_state,
            multi_label=multi_label,
        )  # fmt: skip
        self.multi_label = inp.multi_label
        self.classes, self.estimator, self.X, self.ids = inp.classes, inp.estimator, inp.X, inp.ids
        self.descriptions = inp.descriptions  # {class: description} or None
        self.items, self.display, self.batch_size = inp.items, inp.display, inp.batch_size
        self.strategy, self.oracle, self.compare_with = inp.strategy, inp.oracle, inp.compare_with
        self.retrain_every, self.retrain_in = inp.retrain_every, retrain_in
        self.overlap, self.lease_seconds = check_team(overlap, lease_seconds)
        self.annotator = default_annotator() if annotator is None else annotator
        self.n_items = len(self.ids)
        self._data = PoolData(self.X, inp.X_eval, inp.y_eval, self.oracle, rows=row_cache(self.X),
                              similarity=inp.zero_shot and inp.zero_shot.similarity)  # fmt: skip
        self.store = checks.open_store(
            store, self.classes, self.annotator, quiet=self.oracle is not None, session=session,
            multi_label=self.multi_label,
        )  # fmt: skip
        self._ctl = build_controller(
            inp, self.store, self._data, annotator=self.annotator, overlap=self.overlap,
            lease_seconds=self.lease_seconds,
        )  # fmt: skip
        rng = np.random.default_rng([inp.seed, 1])
        self._oracle = None if inp.oracle is None else Oracle(
            inp.oracle, classes=self.classes, noise=self.oracle_noise, rng=rng,
            pos=self._ctl.mirror.pos)  # fmt: skip
        protocol = MessageProtocol(
            self._ctl, classes=self.classes, n_items=self.n_items, multi_label=self.multi_label,
            deliver=lambda changes: self._deliver(changes, key_path=True),
        )  # fmt: skip
        self._view = AppView(
            classes=self.classes, strategy=checks.strategy_label(self.strategy, self.multi_label),
            n_items=self.n_items, metric=checks.metric_label(inp), multi_label=self.multi_label,
            compare_with=self.compare_with, on_message=protocol,
            on_review=lambda: self._deliver(self._ctl.start_review(None, from_widget=True)),
        )  # fmt: skip
        self.widget, self.batch_widget = self._view.widget, self._view.batch_widget
        self.review_button, self.stats = self._view.review_button, self._view.stats
        self.learning_curve_plot, self.histogram = self._view.curve, self._view.histogram
        self._worker = RetrainWorker(self._data, self._on_snapshot, mode=inp.retrain_in)
        self._companion = Companion(
            team_tick=lambda: self._deliver(self._ctl.team_tick()),
            retry=lambda: bool(self._deliver(self._ctl.retry_unsaved()).result),
            cards=lambda: self._deliver(self._ctl.make_cards()),
            every=min(5.0, max(0.5, self.lease_seconds / 3.0)),
        )  # fmt: skip
        self._companion_thread = threading.Thread(target=self._companion.run, name="alwidgets-session", daemon=True)  # fmt: skip
        self._companion_thread.start()
        self._runner: threading.Thread | None = None
        self._stop_run = threading.Event()
        self._worker.warm_up()  # a worker process starts while the first batch is labeled
        at_exit(self)  # an unclosed labeler stops its background work quietly at exit
        event = self._deliver(self._ctl.open(self.store.models)).result
        if event is not None:  # a resumed session: rank with a model on its labels if quick
            event.wait(RESUME_WAIT_S)
        _heap.hold()  # full garbage collections skip the kernel's older objects (_heap)

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

    def label(self, item_id: Any, label: Any) -> None:
        """Label an item (durable when this returns), like a key press on its card;
        multi-label: ``label`` is any iterable of classes (``[]``: none of them).

        Raises :class:`~alwidgets.UnknownLabelError` for a label not in :attr:`classes`,
        :class:`~alwidgets.InvalidInputError` for an item not in the pool, a class named
        twice, or a set where one class is expected (or the reverse); warns
        :class:`~alwidgets.LabelConflictWarning` when colleagues labeled it first.
        """
        label = check_answer(label, self.classes, self.multi_label)
        self._call(self._ctl.answer(Answer(self._ctl.mirror.pos(item_id), "label", label)))

    def skip(self, item_id: Any) -> None:
        """Skip an item: it is not labeled and not queried again (undo brings it back)."""
        self._call(self._ctl.answer(Answer(self._ctl.mirror.pos(item_id), "skip")))

    def unsure(self, item_id: Any) -> None:
        """Mark an item as unsure: recorded for review, not used for training."""
        self._call(self._ctl.answer(Answer(self._ctl.mirror.pos(item_id), "unsure")))

    def undo(self) -> dict[str, Any] | None:
        """Undo this annotator's last action; the undone event (``None``: nothing). An
        item from an earlier batch comes back at the front of the current batch."""
        return self._call(self._ctl.undo(UndoRequest()))

    def sync(self) -> None:
        """Take in the team's new labels and renew the claims now (done every few s)."""
        self._deliver(self._ctl.team_tick(sync=True))

    def next_batch(self) -> list[Any]:
        """Move on to the prefetched batch (unanswered cards go back to the pool)."""
        self._call(self._ctl.advance())
        return self.batch

    def retrain(
        self, wait: bool = False, timeout: float | None = None, force: bool = False
    ) -> None:
        """Retrain on all current labels in the background (``wait=True``: block until
        the new ranking, curve point and plots are in place). A model's errors do not
        raise: they are shown and kept in :attr:`last_error` (the previous model stays).
        With the labels of the model in use nothing is refit unless ``force=True``."""
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

        ``n``: how many (default: every label its out-of-fold guess differs from).
        Returns the suspects in review order (index: item ids; columns ``label``,
        ``guess``, ``score``, ``p_label``, ``p_guess``; multi-label: a row per suspect class
        of an item, ``label``, ``guess``, ``class``, ``given``, ``score``, ``p``).
        """
        frame = self._call(self._ctl.start_review(n)).copy()
        frame.index = pd.Index([self.ids[int(p)] for p in frame.index], name="item_id")
        return frame

    def step(self) -> list[Any]:
        """Answer the current batch with the oracle (the path of clicks), retrain; the ids."""
        return teach_step(self, needs_oracle(self._oracle, "step"))

    def run(self, n_batches: int | None = None, delay: float = 0.5, wait: bool = False) -> None:
        """:meth:`step` every ``delay`` seconds in a background thread (``wait=True``:
        block) until ``n_batches`` (``None``: the pool is done) or :meth:`stop`."""
        needs_oracle(self._oracle, "run")
        self.stop()
        self._stop_run.clear()
        self._runner = start_run(self, n_batches, delay, self._stop_run,
                                 lambda text: self._view.render(Changes(notices=[(text, "error")])))  # fmt: skip
        if wait:
            self._runner.join()

    def stop(self) -> None:
        """Stop a running :meth:`run` loop (after its current step)."""
        self._stop_run.set()
        if self._runner is not None and self._runner is not threading.current_thread():
            self._runner.join()
        self._runner = None

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
        """One row per model: ``version``, ``n_labels``, ``score``, ``score_std``, … (NaN until known)."""
        return stable_curve(self.store.models)

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
        """Where fits run now: ``"thread"`` or ``"process"`` (``"thread"`` after a process failed)."""
        return self._worker.mode

    @property
    def review_progress(self) -> dict[str, int] | None:
        """The current review's ``total``, ``done``, ``kept``, ``changed``, ``unsure``."""
        return self._ctl.read(lambda c: c.queue.review and c.queue.review.progress())

    @property
    def oracle_mistakes(self) -> list[Any]:
        """Ids the noisy oracle (``oracle_noise``) answered wrong on purpose."""
        return [] if self._oracle is None else self._oracle.mistakes

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:  # a cell's output is the app
        return self.widget._repr_mimebundle_(**kwargs)

    def close(self) -> None:
        """Stop the teaching loop and the workers, save what is unsaved, close the store."""
        if self._ctl.read(lambda c: c.closed):
            return  # closed already: nothing to do twice
        self.stop()
        self._companion.stop()
        self._companion_thread.join(timeout=15)
        save_before_close(self._ctl.unsaved_items,  # the companion is gone: one last try
                          lambda: self._view.render(self._ctl.retry_unsaved(closing=True)))  # fmt: skip
        self._ctl.close()
        self._worker.shutdown()
        self.store.close()
        _heap.release()

    def _close_at_exit(self) -> None:  # interpreter exit without close(): quietly
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
        return (f"ActiveLabeler({self.n_items} items, {len(self.classes)} classes, {n} labeled, "
                f"model v{self.model_version}, store={self.store.location!r})")  # fmt: skip

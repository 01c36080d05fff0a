"""``ActiveLabeler``: the labeling app — pool + learner + store + widgets.

Every action (``label``, ``skip``, ``unsure``, ``undo``, ``next_batch``) goes through
one code path whether it comes from a key press, a click or a Python call, so all of
it can be tested headless. The store is the single source of truth for labels;
ranking, history and undo live here in Python, the browser only shows them.

The moving parts:

* the **pool**: ``X`` (what the model sees), ``items`` (what the person sees) and
  stable ids (the DataFrame index or ``range(n)``), fixed at construction;
* the **queue** (:mod:`alwidgets._queue`): the current batch and a prefetched next
  batch, taken from the latest ranking minus items already handled or queued;
* the **retrain worker** (:mod:`alwidgets._retrain`): fits and ranks in a thread or a
  process; its snapshot replaces the old one atomically, under the app's lock, and
  only the not-yet-shown prefetched batch changes;
* the **widgets**: :class:`~alwidgets.widgets.BatchWidget` (cards + keys) and the
  panels (:mod:`alwidgets._panels`): learning curve, uncertainty histogram, stats.

Threads: key messages arrive on the kernel's main thread; retrain results are applied
from the worker's thread; the histogram is redrawn on a small UI thread; ``run()``
answers from its own thread. All queue and session state changes under one lock.
"""

from __future__ import annotations

import logging
import threading
import time
import warnings
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import numpy as np
import pandas as pd

from alwidgets import _app_input as checks
from alwidgets import _validation as V
from alwidgets._app_input import plain
from alwidgets._panels import Panels, pace, status_of
from alwidgets._queue import BatchQueue
from alwidgets._retrain import (
    PoolData,
    RankingSnapshot,
    RetrainJob,
    RetrainWorker,
    choose_mode,
    run_job,
)
from alwidgets._teaching import TeachingMixin
from alwidgets.exceptions import InvalidInputError

__all__ = ["ActiveLabeler"]

logger = logging.getLogger("alwidgets")

_STATS_EVERY_S = 2.0
_STOP_SET_SIZE = 1000


def _trainable(labels: Any) -> bool:
    return len(set(labels)) >= 2


class ActiveLabeler(TeachingMixin):
    """Label the items a model needs, in a notebook, with the model retraining behind you.

    Parameters
    ----------
    X : array-like, scipy.sparse matrix or DataFrame of shape (n_items, n_features)
        What the model sees. A DataFrame's index gives the item ids (else ``range(n)``).
    classes : sequence of int or str
        The labels. Each gets a key: the label itself when it is a single character
        (digits ``0``–``9``, letters), else ``1``…``9``, ``0``, then letters.
    estimator : classifier with ``predict_proba``, optional
        Defaults to ``LogisticRegression(max_iter=1000)``.
    items : sequence, array or DataFrame, optional
        What the person sees, one per row of ``X`` (images, texts, file paths, rows);
        defaults to the rows of ``X``.
    display : str or callable, default "auto"
        How an item is drawn on its card: a kind of :func:`alwidgets.display.render`
        (``"image"``, ``"image_file"``, ``"text"``, ``"row"``, ``"html"``) or a
        function ``item -> html``.
    store : str, path or SessionStore, optional
        Where labels are kept. Reopening the same file resumes the session (labels,
        undo history, learning curve). ``None`` keeps them in a temporary file.
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
        in the notebook, or a script); see :func:`alwidgets._retrain.choose_mode`. If a
        process fails (e.g. cannot unpickle the estimator), fits fall back to a thread.
    annotator : str, optional
        Name recorded with each action (default: the login name).
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
        retrain_every: int | None = None,
        retrain_in: str = "auto",
        annotator: str | None = None,
        random_state: Any = None,
    ) -> None:
        from alwidgets.display import get_renderer
        from alwidgets.strategies import get_strategy

        # ---- validate everything before touching the store ----
        self.classes = checks.check_classes(classes)
        if estimator is None:
            from sklearn.linear_model import LogisticRegression

            estimator = LogisticRegression(max_iter=1000)
        self.estimator = V.check_estimator(estimator)
        self.X = V.check_X(X, allow_nan=V.allows_nan(estimator), allow_text=True)
        self.n_items = V.n_rows(self.X)
        index = self.X.index if hasattr(self.X, "index") else range(self.n_items)
        self.ids: list[Any] = [plain(i) for i in V.check_ids(index, self.n_items)]
        self._index = pd.Index(self.ids)
        self.items = self.X if items is None else items
        if V.n_rows(self.items) != self.n_items:
            raise InvalidInputError(
                f"items has {V.n_rows(self.items)} entries but X has {self.n_items} rows; "
                "pass one item (image, text, row) per row of X."
            )
        self.display = display
        get_renderer(display)  # an unknown kind fails now, not on the first card
        self.batch_size = V.check_n(batch_size, name="batch_size")
        if retrain_every is not None and retrain_every != 0:
            retrain_every = V.check_n(retrain_every, name="retrain_every")
        self.retrain_every = retrain_every
        if retrain_in not in ("auto", "thread", "process"):
            raise InvalidInputError(
                f"retrain_in must be 'auto', 'thread' or 'process', got {retrain_in!r}."
            )
        self.strategy = strategy
        get_strategy(strategy)  # an unknown name raises UnknownStrategyError now
        why = f"retrain_in={retrain_in!r}"
        if retrain_in == "auto":
            retrain_in, why = choose_mode(self.estimator, strategy)
        logger.info("alwidgets: retraining in a %s (%s)", retrain_in, why)
        self.retrain_in = retrain_in
        self._seed = int(np.random.default_rng(random_state).integers(2**31 - 1))
        rng = np.random.default_rng(self._seed)
        X_eval = y_eval = None
        if eval_set is not None:
            X_eval, y_eval = checks.check_eval_set(eval_set, self.classes)
        self.oracle = (
            None if oracle is None else checks.check_oracle(oracle, self.ids, self.classes)
        )
        if compare_with is None:
            compare_with = ["random"] if self.oracle is not None else []
        self.compare_with = list(compare_with)
        if self.compare_with and self.oracle is None:
            raise InvalidInputError(
                "compare_with needs an oracle to answer the other strategies' queries; "
                "pass oracle=y (true labels aligned with X) or drop compare_with."
            )
        for name in self.compare_with:
            get_strategy(name)
        self._data = PoolData(self.X, X_eval, y_eval, self.oracle)

        # ---- the store: the single source of truth for labels ----
        self.store = checks.open_store(
            store, self.classes, annotator, quiet=self.oracle is not None
        )
        self.annotator = annotator
        self._lock = threading.RLock()
        self._action: dict[int, str] = {}  # position -> live action (label/skip/unsure)
        self._label_of: dict[int, Any] = {}  # position -> current label
        self._handled = np.zeros(self.n_items, dtype=bool)
        # this app's actions, newest last: (position, (view session, seq) or None for a
        # Python call), so a front-end undo can check it names the last action
        self._done: list[tuple[int, tuple[str, int] | None]] = []
        self._load_state()
        versions = [v for v in self.store.models["version"] if isinstance(v, int | np.integer)]
        self._version = int(max(versions)) if versions else 0

        # ---- retrain bookkeeping ----
        self._labels_since_job = 0
        self._job_labels: dict[int, Any] | None = None  # the labels of the last model fit
        self._job_event: threading.Event | None = None
        self._job_dirty = False
        self._last_error: str | None = None
        # raced strategies (teaching mode): the items each has labeled in its own loop
        self._compare_state: dict[str, np.ndarray] = {
            n: np.empty(0, dtype=np.int64) for n in self.compare_with if n != "random"
        }
        # a fixed sample on which successive models' predictions are compared
        # (stabilizing predictions, Bloodgood & Vijay-Shanker 2009)
        size = min(self.n_items, _STOP_SET_SIZE)
        self._stop_set = np.sort(rng.choice(self.n_items, size=size, replace=False))
        self._stop_history: list[np.ndarray] = []
        self._hint: str | None = None
        # (time, seconds spent) per answer from the browser (programmatic and oracle
        # answers have no human pace)
        self._answer_log: list[tuple[float, float | None]] = []
        self._stats_base = self.store.stats()  # a resumed session's pace so far
        self._last_stats = 0.0
        self._ui = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alwidgets-ui")
        self._ui_pending = False
        self._runner: threading.Thread | None = None
        self._stop_run = threading.Event()
        self._closed = False
        self._worker = RetrainWorker(self._data, self._on_snapshot, mode=retrain_in)
        self._fallback_shown = False

        # ---- cold start: a diverse first ranking, computed here (no model needed) ----
        snapshot = run_job(self._make_job(fit=False), self._data)
        if snapshot.error:
            self._ui.shutdown()
            self.store.close()
            raise InvalidInputError(
                f"could not rank the pool for the first batch: {snapshot.error}. Check that "
                "X suits the estimator (e.g. raw text needs a Pipeline with a vectorizer)."
            )
        self._worker.warm_up()  # a worker process starts while the first batch is labeled
        self._queue = BatchQueue(
            ids=self.ids,
            items=self.items,
            display=display,
            classes=self.classes,
            batch_size=self.batch_size,
            rng=rng,
            snapshot=snapshot,
            X=self.X,
            handled=self._handled,
        )
        self._build_widgets(metric="accuracy (eval set)" if X_eval is not None else "accuracy (CV)")
        self._push_state()
        self.panels.draw_curve(self.store.models, self.compare_with)
        self._refresh_stats(force=True)
        if _trainable(self._label_of.values()):
            self._request_job()  # a resumed session: rank with a model as soon as it is fit
        self._set_status()

    # ------------------------------------------------------------------ session state
    def _pos(self, item_id: Any) -> int:
        try:
            pos = self._index.get_loc(plain(item_id))
        except (KeyError, TypeError):
            pos = None
        if not isinstance(pos, int | np.integer):
            raise InvalidInputError(
                f"item {item_id!r} is not in the pool; ids are the DataFrame index or "
                f"0..{self.n_items - 1}."
            )
        return int(pos)

    def _load_state(self) -> None:
        state = self.store.state
        if not len(state):
            return
        pos = self._index.get_indexer(pd.Index(state.index))
        known = pos >= 0
        if not known.all():
            logger.warning(
                "alwidgets: %d item(s) in the store are not in this pool and are ignored.",
                int((~known).sum()),
            )
        actions = state["action"].to_numpy()[known]
        labels = state["label"].to_numpy()[known]
        for p, action, label in zip(pos[known], actions, labels, strict=True):
            self._set_item(int(p), str(action), plain(label))

    def _set_item(self, pos: int, action: str | None, label: Any = None) -> None:
        """Record an item's live action (``None``: unhandled again)."""
        self._label_of.pop(pos, None)
        if action is None:
            self._action.pop(pos, None)
            self._handled[pos] = False
            return
        self._action[pos] = action
        self._handled[pos] = True
        if action == "label":
            self._label_of[pos] = label

    def _answer(self, pos: int) -> dict[str, Any] | None:
        action = self._action.get(pos)
        if action is None:
            return None
        ci = self.classes.index(self._label_of[pos]) if action == "label" else None
        return {"action": action, "class_index": ci}

    # ------------------------------------------------------------------ widgets
    def _build_widgets(self, metric: str) -> None:
        import ipywidgets as W

        from alwidgets.widgets import BatchWidget

        keys = checks.assign_keys(self.classes)
        self.batch_widget = BatchWidget(
            classes=[{"name": str(c), "key": k} for c, k in zip(self.classes, keys, strict=True)]
        )
        self.batch_widget.on_action(self._on_message)
        self.panels = Panels(metric_label=metric, strategy=str(self.strategy), n_items=self.n_items)
        self.widget = W.VBox(
            [self.batch_widget, self.panels.plots, self.panels.stats.widget],
            layout=W.Layout(width="100%"),
        )
        self.widget.add_class("alw-app")

    @property
    def learning_curve_plot(self) -> Any:
        """The :class:`~alwidgets.widgets.LearningCurve` shown under the cards."""
        return self.panels.curve

    @property
    def histogram(self) -> Any:
        """The :class:`~alwidgets.widgets.UncertaintyHistogram` of the unlabeled pool."""
        return self.panels.histogram

    @property
    def stats(self) -> Any:
        """The :class:`~alwidgets.widgets.SessionStats` panel."""
        return self.panels.stats

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def _push_state(self) -> None:
        q, w = self._queue, self.batch_widget
        with w.hold_sync():
            w.cards = q.current.cards
            w.batch_id = q.current.id
            w.next_cards = q.next.cards
            w.next_batch_id = q.next.id
            w.answers = dict(q.answers)
            w.progress = {"labeled": len(self._label_of), "total": self.n_items}

    # ------------------------------------------------------------------ actions
    def _on_message(self, msg: dict[str, Any]) -> None:
        """Front-end messages: the same code paths as the Python methods."""
        kind, seq = msg["type"], msg.get("seq")
        try:
            if kind == "action":
                pos = int(msg["key"])
                if not 0 <= pos < self.n_items:
                    raise InvalidInputError(f"card {msg['key']!r} is not in the pool")
                label = self.classes[msg["class_index"]] if msg["action"] == "label" else None
                self._act(
                    pos,
                    msg["action"],
                    label,
                    seq=seq,
                    seconds=msg.get("seconds"),
                    session=msg.get("session"),
                )
            elif kind == "undo":
                with warnings.catch_warnings():  # "nothing to undo" is shown as a notice
                    warnings.simplefilter("ignore")
                    self._undo(
                        seq=seq,
                        key=msg.get("key"),
                        target_seq=msg.get("target_seq"),
                        session=msg.get("session"),
                    )
            elif kind == "advance":
                with self._lock:
                    if int(msg["batch"]) != self._queue.current.id:
                        self._advance(to_batch=int(msg["batch"]))
                    self.batch_widget.advanced(self._queue.current.id)
        except Exception as err:  # tell the front end (it un-marks the card); log it too
            logger.exception("alwidgets: %s from the front end failed", kind)
            self.batch_widget.nack(seq, msg.get("key"), f"{type(err).__name__}: {err}")

    def _act(
        self,
        pos: int,
        action: str,
        label: Any = None,
        *,
        seq: int | None = None,
        seconds: float | None = None,
        session: str | None = None,
    ) -> None:
        """Record one answer: store (durable) -> state -> widget ack -> maybe advance."""
        key, q = str(pos), self._queue
        with self._lock:
            now = time.time()
            if seconds is not None and np.isfinite(seconds) and seconds >= 0:
                shown_at: float | None = now - seconds
            elif pos in q.current.positions:
                shown_at = q.current.shown_at
            else:
                shown_at = None
            info = q.query_info.get(pos, {})
            record = getattr(self.store, action)
            args = (self.ids[pos], label) if action == "label" else (self.ids[pos],)
            record(*args, annotator=self.annotator, shown_at=shown_at, **info)
            self._set_item(pos, action, label)
            ref = (session, seq) if isinstance(session, str) and seq is not None else None
            self._done.append((pos, ref))
            del self._done[:-1000]
            if action == "label":
                self._labels_since_job += 1
            if action == "label" and (seq is not None or seconds is not None):  # a person
                self._answer_log.append((now, seconds))
                del self._answer_log[:-100]
            if pos in q.current.positions:
                q.answers[key] = self._answer(pos)  # type: ignore[assignment]
            elif pos in q.next.positions:  # answered ahead of time: prefetch another
                q.refill_next()
            self._push_state()
            self.batch_widget.ack(seq, key)
            if q.is_complete():
                self._advance()
            every = self.retrain_every
            if every and self._labels_since_job >= every:
                self._request_job()

    def _advance(self, to_batch: int | None = None) -> None:
        with self._lock:
            self._queue.advance(to_batch)
            self._push_state()
            ran_out = self._queue.ran_out
        self._refresh_stats()
        self._defer_histogram()
        if (self.retrain_every is None and self._labels_since_job > 0) or ran_out:
            self._request_job()

    def _undo(
        self,
        seq: int | None = None,
        *,
        key: str | None = None,
        target_seq: int | None = None,
        session: str | None = None,
    ) -> dict[str, Any] | None:
        """Undo the last action; a front-end undo names it (card ``key``, ``target_seq``)
        and is refused with a ``nack`` unless it is still this annotator's last action."""
        q = self._queue
        with self._lock:
            if key is not None:
                why = self._undo_mismatch(key, target_seq, session)
                if why is not None:
                    logger.warning("alwidgets: undo of card %s refused: %s", key, why)
                    self.batch_widget.nack(seq, key, f"not undone: {why}")
                    return None
            event = self.store.undo(annotator=self.annotator)
            if event is None:
                self.batch_widget.undone(seq, None)
                self.batch_widget.notice("Nothing to undo.")
                return None
            try:
                pos = self._pos(event["item_id"])
            except InvalidInputError:  # an item of another pool sharing the store
                self.batch_widget.undone(seq, None)
                return event
            if self._done and self._done[-1][0] == pos:
                self._done.pop()
            else:  # an action from before this app (a resumed session): order unknown
                self._done.clear()
            if event["action"] == "label":
                self._labels_since_job = max(0, self._labels_since_job - 1)
            state = self.store.state
            item = plain(event["item_id"])
            if item in state.index:  # an earlier action on this item is live again
                row = state.loc[item]
                self._set_item(pos, str(row["action"]), plain(row["label"]))
            else:
                self._set_item(pos, None)
            q.reopen(pos)  # from an earlier batch: back to the front of this one
            key, answer = str(pos), self._answer(pos)
            if answer is None:
                q.answers.pop(key, None)
            else:
                q.answers[key] = answer
            self._push_state()
            self.batch_widget.undone(seq, key)
            return event

    def _undo_mismatch(self, key: str, target_seq: int | None, session: str | None) -> str | None:
        """Why an undo naming card ``key`` (action ``target_seq``) must be refused, or None."""
        if not self._done:
            return "there is no action of this session left to undo"
        pos, ref = self._done[-1]
        last = f"the last action is on item {self.ids[pos]!r}"
        if str(pos) != key:
            return f"{last}, not on card {key}"
        if target_seq is not None and (ref is None or ref != (session, target_seq)):
            return f"{last}, but it is not the action #{target_seq} of this view"
        return None

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
            unchanged = (
                not force
                and self._last_error is None
                and self._job_labels is not None
                and self._job_labels == self._label_of
            )
            event = self._job_event if unchanged else None
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
                event = self._job_event if self._job_event is not event else None

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
        return self._last_error

    def close(self) -> None:
        """Stop the teaching loop and the workers, and close the store."""
        self.stop()
        self._closed = True
        self._worker.shutdown()
        self._ui.shutdown(wait=True)
        self.store.close()

    def __enter__(self) -> ActiveLabeler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (
            f"ActiveLabeler({self.n_items} items, {len(self.classes)} classes, "
            f"{len(self._label_of)} labeled, model v{self.model_version}, "
            f"store={str(self.store.path)!r})"
        )

    # ------------------------------------------------------------------ retraining
    def _make_job(self, fit: bool) -> RetrainJob:
        positions = np.fromiter(self._label_of, dtype=np.int64, count=len(self._label_of))
        labels = np.asarray([self._label_of[p] for p in positions.tolist()])
        exclude = np.flatnonzero(self._handled)
        # a fitted model ranks many (its scores cover the whole pool anyway); the
        # cold-start selector clusters, so it is asked for a few batches only
        wanted = max(self.batch_size * 25, 200) if fit else self.batch_size * 4
        return RetrainJob(
            version=self._version + 1 if fit else 0,
            positions=positions,
            labels=labels,
            exclude=exclude,
            estimator=self.estimator,
            strategy=self.strategy if fit else "cold_start",
            classes=self.classes,
            n_candidates=max(0, min(self.n_items - exclude.size, wanted)),
            random_state=self._seed,
            fit=fit,
            compare=dict(self._compare_state) if fit else {},
            batch_size=self.batch_size,
            random_seeds=3 if "random" in self.compare_with else 0,
            stop_set=self._stop_set if fit else None,
            also_predict=np.asarray(self._queue.current.positions, dtype=np.int64) if fit else None,
        )

    def _request_job(self, force: bool = False) -> threading.Event | None:
        """Start a retrain (or a cold-start re-rank) unless one is running."""
        with self._lock:
            if self._closed:
                return None
            if self._job_event is not None:
                self._job_dirty = True
                return self._job_event
            if not force and self.retrain_every == 0:
                return None  # manual mode: only retrain() starts a job
            fit = _trainable(self._label_of.values())
            if not fit and not force and not self._queue.ran_out:
                self._set_status()
                return None
            job = self._make_job(fit=fit)
            if fit:
                self._version += 1
                self._job_labels = dict(self._label_of)
            self._labels_since_job = 0
            self._job_dirty = False
            event = self._job_event = threading.Event()
            self._set_status()
            self._worker.submit(job, event)  # may finish (and clear _job_event) at once
            return event

    def _on_snapshot(self, snap: RankingSnapshot) -> None:
        """Apply a finished retrain (runs in a background thread).

        Only the swap and the new prefetched batch happen under the app's lock (a key
        press waits for at most that); logging the curve point and redrawing the plots
        happen outside it.
        """
        if self._closed:
            self._job_event = None
            return
        if snap.error is None and snap.fitted:
            self._log_model(snap)  # a durable curve point (the store has its own lock)
        with self._lock:
            self._job_event = None
            if self._worker.fallback_reason and not self._fallback_shown:
                self._fallback_shown = True
                self.retrain_in = "thread"
                self.batch_widget.notice(
                    f"retraining in a thread: the worker process failed "
                    f"({self._worker.fallback_reason})",
                    "error",
                )
            if snap.error is not None:
                self._last_error = snap.error
                logger.error("alwidgets: retrain v%s failed: %s", snap.version, snap.error_detail)
                self.batch_widget.notice(f"retrain failed: {snap.error}", "error")
            else:
                self._last_error = None
                self._queue.ran_out = False
                self._queue.swap(snap)  # atomic: the next batch comes from the new ranking
                self._queue.update_suggestions(snap.also_positions, snap.also_proba)
                self._push_state()
            again = self._job_dirty and (
                self._labels_since_job > 0 or not _trainable(self._label_of.values())
            )
            self._job_dirty = False
            self._set_status()
        if snap.error is None:
            models = self.store.models  # read once for the hint and the curve
            self._update_hint(snap, models)
            self._refresh_histogram()
            self.panels.draw_curve(models, self.compare_with)
        self._refresh_stats(force=True)
        if again and snap.error is None:
            self._request_job()

    def _log_model(self, snap: RankingSnapshot) -> None:
        metrics: dict[str, Any] = dict(snap.metrics)
        metrics["fit_seconds"] = snap.seconds
        metrics["strategy"] = snap.strategy
        if snap.metric_name:
            metrics["metric"] = snap.metric_name
        if snap.random_baseline is not None:
            metrics["random_score"], metrics["random_score_std"] = snap.random_baseline
        for name, (positions, score) in snap.compare.items():
            self._compare_state[name] = positions
            metrics[f"{name}_score"] = score
        self.store.log_model(snap.version, snap.n_labels, **metrics)

    def _update_hint(self, snap: RankingSnapshot, models: pd.DataFrame) -> None:
        if snap.stop_predictions is not None:
            self._stop_history = [*self._stop_history[-9:], snap.stop_predictions]
        try:
            from alwidgets.stopping import stopping_hint

            self._hint = stopping_hint(models, self._stop_history, score_column="score")
        except Exception:  # the hint is advisory: never let it break the app
            logger.debug("alwidgets: stopping hint failed", exc_info=True)

    # ------------------------------------------------------------------ status, plots, stats
    def _set_status(self) -> None:
        with self._lock:
            snap = self._queue.snapshot if hasattr(self, "_queue") else None
            training = self._job_event is not None
            status = status_of(
                snap,
                n_labels=len(self._label_of),
                n_classes_labeled=len(set(self._label_of.values())),
                training=training,
                version=self._version,
                error=self._last_error,
            )
            self.batch_widget.status = status
        fitted = snap is not None and snap.fitted
        model_status = "training…" if training else ("failed" if self._last_error else "ready")
        self.panels.draw_stats(model_status=model_status if fitted or training else None)

    def _refresh_histogram(self) -> None:
        with self._lock:
            snap, handled = self._queue.snapshot, self._handled.copy()
            batch = list(self._queue.current.positions)
        if not snap.fitted or len(snap.scores) != self.n_items:
            return  # cold-start scores are not uncertainties: nothing to show yet
        self.panels.draw_histogram(snap.scores, handled, batch)

    def _defer_histogram(self) -> None:
        """Redraw the histogram off the key path (coalesced: one pending redraw at most)."""
        if self._ui_pending or self._closed:
            return
        self._ui_pending = True

        def run() -> None:
            self._ui_pending = False
            try:
                self._refresh_histogram()
            except Exception:  # a plot must never break labeling
                logger.exception("alwidgets: histogram update failed")

        self._ui.submit(run)

    def _refresh_stats(self, force: bool = False) -> None:
        """Update the stats panel from in-memory counters (no store query on the key path)."""
        now = time.monotonic()
        if not force and now - self._last_stats < _STATS_EVERY_S:
            return
        self._last_stats = now
        with self._lock:
            counts = dict.fromkeys(self.classes, 0)
            for label in self._label_of.values():
                counts[label] += 1
            actions = list(self._action.values())
            lpm, spl = pace(self._answer_log, self._stats_base)
            snap = self._queue.snapshot
        score = snap.metrics.get("score")
        fitted = snap.fitted
        self.panels.draw_stats(
            n_labeled=sum(counts.values()),
            per_class={str(c): n for c, n in counts.items()},
            n_skipped=actions.count("skip"),
            n_unsure=actions.count("unsure"),
            labels_per_minute=lpm,
            seconds_per_label=spl,
            model_version=snap.version if fitted else None,
            score=float(score) if score is not None and np.isfinite(score) else None,
            metric=snap.metric_name or "accuracy",
            hint=self._hint,
        )

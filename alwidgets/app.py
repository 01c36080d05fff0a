"""``ActiveLabeler``: the labeling app — pool + learner + store + widgets.

Every action (``label``, ``skip``, ``unsure``, ``undo``, ``next_batch``) goes through
one code path whether it comes from a key press, a click or a Python call, so all of
it can be tested headless. The store is the single source of truth for labels;
ranking, history and undo live here in Python, the browser only shows them.

The moving parts:

* the **pool**: ``X`` (what the model sees), ``items`` (what the person sees) and
  stable ids (the DataFrame index or ``range(n)``), fixed at construction;
* the **queue**: the current batch and a prefetched next batch, taken from the latest
  :class:`~alwidgets._retrain.RankingSnapshot` minus items already handled or queued;
* the **retrain worker**: fits and ranks in a thread or a process
  (:mod:`alwidgets._retrain`); its snapshot replaces the old one atomically, under a
  lock, and only the not-yet-shown part of the queue changes;
* the **widgets**: :class:`~alwidgets.widgets.BatchWidget` (cards + keys),
  :class:`~alwidgets.widgets.LearningCurve`, :class:`~alwidgets.widgets.UncertaintyHistogram`,
  :class:`~alwidgets.widgets.SessionStats`.
"""

from __future__ import annotations

import logging
import os
import tempfile
import threading
import time
import warnings
from collections import OrderedDict
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from alwidgets import _validation as V
from alwidgets._retrain import PoolData, RankingSnapshot, RetrainJob, RetrainWorker, run_job
from alwidgets.exceptions import InvalidInputError, StoreMismatchError, UnknownLabelError

__all__ = ["ActiveLabeler"]

logger = logging.getLogger("alwidgets")

#: Keys offered for classes, in order (j, k, s, u are navigation / skip / unsure).
CLASS_KEYS = [*"1234567890", *"abcdefghilmnopqrtvwxyz"]
_CACHE_SIZE = 256
_RECENT_BATCHES = 4
_STATS_EVERY_S = 2.0


@dataclass
class _Batch:
    id: int
    positions: list[int]
    cards: list[dict[str, Any]]
    shown_at: float = field(default_factory=time.time)


def _plain(value: Any) -> Any:
    """numpy scalars -> Python scalars (for JSON and the store)."""
    return value.item() if isinstance(value, np.generic) else value


def _trainable(labels: Sequence[Any]) -> bool:
    return len(set(labels)) >= 2


class ActiveLabeler:
    """Label the items a model needs, in a notebook, with the model retraining behind you.

    Parameters
    ----------
    X : array-like, scipy.sparse matrix or DataFrame of shape (n_items, n_features)
        What the model sees. A DataFrame's index gives the item ids (else ``range(n)``).
    classes : sequence of int or str
        The labels, in the order of their keys (``1``…``9``, ``0``, then letters).
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
    retrain_in : {"thread", "process"}, default "thread"
        Where fits run. A thread suffices when the model's fit and scoring release
        the GIL (scikit-learn's linear models, trees, forests); use ``"process"`` for
        Python-heavy models so they cannot slow down the key handling. A process needs
        an importable (picklable) estimator.
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
        retrain_in: str = "thread",
        annotator: str | None = None,
        random_state: Any = None,
    ) -> None:
        from alwidgets import display as _display
        from alwidgets.strategies import get_strategy

        # ---- validate everything before touching the store ----
        self.classes = self._check_classes(classes)
        if estimator is None:
            from sklearn.linear_model import LogisticRegression

            estimator = LogisticRegression(max_iter=1000)
        self.estimator = V.check_estimator(estimator)
        self.X = V.check_X(X, allow_nan=V.allows_nan(estimator), allow_text=True)
        self.n_items = V.n_rows(self.X)
        index = self.X.index if hasattr(self.X, "index") else range(self.n_items)
        self.ids: list[Any] = [_plain(i) for i in V.check_ids(index, self.n_items)]
        self._index = pd.Index(self.ids)
        self.items = self.X if items is None else items
        if V.n_rows(self.items) != self.n_items:
            raise InvalidInputError(
                f"items has {V.n_rows(self.items)} entries but X has {self.n_items} rows; "
                "pass one item (image, text, row) per row of X."
            )
        self.display = display
        _display.get_renderer(display)  # unknown kind -> error now, not on the first card
        self.batch_size = V.check_n(batch_size, name="batch_size")
        if retrain_every is not None and retrain_every != 0:
            retrain_every = V.check_n(retrain_every, name="retrain_every")
        self.retrain_every = retrain_every
        if retrain_in not in ("thread", "process"):
            raise InvalidInputError(
                f"retrain_in must be 'thread' or 'process', got {retrain_in!r}."
            )
        self.retrain_in = retrain_in
        self.strategy = strategy
        get_strategy(strategy)  # unknown name -> UnknownStrategyError now
        self._seed = int(np.random.default_rng(random_state).integers(2**31 - 1))
        self._rng = np.random.default_rng(self._seed)
        X_eval = y_eval = None
        if eval_set is not None:
            X_eval, y_eval = self._check_eval_set(eval_set)
        oracle_arr = self._check_oracle(oracle) if oracle is not None else None
        self.oracle = oracle_arr
        if compare_with is None:
            compare_with = ["random"] if oracle_arr is not None else []
        compare_with = list(compare_with)
        if compare_with and oracle_arr is None:
            raise InvalidInputError(
                "compare_with needs an oracle to answer the other strategies' queries; "
                "pass oracle=y (true labels aligned with X) or drop compare_with."
            )
        for name in compare_with:
            get_strategy(name)
        self.compare_with = compare_with
        self._data = PoolData(self.X, X_eval, y_eval, oracle_arr)

        # ---- the store: single source of truth for labels ----
        self.store = self._open_store(store, annotator)
        self.annotator = annotator
        self._lock = threading.RLock()
        self._action: dict[int, str] = {}  # position -> live action (label/skip/unsure)
        self._label_of: dict[int, Any] = {}  # position -> current label
        self._handled = np.zeros(self.n_items, dtype=bool)
        self._queued = np.zeros(self.n_items, dtype=bool)
        self._n_unknown_ids = 0
        self._load_state()

        # ---- ranking, queue, retrain bookkeeping ----
        models = self.store.models
        versions = [v for v in models["version"].tolist() if isinstance(v, int | np.integer)]
        self._version = int(max(versions)) if versions else 0
        self._html_cache: OrderedDict[int, str] = OrderedDict()
        self._query_info: dict[int, dict[str, Any]] = {}
        self._batch_counter = 0
        self._recent: OrderedDict[int, _Batch] = OrderedDict()
        self._answers: dict[str, dict[str, Any]] = {}
        self._labels_at_job = len(self._label_of)
        self._labels_since_job = 0
        self._job_event: threading.Event | None = None
        self._job_dirty = False
        self._last_error: str | None = None
        self._last_stats = 0.0
        # raced strategies (teaching mode): the items each has labeled in its own loop
        self._compare_state: dict[str, np.ndarray] = {
            n: np.empty(0, dtype=np.int64) for n in compare_with if n != "random"
        }
        # a fixed sample of the pool on which successive models' predictions are compared
        # (stabilizing predictions, Bloodgood & Vijay-Shanker 2009)
        self._stop_set = np.sort(
            self._rng.choice(self.n_items, size=min(self.n_items, 1000), replace=False)
        )
        self._stop_history: list[np.ndarray] = []
        self._answer_log: list[tuple[float, float | None]] = []  # (time, seconds) per label
        self._stats_base = self.store.stats()  # resumed sessions: pace so far
        self._plot_lock = threading.Lock()
        self._ui = ThreadPoolExecutor(max_workers=1, thread_name_prefix="alwidgets-ui")
        self._ui_pending = False
        self._hint: str | None = None
        self._runner: threading.Thread | None = None
        self._stop_run = threading.Event()
        self._closed = False
        self._worker = RetrainWorker(self._data, self._on_snapshot, mode=retrain_in)

        self._build_widgets()
        # cold start: a diverse first ranking computed here (no model needed)
        self._snapshot = run_job(self._make_job(fit=False), self._data)
        if self._snapshot.error:
            raise InvalidInputError(f"could not rank the pool: {self._snapshot.error}")
        self._cursor = 0
        self._current = self._new_batch()
        self._next = self._new_batch()
        self._push_state()
        self._refresh_curve()
        self._refresh_stats(force=True)
        if _trainable(self._label_of.values()):
            self._request_job()  # resumed session: rank with a model as soon as it is fit
        else:
            self._set_status()

    # ------------------------------------------------------------------ checks
    @staticmethod
    def _check_classes(classes: Any) -> list[Any]:
        if isinstance(classes, str) or not isinstance(classes, Sequence | np.ndarray | pd.Index):
            raise InvalidInputError(
                f"classes must be a list of labels, e.g. ['cat', 'dog'], got {classes!r}."
            )
        out = [_plain(c) for c in classes]
        if len(out) < 2:
            raise InvalidInputError(
                f"classes has {len(out)} label(s); pass at least 2, e.g. classes=['no', 'yes']."
            )
        if len(set(out)) != len(out):
            dup = next(c for c in out if out.count(c) > 1)
            raise InvalidInputError(f"classes must be unique; {dup!r} appears twice.")
        for c in out:
            if isinstance(c, bool) or not isinstance(c, int | str):
                raise InvalidInputError(
                    f"each class must be an int or a str (they are stored), got {c!r}."
                )
        return out

    def _check_label(self, label: Any) -> Any:
        label = _plain(label)
        if label not in self.classes:
            raise UnknownLabelError(
                f"{label!r} is not one of the classes {self.classes!r}; pass one of them."
            )
        return label

    def _check_eval_set(self, eval_set: Any) -> tuple[Any, np.ndarray]:
        if not isinstance(eval_set, tuple | list) or len(eval_set) != 2:
            raise InvalidInputError("eval_set must be a pair (X_test, y_test).")
        X_eval = V.check_X(eval_set[0], name="eval_set X", allow_text=True)
        y_eval = V.check_y(eval_set[1], V.n_rows(X_eval), name="eval_set y")
        unknown = sorted({_plain(v) for v in y_eval} - set(self.classes), key=str)
        if unknown:
            raise UnknownLabelError(
                f"eval_set y has labels {unknown!r} that are not in classes {self.classes!r}; "
                "add them to classes or drop those rows."
            )
        return X_eval, y_eval

    def _check_oracle(self, oracle: Any) -> np.ndarray:
        if callable(oracle):
            values = [oracle(i) for i in self.ids]
        else:
            values = list(np.asarray(oracle).tolist()) if not isinstance(oracle, list) else oracle
        if len(values) != self.n_items:
            raise InvalidInputError(
                f"oracle has {len(values)} labels but the pool has {self.n_items} items; "
                "pass one true label per row of X, or a function item_id -> label."
            )
        values = [_plain(v) for v in values]
        unknown = sorted(set(values) - set(self.classes), key=str)
        if unknown:
            raise UnknownLabelError(
                f"oracle has labels {unknown[:5]!r} that are not in classes {self.classes!r}."
            )
        return np.asarray(values)

    def _open_store(self, store: Any, annotator: str | None) -> Any:
        from alwidgets.store import SessionStore

        if store is None:
            path = os.path.join(tempfile.mkdtemp(prefix="alwidgets-"), "session.alw")
            logger.warning(
                "alwidgets: no store given; labels go to the temporary file %s. Pass "
                "store='name.alw' to keep them and resume later.",
                path,
            )
            store = path
        if isinstance(store, SessionStore):
            if store.classes is not None and set(store.classes) != set(self.classes):
                raise StoreMismatchError(
                    f"the store {str(store.path)!r} has classes {store.classes!r}, but "
                    f"classes {self.classes!r} were passed; use the same classes or a new file."
                )
            return store
        if isinstance(store, str | os.PathLike):
            return SessionStore(store, classes=self.classes, annotator=annotator)
        raise InvalidInputError(
            f"store must be a file path or a SessionStore, got {type(store).__name__}."
        )

    # ------------------------------------------------------------------ state
    def _pos(self, item_id: Any) -> int:
        try:
            pos = self._index.get_loc(_plain(item_id))
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
        self._n_unknown_ids = int((~known).sum())
        if self._n_unknown_ids:
            logger.warning(
                "alwidgets: %d item(s) in the store are not in this pool and are ignored.",
                self._n_unknown_ids,
            )
        actions = state["action"].to_numpy()[known]
        labels = state["label"].to_numpy()[known]
        for p, action, label in zip(pos[known], actions, labels, strict=True):
            self._set_item(int(p), str(action), _plain(label))

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

    # ------------------------------------------------------------------ widgets
    def _build_widgets(self) -> None:
        import ipywidgets as W

        from alwidgets.widgets import BatchWidget, LearningCurve, SessionStats, UncertaintyHistogram

        self.batch_widget = BatchWidget(
            classes=[
                {"name": str(c), "key": CLASS_KEYS[i] if i < len(CLASS_KEYS) else ""}
                for i, c in enumerate(self.classes)
            ]
        )
        self.batch_widget.on_action(self._on_message)
        metric = "accuracy (eval set)" if self._data.X_eval is not None else "accuracy (CV)"
        self.learning_curve_plot = LearningCurve(metric_label=metric, name=str(self.strategy))
        self.histogram = UncertaintyHistogram(title=None)
        self.stats = SessionStats({"n_total": self.n_items})
        plots = W.HBox(
            [self.learning_curve_plot.widget, self.histogram.widget],
            layout=W.Layout(width="100%", flex_flow="row wrap"),
        )
        for fig in (self.learning_curve_plot.widget, self.histogram.widget):
            fig.layout.width = None
            fig.layout.autosize = True
        self.widget = W.VBox(
            [self.batch_widget, plots, self.stats.widget], layout=W.Layout(width="100%")
        )
        self.widget.add_class("alw-app")

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

    def _html(self, pos: int) -> str:
        from alwidgets.display import render

        cached = self._html_cache.get(pos)
        if cached is not None:
            self._html_cache.move_to_end(pos)
            return cached
        try:
            out = render(self._item(pos), self.display)
        except Exception as err:  # a user's renderer failing must not stop labeling
            logger.exception("alwidgets: rendering item %r failed", self.ids[pos])
            out = (
                f'<div class="alw-render-error">cannot show item: {type(err).__name__}: {err}</div>'
            )
        self._html_cache[pos] = out
        if len(self._html_cache) > _CACHE_SIZE:
            self._html_cache.popitem(last=False)
        return out

    def _item(self, pos: int) -> Any:
        items = self.items
        if hasattr(items, "iloc"):
            return items.iloc[pos]
        if hasattr(items, "tocsr"):  # sparse rows: show the non-zero features
            row = items[pos].tocoo()
            return {f"x{j}": v for j, v in zip(row.col[:30], row.data[:30], strict=True)}
        return items[pos]

    # ------------------------------------------------------------------ queue
    def _take(self, k: int) -> list[tuple[int, int | None]]:
        """Up to ``k`` (position, rank) pairs from the ranking; random when it runs out."""
        snap, out, seen = self._snapshot, [], set()
        order = snap.order
        while self._cursor < len(order) and len(out) < k:
            p = int(order[self._cursor])
            self._cursor += 1
            if not self._handled[p] and not self._queued[p] and p not in seen:
                out.append((p, self._cursor))
                seen.add(p)
        if len(out) < k:
            free = ~(self._handled | self._queued)
            free[list(seen)] = False
            rest = np.flatnonzero(free)
            if rest.size:
                extra = self._rng.choice(rest, size=min(k - len(out), rest.size), replace=False)
                out.extend((int(p), None) for p in extra)
                self._request_job()  # the ranking is used up: refresh it
        return out

    def _card(self, pos: int, rank: int | None, reason: str | None = None) -> dict[str, Any]:
        snap = self._snapshot
        score = float(snap.scores[pos]) if pos < len(snap.scores) else float("nan")
        suggestion = confidence = None
        proba = None
        if rank is not None and snap.proba is not None and rank - 1 < len(snap.proba):
            proba = snap.proba[rank - 1]
        elif snap.learner is not None:
            from alwidgets._retrain import _proba_in_class_order, take_rows

            try:
                proba = _proba_in_class_order(
                    snap.learner, take_rows(self.X, np.array([pos])), self.classes
                )[0]
            except Exception:  # the card still works without a suggestion
                logger.exception("alwidgets: predicting item %r failed", self.ids[pos])
        if proba is not None and proba.sum() > 0:
            suggestion = int(np.argmax(proba))
            confidence = float(proba[suggestion])
        fitted = snap.learner is not None
        if reason is not None:
            why, why_long, strategy = reason, reason, "undo"
        elif rank is None:
            why, why_long = (
                "random pick",
                "ranking used up; picked at random until the next retrain",
            )
            strategy = "random"
        elif not fitted:
            why, why_long = f"cold start #{rank}", "diverse, representative pick (no model yet)"
            strategy = "cold_start"
        else:
            strategy = snap.strategy
            why = f"{strategy} {score:.2f} · #{rank}" if np.isfinite(score) else f"#{rank}"
            why_long = (
                f"picked by {strategy} from model v{snap.version}: utility {score:.3f} "
                f"(higher = more informative), rank {rank} of {len(snap.order)} ranked"
            )
        self._query_info[pos] = {
            "model_version": snap.version if fitted else None,
            "score": score if np.isfinite(score) else None,
            "rank": rank,
            "strategy": strategy,
        }
        return {
            "key": str(pos),
            "item_id": self.ids[pos],
            "html": self._html(pos),
            "suggestion": suggestion,
            "confidence": confidence,
            "score": score if np.isfinite(score) else None,
            "rank": rank,
            "why": why,
            "why_long": why_long,
        }

    def _new_batch(self) -> _Batch:
        picked = self._take(self.batch_size)
        self._batch_counter += 1
        batch = _Batch(
            self._batch_counter, [p for p, _ in picked], [self._card(p, r) for p, r in picked]
        )
        self._queued[batch.positions] = True
        self._recent[batch.id] = batch
        while len(self._recent) > _RECENT_BATCHES:
            self._recent.popitem(last=False)
        return batch

    def _find_card(self, pos: int) -> dict[str, Any] | None:
        key = str(pos)
        for batch in reversed(self._recent.values()):
            for card in batch.cards:
                if card["key"] == key:
                    return card
        return None

    def _release(self, batch: _Batch, keep: Sequence[int] = ()) -> None:
        """Return a batch's unhandled items to the pool (they may be picked again)."""
        for p in batch.positions:
            if p not in keep:
                self._queued[p] = False

    def _push_state(self) -> None:
        w = self.batch_widget
        with w.hold_sync():
            w.cards = self._current.cards
            w.batch_id = self._current.id
            w.next_cards = self._next.cards
            w.next_batch_id = self._next.id
            w.answers = dict(self._answers)
            w.progress = {"labeled": len(self._label_of), "total": self.n_items}

    def _advance(self, to_batch: int | None = None) -> None:
        """Make the prefetched batch (or the front end's adopted one) current."""
        old = self._current
        target = self._next
        if to_batch is not None and to_batch != self._next.id and to_batch in self._recent:
            target = self._recent[to_batch]  # the front end adopted a batch since replaced
        self._release(old)
        if target is not self._next:
            self._release(self._next)
        keep = [p for p in target.positions if not self._handled[p]]
        if len(keep) != len(target.positions):
            cards = [c for c in target.cards if not self._handled[int(c["key"])]]
            target = _Batch(target.id, keep, cards)
        self._queued[keep] = True
        target.shown_at = time.time()
        self._current = target
        self._answers = {}
        self._next = self._new_batch()
        self._push_state()
        self._after_batch()

    def _after_batch(self) -> None:
        self._refresh_stats()
        self._defer_histogram()
        if self.retrain_every is None and self._labels_since_job > 0:
            self._request_job()

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
                self._act(pos, msg["action"], label, seq=seq, seconds=msg.get("seconds"))
            elif kind == "undo":
                with warnings.catch_warnings(record=True):
                    warnings.simplefilter("always")
                    self._undo(seq=seq)
            elif kind == "advance":
                with self._lock:
                    if int(msg["batch"]) != self._current.id:
                        self._advance(to_batch=int(msg["batch"]))
                    self.batch_widget.advanced(self._current.id)
        except Exception as err:  # report to the front end; never lose the message silently
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
    ) -> None:
        key = str(pos)
        with self._lock:
            info = self._query_info.get(pos, {})
            if seconds is not None and np.isfinite(seconds) and seconds >= 0:
                shown_at = time.time() - seconds
            elif pos in self._current.positions:
                shown_at = self._current.shown_at
            else:
                shown_at = None
            item_id = self.ids[pos]
            record = getattr(self.store, action)
            if action == "label":
                record(item_id, label, annotator=self.annotator, shown_at=shown_at, **info)
            else:
                record(item_id, annotator=self.annotator, shown_at=shown_at, **info)
            self._set_item(pos, action, label)
            if action == "label":
                self._labels_since_job += 1
                spent = time.time() - shown_at if shown_at is not None else None
                self._answer_log.append((time.time(), spent))
                del self._answer_log[:-100]
            if pos in self._current.positions:
                ci = self.classes.index(label) if action == "label" else None
                self._answers[key] = {"action": action, "class_index": ci}
            elif pos in self._next.positions:  # labeled ahead of time: refill the next batch
                self._release(self._next)
                self._next = self._new_batch()
            self._push_state()
            self.batch_widget.ack(seq, key)
            if self._current.positions and all(self._handled[self._current.positions]):
                self._advance()
            every = self.retrain_every
            if every and self._labels_since_job >= every:
                self._request_job()

    def _undo(self, seq: int | None = None) -> dict[str, Any] | None:
        with self._lock:
            event = self.store.undo(annotator=self.annotator)
            if event is None:
                self.batch_widget.undone(seq, None)
                self.batch_widget.notice("Nothing to undo.")
                return None
            try:
                pos = self._pos(event["item_id"])
            except InvalidInputError:  # an item of another pool in the same store
                self.batch_widget.undone(seq, None)
                return event
            if event["action"] == "label":
                self._labels_since_job = max(0, self._labels_since_job - 1)
            state = self.store.state
            item = _plain(event["item_id"])
            if item in state.index:  # an earlier action of this item is live again
                row = state.loc[item]
                self._set_item(pos, str(row["action"]), _plain(row["label"]))
            else:
                self._set_item(pos, None)
            key = str(pos)
            if pos not in self._current.positions:  # from an earlier batch: bring it back
                if pos in self._next.positions:
                    self._release(self._next)
                    self._queued[pos] = True
                    self._next = self._new_batch()
                old = self._find_card(pos)
                info = self._query_info.get(pos)
                card = old or self._card(pos, None, reason="brought back by undo")
                if info is not None:
                    self._query_info[pos] = info  # keep why it was first picked
                cur = self._current
                self._current = _Batch(
                    cur.id, [pos, *cur.positions], [card, *cur.cards], cur.shown_at
                )
                self._queued[pos] = True
            if self._handled[pos]:
                action = self._action[pos]
                ci = self.classes.index(self._label_of[pos]) if action == "label" else None
                self._answers[key] = {"action": action, "class_index": ci}
            else:
                self._answers.pop(key, None)
            self._push_state()
            self.batch_widget.undone(seq, key)
            return event

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
        label = self._check_label(label)
        self._act(self._pos(item_id), "label", label)

    def skip(self, item_id: Any) -> None:
        """Skip an item: it is not labeled and not queried again (undo brings it back)."""
        self._act(self._pos(item_id), "skip")

    def unsure(self, item_id: Any) -> None:
        """Mark an item as unsure: recorded for review, not used for training."""
        self._act(self._pos(item_id), "unsure")

    def undo(self) -> dict[str, Any] | None:
        """Undo this annotator's last action; returns the undone event (``None``: nothing)."""
        return self._undo()

    def next_batch(self) -> list[Any]:
        """Move on to the prefetched batch (unanswered cards go back to the pool)."""
        with self._lock:
            self._advance()
            return self.batch

    def retrain(self, wait: bool = False, timeout: float | None = None) -> None:
        """Retrain on all current labels in the background (``wait=True``: block until done).

        With ``wait=True`` the new ranking, learning-curve point and plots are in place
        when this returns, which makes notebooks and tests deterministic.
        """
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
            return [self.ids[p] for p in self._current.positions]

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
        return self._snapshot

    @property
    def learner(self) -> Any:
        """The fitted :class:`~alwidgets.ActiveLearner` in use (``None`` before the first fit)."""
        return self._snapshot.learner

    @property
    def model_version(self) -> int:
        """Version of the model that ranks the queue (0: cold start, no model yet)."""
        return self._snapshot.version if self._snapshot.learner is not None else 0

    @property
    def last_error(self) -> str | None:
        """The last retrain error (``None`` after a successful retrain)."""
        return self._last_error

    def close(self) -> None:
        """Stop the worker and the teaching loop, and close the store."""
        self.stop()
        self._closed = True
        self._worker.shutdown()
        self._ui.shutdown(wait=True)
        self.store.close()

    def __enter__(self) -> ActiveLabeler:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # ------------------------------------------------------------------ retraining
    def _make_job(self, fit: bool) -> RetrainJob:
        positions = np.fromiter(self._label_of.keys(), dtype=np.int64, count=len(self._label_of))
        labels = np.asarray([self._label_of[p] for p in positions.tolist()])
        exclude = np.flatnonzero(self._handled)
        remaining = self.n_items - exclude.size
        # a fitted model ranks many (cheap: scores exist for the whole pool anyway); the
        # cold-start selector clusters, so it is asked for a few batches only
        wanted = max(self.batch_size * 25, 200) if fit else self.batch_size * 4
        n_candidates = min(remaining, wanted)
        return RetrainJob(
            version=self._version + 1 if fit else 0,
            positions=positions,
            labels=labels,
            exclude=exclude,
            estimator=self.estimator,
            strategy=self.strategy if fit else "cold_start",
            classes=self.classes,
            n_candidates=max(n_candidates, 0),
            random_state=self._seed,
            fit=fit,
            compare=dict(self._compare_state) if fit else {},
            batch_size=self.batch_size,
            random_seeds=3 if "random" in self.compare_with else 0,
            stop_set=self._stop_set if fit else None,
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
            if not fit and not force and self._cursor < len(self._snapshot.order):
                self._set_status()
                return None
            job = self._make_job(fit=fit)
            if fit:
                self._version += 1
            self._labels_at_job = len(job.positions)
            self._labels_since_job = 0
            self._job_dirty = False
            event = self._job_event = threading.Event()
            self._set_status(training=fit)
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
        if snap.error is None and snap.learner is not None:
            self._log_model(snap)  # durable curve point (the store has its own lock)
        with self._lock:
            self._job_event = None
            if snap.error is not None:
                self._last_error = snap.error
                logger.error("alwidgets: retrain v%s failed: %s", snap.version, snap.error_detail)
                self.batch_widget.notice(f"retrain failed: {snap.error}", "error")
            else:
                self._last_error = None
                self._snapshot = snap
                self._cursor = 0
                # the prefetched batch is not on screen yet: take it from the new ranking
                self._release(self._next)
                self._next = self._new_batch()
                self._push_state()
            again = self._job_dirty and (
                self._labels_since_job > 0 or not _trainable(self._label_of.values())
            )
            self._job_dirty = False
            self._set_status()
        if snap.error is None:
            self._update_hint(snap)
            self._refresh_histogram()
            self._refresh_curve()
        self._refresh_stats(force=True)
        if again and snap.error is None:
            self._request_job()

    def _update_hint(self, snap: RankingSnapshot) -> None:
        if snap.stop_predictions is not None:
            self._stop_history = [*self._stop_history[-9:], snap.stop_predictions]
        try:
            from alwidgets.stopping import stopping_hint

            self._hint = stopping_hint(self.store.models, self._stop_history, score_column="score")
        except Exception:  # the hint is advisory: never let it break the app
            logger.debug("alwidgets: stopping hint failed", exc_info=True)

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

    # ------------------------------------------------------------------ status, plots, stats
    def _set_status(self, training: bool = False) -> None:
        snap = self._snapshot
        n_labels = len(self._label_of)
        training = training or self._job_event is not None
        status: dict[str, Any] = {"state": "ready", "text": "", "age": None, "detail": ""}
        if snap.learner is not None:
            status["text"] = f"model v{snap.version}, {snap.n_labels} labels"
            status["age"] = max(0.0, time.time() - snap.trained_at)
            score = snap.metrics.get("score")
            if score is not None:
                status["detail"] = f"{snap.metric_name or 'score'} {score:.3f}"
        elif not _trainable(self._label_of.values()):
            have = len(set(self._label_of.values()))
            status.update(
                state="waiting",
                text=f"no model yet: need labels from at least 2 classes (have {have})",
            )
        else:
            status.update(state="waiting", text="no model yet")
        if training:
            status["state"] = "training"
            status["detail"] = f"training v{self._version} on {n_labels} labels…"
        if self._last_error:
            status.update(state="error", detail=f"last retrain failed: {self._last_error}")
            status["error"] = self._last_error
        self.batch_widget.status = status
        model_status = "training…" if training else ("failed" if self._last_error else "ready")
        with self._plot_lock:
            self.stats.update(
                model_status=model_status if snap.learner is not None or training else None
            )

    def _refresh_histogram(self) -> None:
        with self._lock:
            snap, handled = self._snapshot, self._handled.copy()
            batch = list(self._current.positions)
        scores = snap.scores
        if snap.learner is None or len(scores) != self.n_items:
            return  # cold-start scores are not uncertainties: nothing to show yet
        scores = np.where(handled, np.nan, scores)
        highlight = scores[batch] if batch else None
        with self._plot_lock:
            self.histogram.update(scores, highlight=highlight)

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

    def _refresh_curve(self) -> None:
        models = self.store.models
        if not len(models) or "score" not in models.columns:
            return
        with self._plot_lock:
            self._draw_curve(models)

    def _draw_curve(self, models: pd.DataFrame) -> None:
        self.learning_curve_plot.update(models)
        if "random_score" in models.columns:
            base = models[["n_labels", "random_score"]].rename(columns={"random_score": "score"})
            if "random_score_std" in models.columns:
                base["score_std"] = models["random_score_std"]
            self.learning_curve_plot.set_baseline(base, name="random (expected)")
        for name in self.compare_with:
            col = f"{name}_score"
            if name != "random" and col in models.columns:
                curve = models[["n_labels", col]].rename(columns={col: "score"})
                self.learning_curve_plot.update_series(name, curve)

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
            log = list(self._answer_log)
            snap = self._snapshot
        lpm, spl = self._pace(log)
        score = snap.metrics.get("score")
        with self._plot_lock:
            self._draw_stats(counts, actions, lpm, spl, score, snap)

    def _draw_stats(
        self,
        counts: dict[Any, int],
        actions: list[str],
        lpm: float | None,
        spl: float | None,
        score: float | None,
        snap: RankingSnapshot,
    ) -> None:
        self.stats.update(
            n_labeled=sum(counts.values()),
            per_class={str(c): n for c, n in counts.items()},
            n_skipped=actions.count("skip"),
            n_unsure=actions.count("unsure"),
            labels_per_minute=lpm,
            seconds_per_label=spl,
            model_version=snap.version if snap.learner is not None else None,
            score=float(score) if score is not None and np.isfinite(score) else None,
            metric=snap.metric_name or "accuracy",
            hint=self._hint,
        )

    def _pace(self, log: list[tuple[float, float | None]]) -> tuple[float | None, float | None]:
        """Labels per minute over the recent answers (breaks > 5 min left out), and the
        median seconds spent per label; falls back to the store's numbers on resume."""
        base = self._stats_base
        recent = log[-30:]
        lpm = spl = None
        if len(recent) >= 2:
            gaps = np.diff([t for t, _ in recent])
            active = float(gaps[gaps <= 300].sum())
            if active > 0:
                lpm = 60.0 * int((gaps <= 300).sum()) / active
        spent = [s for _, s in recent if s is not None]
        if spent:
            spl = float(np.median(spent))
        if lpm is None and np.isfinite(base.get("labels_per_minute", np.nan)):
            lpm = float(base["labels_per_minute"])
        if spl is None and np.isfinite(base.get("median_seconds_per_label", np.nan)):
            spl = float(base["median_seconds_per_label"])
        return lpm, spl

    # ------------------------------------------------------------------ teaching mode
    def step(self) -> list[Any]:
        """Answer the current batch with the oracle (the same path as clicks) and retrain.

        Returns the ids that were labeled. Needs ``oracle=``.
        """
        if self.oracle is None:
            raise InvalidInputError(
                "step() answers with the oracle; create the labeler with oracle=y (true labels)."
            )
        done = []
        for item_id in self.batch:
            self.label(item_id, self.oracle[self._pos(item_id)])
            done.append(item_id)
        self.retrain(wait=True)
        return done

    def run(self, n_batches: int | None = None, delay: float = 0.5, wait: bool = False) -> None:
        """Let the loop run on its own with the oracle, one batch every ``delay`` seconds.

        Runs in a background thread so the notebook stays responsive; :meth:`stop`
        ends it. ``n_batches=None`` runs until the pool is exhausted.
        """
        if self.oracle is None:
            raise InvalidInputError(
                "run() answers with the oracle; create the labeler with oracle=y (true labels)."
            )
        self.stop()
        self._stop_run.clear()

        def loop() -> None:
            i = 0
            while not self._stop_run.is_set() and (n_batches is None or i < n_batches):
                if not self.batch:
                    break
                self.step()
                i += 1
                if self._stop_run.wait(delay):
                    break

        self._runner = threading.Thread(target=loop, name="alwidgets-run", daemon=True)
        self._runner.start()
        if wait:
            self._runner.join()

    def stop(self) -> None:
        """Stop a running :meth:`run` loop (after its current step)."""
        self._stop_run.set()
        if self._runner is not None and self._runner is not threading.current_thread():
            self._runner.join()
        self._runner = None

    def __repr__(self) -> str:
        return (
            f"ActiveLabeler({self.n_items} items, {len(self.classes)} classes, "
            f"{len(self._label_of)} labeled, model v{self.model_version}, store={str(self.store.path)!r})"
        )

"""The read side of a session store: the pandas views, statistics, agreement, export,
and the learning curve (``log_model`` writes its points, ``models`` reads them).

A mixin of :class:`~alwidgets.store.SessionStore` (which provides the connection,
through ``_run``, and the caches); the same on both backends, since the views are
built from the same SQL (see ``_replay`` and ``_views``).
"""

from __future__ import annotations

import os
import threading
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from alwidgets._utils import IDLE_SECONDS
from alwidgets.exceptions import InvalidInputError
from alwidgets.store._codec import encode_model_point

if TYPE_CHECKING:  # pandas is imported on first read, so writers start fast
    import pandas as pd

    from alwidgets.store._backend import Backend
    from alwidgets.store._keys import PendingKeys
    from alwidgets.store._replay import Replay
    from alwidgets.store._tally import Tally

__all__ = ["ViewsMixin"]


class ViewsMixin:
    """``events``, ``labels``, ``state``, ``models``, ``stats()``, ``agreement()``,
    ``export()`` of a session store."""

    #: Breaks longer than this (seconds) do not count as active labeling time.
    idle_seconds: float = IDLE_SECONDS

    _lock: threading.RLock
    _backend: Backend
    _classes: list[Any] | None
    _multi_label: bool
    _keys: PendingKeys
    _replay_: Replay | None
    _tally_: Tally | None
    _models: tuple[int, pd.DataFrame] | None

    def _run(self, fn: Any, *, write: bool = False) -> Any:  # pragma: no cover - see store
        raise NotImplementedError

    def _scalar(self, sql: str, params: tuple[Any, ...] = ()) -> Any:
        return self._run(lambda conn: conn.execute(sql, params).fetchone()[0])

    @property
    def _replay(self) -> Replay:
        if self._replay_ is None:
            from alwidgets.store._replay import Replay

            self._replay_ = Replay(self._backend.value, self._multi_label)
        return self._replay_

    def _view(self, name: str) -> pd.DataFrame:
        """A view of the log, patched with whatever was written since the last read."""
        with self._lock:
            if name == "events":
                return self._run(self._replay.events)
            return self._run(lambda conn: self._replay.view(conn, name))

    @property
    def events(self) -> pd.DataFrame:
        """Every event, oldest first, indexed by ``event_id``.

        Columns: ``action`` (label/skip/unsure/undo), ``item_id``, ``label``,
        ``annotator``, ``shown_at`` and ``answered_at`` (UTC datetimes),
        ``seconds`` (answered − shown), ``model_version``, ``score``, ``rank``,
        ``strategy``, ``undoes`` (the event an undo reverts) and ``undone``
        (whether a later undo reverted this event). ``item_id``/``label`` are
        int64 or str columns (object when a session mixes both).
        """
        return self._view("events")

    @property
    def labels(self) -> pd.DataFrame:
        """Current label per item, in the order the items were labeled.

        Index ``item_id``; columns ``label``, ``annotator``, ``time`` (UTC).
        In a multi-label session ``label`` holds tuples of classes in the
        session's class order (``()``: none of them applies); see also
        :meth:`label_matrix`. Cached until the next event, so reading it often is
        cheap.
        """
        return self._view("labels")

    def label_matrix(self) -> pd.DataFrame:
        """The current labels as a 0/1 matrix: one ``int8`` column per class.

        Index ``item_id`` (as in :attr:`labels`); columns the classes, in the
        session's order; 1 where the class applies. In a single-label session
        each row has one 1 (one-hot). Needs the session's classes.

        Examples
        --------
        >>> import os, tempfile
        >>> from alwidgets.store import SessionStore
        >>> tmp = tempfile.mkdtemp()
        >>> with SessionStore(os.path.join(tmp, "s.db"), classes=["cat", "dog", "outdoor"],
        ...                   multi_label=True) as store:
        ...     _ = store.label("img1", ["outdoor", "cat"]); _ = store.label("img2", [])
        ...     store.label_matrix().to_dict("index")
        {'img1': {'cat': 1, 'dog': 0, 'outdoor': 1}, 'img2': {'cat': 0, 'dog': 0, 'outdoor': 0}}
        >>> import shutil; shutil.rmtree(tmp)
        """
        from alwidgets.store import _views

        if self._classes is None:
            raise InvalidInputError(
                "label_matrix() needs the session's classes, and this session has none; open "
                "it with classes=[...]."
            )
        return _views.label_matrix(self.labels, list(self._classes), self._multi_label)

    @property
    def state(self) -> pd.DataFrame:
        """Last action per item that is not undone.

        Index ``item_id``; columns ``action`` (label/skip/unsure), ``label``
        (missing unless labeled), ``annotator``, ``time``. Items not in it were
        never answered (or all their actions were undone).
        """
        return self._view("state")

    @property
    def models(self) -> pd.DataFrame:
        """Learning-curve points from :meth:`log_model`.

        Columns ``version``, ``n_labels``, ``time`` and one column per metric.
        """
        from alwidgets.store import _views

        with self._lock:
            key = self._scalar("SELECT coalesce(max(id), 0) FROM models")
            if self._models is None or self._models[0] != key:
                self._models = (key, self._run(_views.models_frame))
            return self._models[1].copy()

    def __len__(self) -> int:
        """Number of events (all actions, undos included)."""
        return int(self._scalar("SELECT count(*) FROM events"))

    def last_event_id(self) -> int:
        """The id of the newest event (by anyone), ``0`` when there is none.

        Event ids grow in commit order, so ``changes_since(last_event_id())`` later
        returns exactly what was written in between.

        Examples
        --------
        >>> import os, tempfile
        >>> from alwidgets.store import SessionStore
        >>> tmp = tempfile.mkdtemp()
        >>> with SessionStore(os.path.join(tmp, "s.db")) as store:
        ...     before = store.last_event_id()
        ...     event_id = store.label(1, "x")
        ...     before, store.last_event_id() == event_id
        (0, True)
        >>> import shutil; shutil.rmtree(tmp)
        """
        return int(self._scalar("SELECT coalesce(max(id), 0) FROM events"))

    def annotator_stats(self) -> pd.DataFrame:
        """Per annotator: live answers, active time and pace (what :meth:`stats` sums).

        Kept up to date incrementally: a call reads only the events written since
        the previous one.

        Returns
        -------
        pandas.DataFrame
            Index ``annotator`` (sorted); columns ``n_labels``, ``n_skipped``,
            ``n_unsure``, ``n_conflicts`` (live actions of each kind; a conflict is
            an answer that came after ``overlap`` others labeled the item, see
            :meth:`label`), ``active_minutes``, ``labels_per_minute`` and
            ``median_seconds_per_label`` (as in :meth:`stats`; NaN when
            undefined).

        Examples
        --------
        >>> import os, tempfile, time
        >>> from alwidgets.store import SessionStore
        >>> tmp = tempfile.mkdtemp()
        >>> with SessionStore(os.path.join(tmp, "s.db"), classes=["a", "b"]) as store:
        ...     shown = time.time() - 6.0
        ...     _ = store.label(1, "a", annotator="ana", shown_at=shown)
        ...     _ = store.label(2, "b", annotator="bo", shown_at=shown)
        ...     _ = store.skip(3, annotator="bo")
        ...     frame = store.annotator_stats()
        >>> frame[["n_labels", "n_skipped"]].to_dict("index")
        {'ana': {'n_labels': 1, 'n_skipped': 0}, 'bo': {'n_labels': 1, 'n_skipped': 1}}
        >>> round(float(frame.loc["ana", "median_seconds_per_label"]))
        6
        >>> import shutil; shutil.rmtree(tmp)
        """
        from alwidgets.store._tally import Tally

        with self._lock:
            if self._tally_ is None or self._tally_.idle_seconds != self.idle_seconds:
                self._tally_ = Tally(self.idle_seconds)
            tally = self._tally_
            self._run(tally.update)
            return tally.frame()

    def stats(self) -> dict[str, Any]:
        """Summary numbers for the session.

        Returns
        -------
        dict
            ``n_events``; ``n_items`` (items with a live action); ``n_labeled``
            (items with a current label); ``n_labels``, ``n_skipped``,
            ``n_unsure``, ``n_conflicts`` (live actions); ``n_undo``;
            ``per_class`` (current labels per class); ``per_annotator`` (live
            label actions per annotator; :meth:`annotator_stats` has the rest); ``active_minutes`` (each answer costs the time since
            its item was shown or since the annotator's previous answer,
            whichever is shorter; costs over :attr:`idle_seconds` are breaks
            and count nothing);
            ``labels_per_minute``; ``median_seconds_per_label`` (answered −
            shown, over label actions that know ``shown_at``). Rates are NaN
            when undefined.

        Examples
        --------
        >>> import os, tempfile, time
        >>> from alwidgets.store import SessionStore
        >>> tmp = tempfile.mkdtemp()
        >>> with SessionStore(os.path.join(tmp, "s.db"), classes=["a", "b"]) as store:
        ...     for i in range(3):
        ...         _ = store.label(i, "a", shown_at=time.time() - 4.0)
        ...     _ = store.skip(3)
        ...     s = store.stats()
        >>> s["per_class"], s["n_skipped"], round(s["median_seconds_per_label"])
        ({'a': 3}, 1, 4)
        >>> import shutil; shutil.rmtree(tmp)
        """
        from alwidgets.store import _views

        with self._lock:
            events, labels, state = self.events, self.labels, self.state
        classes = self._classes if self._multi_label else None
        return _views.stats_dict(events, labels, state, self.idle_seconds, classes)

    def agreement(self) -> pd.DataFrame:
        """Cohen's kappa per annotator pair, on the items both labeled.

        Each annotator's own latest live answer with a class counts: a label, or a
        ``conflict`` event (an answer given after ``overlap`` others labeled the
        item, see :meth:`label`). A conflict is not a label, but it is that
        person's judgement of the item, and agreement measures judgements: with
        ``overlap=1`` such answers are the only items two people saw. An undone
        conflict counts no more. Columns ``annotator_a``, ``annotator_b``,
        ``n_items``, ``agreement`` (fraction identical) and ``kappa`` (NaN when
        undefined: both gave one and the same label throughout). Pairs without
        shared items are left out.

        In a multi-label session each class is a yes/no question on the shared
        items: ``kappa[<class>]`` columns hold Cohen's kappa per class, ``kappa``
        their mean over the classes where it is defined (NaN if none), and
        ``agreement`` the share of items given exactly the same set. Why the mean
        per-class kappa and not Krippendorff's alpha with a set distance (Jaccard,
        MASI): the model learns each class as its own yes/no question (binary
        relevance), so the per-class numbers say which class the guidelines leave
        ambiguous, and their plain mean summarises exactly those numbers, in the
        unit a single-label session reports, with every class weighing the same (a
        rare class is not drowned by frequent ones); alpha folds all classes into
        one distance that cannot point at a class.

        Examples
        --------
        >>> import os, tempfile
        >>> from alwidgets.store import SessionStore
        >>> tmp = tempfile.mkdtemp()
        >>> with SessionStore(os.path.join(tmp, "s.db")) as store:
        ...     for i, (a, b) in enumerate(["xx", "xy", "yy", "yy"]):
        ...         _ = store.label(i, a, annotator="ann"); _ = store.label(i, b, annotator="bo")
        ...     store.agreement().round(3).to_dict("records")
        [{'annotator_a': 'ann', 'annotator_b': 'bo', 'n_items': 4, 'agreement': 0.75, 'kappa': 0.5}]
        >>> with SessionStore(os.path.join(tmp, "m.db"), classes=["a", "b"],
        ...                   multi_label=True) as store:
        ...     for i, (x, y) in enumerate([("a", "a"), ("ab", "b"), ("", "")]):
        ...         _ = store.label(i, list(x), annotator="ann")
        ...         _ = store.label(i, list(y), annotator="bo")
        ...     row = store.agreement().iloc[0]
        >>> [round(float(row[c]), 3) for c in ("kappa", "kappa[a]", "kappa[b]")]
        [0.7, 0.4, 1.0]
        >>> import shutil; shutil.rmtree(tmp)
        """
        from alwidgets.store import _views

        with self._lock:
            latest = self._run(self._replay.per_annotator)
        return _views.agreement_frame(latest, self._classes if self._multi_label else None)

    def export(
        self,
        path: str | os.PathLike[str],
        *,
        what: str = "labels",
        multi_label: str | None = None,
    ) -> Path:
        """Write a view to CSV or Parquet, chosen by the file suffix.

        Parameters
        ----------
        path : str or path-like
            ``.csv`` (``.csv.gz`` etc. compress) or ``.parquet`` (needs
            ``pip install "alwidgets[parquet]"``). Written atomically.
        what : {"labels", "events", "state", "models"}
            Which view to write. ``"events"`` is the full, lossless log.
        multi_label : {"columns", "list"}, optional
            A multi-label session's answers: ``"columns"`` (the default) writes one
            0/1 column ``label[<class>]`` per class, in class order, where ``label``
            was (empty where there is no label, e.g. a skip) plus a
            ``label_classes`` column (the classes as JSON, for
            :func:`~alwidgets.store.read_export`); ``"list"`` keeps one ``label``
            column: a list of classes (Parquet: a list column; CSV: JSON text with
            ``label_type`` = ``list``). Only for multi-label sessions.

        Returns
        -------
        pathlib.Path
            Where the file was written. :func:`alwidgets.store.read_export`
            reads it back with the exact values and dtypes; in CSV, id-like
            columns get an ``<column>_type`` companion (``int``/``str``).

        Examples
        --------
        >>> import os, tempfile
        >>> import pandas as pd
        >>> from alwidgets.store import SessionStore
        >>> tmp = tempfile.mkdtemp()
        >>> with SessionStore(os.path.join(tmp, "s.db"), classes=["ham", "spam"]) as store:
        ...     _ = store.label("mail-1", "spam"); _ = store.label("mail-2", "ham")
        ...     out = store.export(os.path.join(tmp, "labels.csv"))
        >>> pd.read_csv(out)[["item_id", "label"]].to_dict("list")
        {'item_id': ['mail-1', 'mail-2'], 'label': ['spam', 'ham']}
        >>> import shutil; shutil.rmtree(tmp)
        """
        from alwidgets.store import _export

        layout = _export.check_request(what, multi_label, self._multi_label)
        frame = getattr(self, what)
        sets = None if layout is None else (layout, list(self._classes or ()))
        return _export.export_frame(frame, path, sets=sets)

    def log_model(self, version: Any, n_labels: int, **metrics: Any) -> int:
        """Record a learning-curve point: a model trained on ``n_labels`` labels.

        Parameters
        ----------
        version : int or str
            The model version (the one later passed as ``model_version``).
        n_labels : int
            How many labels it was trained on.
        **metrics
            Numbers (or short strings) such as ``accuracy=0.91``; NaN is stored
            as missing.

        Returns
        -------
        int
            The row id in :attr:`models`.

        Examples
        --------
        >>> import os, tempfile
        >>> from alwidgets.store import SessionStore
        >>> tmp = tempfile.mkdtemp()
        >>> with SessionStore(os.path.join(tmp, "s.db")) as store:
        ...     _ = store.log_model(1, 20, accuracy=0.71)
        ...     _ = store.log_model(2, 30, accuracy=0.78)
        ...     store.models[["version", "n_labels", "accuracy"]].to_dict("list")
        {'version': [1, 2], 'n_labels': [20, 30], 'accuracy': [0.71, 0.78]}
        >>> import shutil; shutil.rmtree(tmp)
        """
        value, n, metrics_json = encode_model_point(version, n_labels, metrics)
        row = (self._backend.value(value), n, time.time())
        sql = (
            "INSERT INTO models (version, n_labels, time, metrics, key) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (key) DO NOTHING RETURNING id"
        )
        with self._keys.key(("model", value, n, metrics_json)) as key:
            return self._backend.insert(sql, (*row, metrics_json, key), "models", key)

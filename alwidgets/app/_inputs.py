"""The inputs of :class:`~alwidgets.ActiveLabeler`: assembled, checked, then the store opened.

Everything is checked before the store is opened, so a mistake never leaves a
half-created session behind. The checks themselves live in layer 0, one home each
(:mod:`alwidgets._validation`, :mod:`alwidgets._check_classes`); this module assembles
the app's inputs from them (:func:`check_inputs`), gives each class a key
(:func:`assign_keys`) and opens the store (:func:`open_store`).

Examples
--------
>>> assign_keys(["cat", "dog"])
['1', '2']
>>> check_inputs(np.zeros((2, 2)), ["cat"], None, items=None, display="auto", batch_size=1,
...     strategy="margin", eval_set=None, oracle=None, compare_with=None, retrain_every=None,
...     retrain_in="thread", random_state=0)
Traceback (most recent call last):
...
alwidgets.exceptions.InvalidInputError: classes has 1 label(s); pass at least 2, e.g. classes=['no', 'yes'].
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from alwidgets import _validation as V
from alwidgets._check_classes import check_classes, check_eval_set, check_oracle
from alwidgets._utils import plain
from alwidgets.app._descriptions import ZeroShotCards, check_describable, split_classes
from alwidgets.exceptions import InvalidInputError, StoreMismatchError

__all__ = ["Inputs", "assign_keys", "check_inputs", "metric_label", "open_store", "strategy_label"]

#: Keys that can label a class, in the order they are handed out.
CLASS_KEYS = [*"1234567890", *"abcdefghilmnopqrtvwxyz"]  # j k s u: move, skip, unsure

logger = logging.getLogger("alwidgets")


def assign_keys(classes: list[Any], reserved: Sequence[str] = ()) -> list[str]:
    """One key per class: the class itself when it is one free character, else the next
    free key of :data:`CLASS_KEYS` (``""`` when they run out: buttons only). Keys in
    ``reserved`` go to no class (``a``, accept the suggestion, on multi-label chips).

    >>> assign_keys([0, 1, 2])
    ['0', '1', '2']
    >>> assign_keys(["cat", "dog", "y"])
    ['1', '2', 'y']
    >>> assign_keys(["s", "k"])  # reserved for skip / move: numbered instead
    ['1', '2']
    >>> assign_keys(list("abc"), reserved="a")
    ['1', 'b', 'c']
    """
    keys = [""] * len(classes)
    taken: set[str] = set(reserved)
    for i, c in enumerate(classes):
        name = str(c).lower()
        if len(name) == 1 and name in CLASS_KEYS and name not in taken:
            keys[i] = name
            taken.add(name)
    free = iter(k for k in CLASS_KEYS if k not in taken)
    for i in range(len(classes)):
        if not keys[i]:
            keys[i] = next(free, "")
    return keys


def open_store(
    store: Any,
    classes: list[Any],
    annotator: str | None,
    *,
    quiet: bool = False,
    session: str | None = None,
    multi_label: bool = False,
) -> Any:
    """A :class:`~alwidgets.store.SessionStore` from a path, a ``postgresql://`` URL
    (with ``session``), an open store, or ``None``.

    ``None`` means a temporary file, with a warning (``quiet``: an info message, e.g.
    for teaching demos answered by an oracle, where nothing needs keeping).
    """
    from alwidgets.store import SessionStore

    if store is None:
        path = os.path.join(tempfile.mkdtemp(prefix="alwidgets-"), "session.alw")
        (logger.info if quiet else logger.warning)(
            "alwidgets: no store given; labels go to the temporary file %s. Pass "
            "store='name.alw' to keep them and resume later.",
            path,
        )
        store = path
    if isinstance(store, SessionStore):
        if store.classes is not None and set(store.classes) != set(classes):
            raise StoreMismatchError(
                f"the store {store.location!r} has classes {store.classes!r}, but "
                f"classes {classes!r} were passed; use the same classes or a new file."
            )
        if store.multi_label != multi_label:
            raise StoreMismatchError(_kind_text(store.location, store.multi_label))
        return store
    if isinstance(store, str | os.PathLike):
        try:
            return SessionStore(
                store, classes=classes, annotator=annotator, session=session,
                multi_label=multi_label,
            )  # fmt: skip
        except StoreMismatchError as err:
            if "opened with multi_label=" not in str(err):
                raise
            raise StoreMismatchError(_kind_text(str(store), not multi_label)) from err
    raise InvalidInputError(
        f"store must be a file path or a SessionStore (or a postgresql:// URL), got "
        f"{type(store).__name__}."
    )


def metric_label(inp: Inputs) -> str:
    """The learning curve's y axis: accuracy, or (multi-label) F1, on the eval set or CV."""
    where = "eval set" if inp.X_eval is not None else "CV"
    return f"F1 ({where})" if inp.multi_label else f"accuracy ({where})"


def strategy_label(strategy: Any, multi_label: bool) -> str:
    """The strategy's name on the plots, ``"auto"`` resolved for the task.

    >>> strategy_label("auto", False), strategy_label("auto", True), strategy_label("lci", True)
    ('margin', 'mmu', 'lci')
    """
    from alwidgets.strategies import check_task, get_strategy

    return str(check_task(get_strategy(strategy), multi_label).name)


def _kind_text(where: Any, stored_multi: bool) -> str:
    """The error for a store of the other session kind, naming the fix in the app's terms."""
    kind = "multi-label" if stored_multi else "single-label"
    return (
        f"the store {where!r} holds a {kind} session; it was left untouched. Pass "
        f"ActiveLabeler(..., multi_label={stored_multi}) to continue it, or a new store for "
        "the other kind."
    )


def _dask_inputs(X: Any, items: Any, retrain_in: str) -> tuple[Any, Sequence[Any], Any, str]:
    """A Dask array or DataFrame pool: its feature array, ids, lazily fetched items, a thread.

    Retrains run in a thread: the work is on the cluster, reached through the kernel's
    ``distributed.Client`` (a worker process could not use it).
    """
    from alwidgets.pools import LazyItems, dask_ids, dask_pool_features

    if retrain_in == "process":
        raise InvalidInputError(
            "retrain_in='process' is for in-memory pools; a Dask pool is scored on its "
            "cluster, so retrains run in a thread: use retrain_in='auto' or 'thread'."
        )
    ids = dask_ids(X)
    if not isinstance(ids, range):
        ids = [plain(i) for i in V.check_ids(ids, len(ids))]
    features = dask_pool_features(X)
    return features, ids, LazyItems(X if items is None else items, ids), "thread"


@dataclass(frozen=True)
class Inputs:
    """The labeler's arguments, checked (see :func:`check_inputs`)."""

    classes: list[Any]
    descriptions: dict[Any, str] | None  # classes given as {class: description}
    zero_shot: Any  # with descriptions: the pool's ZeroShotCards (embedded once), else None
    estimator: Any
    X: Any
    ids: Sequence[Any]  # a range for a Dask array (no per-item objects)
    items: Any
    display: str | Callable[..., Any]
    batch_size: int
    strategy: Any
    X_eval: Any
    y_eval: Any
    oracle: np.ndarray | None
    compare_with: list[str]
    retrain_every: int | None
    retrain_in: str  # "thread" or "process" ("auto" resolved)
    seed: int
    multi_label: bool = False


def check_inputs(
    X: Any,
    classes: Sequence[Any] | dict[Any, str],
    estimator: Any,
    *,
    items: Any,
    display: str | Callable[..., Any],
    batch_size: int,
    strategy: Any,
    eval_set: tuple[Any, Any] | None,
    oracle: Any,
    compare_with: Sequence[str] | None,
    retrain_every: int | None,
    retrain_in: str,
    random_state: Any,
    multi_label: bool = False,
) -> Inputs:
    """Check every argument of :class:`~alwidgets.ActiveLabeler` (the store is not touched);
    with ``classes={class: description}``, compare the pool with the descriptions once
    (:class:`~alwidgets.app._descriptions.ZeroShotCards`: a missing extra, a model that
    cannot embed or bad texts fail here).

    >>> inputs = check_inputs(np.zeros((5, 2)), ["a", "b"], None, items=None, display="auto",
    ...     batch_size=2, strategy="margin", eval_set=None, oracle=None, compare_with=None,
    ...     retrain_every=None, retrain_in="thread", random_state=0)
    >>> inputs.ids, type(inputs.estimator).__name__
    ([0, 1, 2, 3, 4], 'LogisticRegression')
    """
    from alwidgets.app import _multilabel as ml
    from alwidgets.app._worker import choose_mode
    from alwidgets.display import get_renderer
    from alwidgets.strategies import check_task, get_strategy

    if not isinstance(multi_label, bool):
        raise InvalidInputError(f"multi_label must be True or False, got {multi_label!r}.")
    classes, descriptions = split_classes(classes)  # {class: description}: keys in order
    if descriptions is not None and multi_label:
        raise InvalidInputError(
            "class descriptions (classes as a dict) work for one label per item only: a "
            "zero-shot guess is the one closest class, not a set. Pass the classes as a list "
            "with multi_label=True."
        )
    checked_classes = check_classes(classes)
    if estimator is None:
        from sklearn.linear_model import LogisticRegression

        estimator = LogisticRegression(max_iter=1000)
    estimator = V.check_estimator(estimator)
    from alwidgets.pools import is_dask_collection

    on_dask = is_dask_collection(X)
    if descriptions is not None:  # the engine embeds them with the model's first step
        check_describable(estimator, on_dask=on_dask)
    if on_dask:  # a pool on a Dask cluster: nothing pool-sized comes to the kernel
        X, ids, items, retrain_in = _dask_inputs(X, items, retrain_in)
        n_items = len(ids)
    else:
        X = V.check_X(X, allow_nan=V.allows_nan(estimator), allow_text=True)
        n_items = V.n_rows(X)
        index = X.index if hasattr(X, "index") else range(n_items)
        ids = [plain(i) for i in V.check_ids(index, n_items)]
        items = X if items is None else items
    if V.n_rows(items) != n_items:
        raise InvalidInputError(
            f"items has {V.n_rows(items)} entries but X has {n_items} rows; "
            "pass one item (image, text, row) per row of X."
        )
    get_renderer(display)  # an unknown kind fails now, not on the first card
    batch_size = V.check_n(batch_size, name="batch_size")
    if retrain_every is not None and retrain_every != 0:
        retrain_every = V.check_n(retrain_every, name="retrain_every")
    if retrain_in not in ("auto", "thread", "process"):
        raise InvalidInputError(
            f"retrain_in must be 'auto', 'thread' or 'process', got {retrain_in!r}."
        )
    check_task(get_strategy(strategy), multi_label)  # unknown or not for this task: now
    why = "the pool is on a Dask cluster" if on_dask else f"retrain_in={retrain_in!r}"
    if retrain_in == "auto":
        retrain_in, why = choose_mode(estimator, strategy)
    logger.info("alwidgets: retraining in a %s (%s)", retrain_in, why)
    seed = int(np.random.default_rng(random_state).integers(2**31 - 1))
    X_eval = y_eval = None
    if eval_set is not None:
        check = ml.check_eval_sets if multi_label else check_eval_set
        X_eval, y_eval = check(eval_set, checked_classes)
    truth = None
    if oracle is not None:
        truth = (ml.check_oracle_sets if multi_label else check_oracle)(
            oracle, ids, checked_classes
        )
    zero_shot = None  # the first batch needs the pool's similarities: before the store opens
    if descriptions is not None:
        zero_shot = ZeroShotCards.compute(X, descriptions, estimator, checked_classes)
    others = (
        list(["random"] if truth is not None else [])
        if compare_with is None
        else list(compare_with)
    )
    if others and truth is None:
        raise InvalidInputError(
            "compare_with needs an oracle to answer the other strategies' queries; "
            "pass oracle=y (true labels aligned with X) or drop compare_with."
        )
    for name in others:
        check_task(get_strategy(name), multi_label)
    return Inputs(
        classes=checked_classes,
        descriptions=descriptions,
        zero_shot=zero_shot,
        estimator=estimator,
        X=X,
        ids=ids,
        items=items,
        display=display,
        batch_size=batch_size,
        strategy=strategy,
        X_eval=X_eval,
        y_eval=y_eval,
        oracle=truth,
        compare_with=others,
        retrain_every=retrain_every,
        retrain_in=retrain_in,
        seed=seed,
        multi_label=multi_label,
    )

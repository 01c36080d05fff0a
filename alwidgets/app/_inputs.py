"""Input checks for :class:`~alwidgets.ActiveLabeler` (classes, eval set, oracle, store).

Everything is checked before the store is opened, so a mistake never leaves a
half-created session behind. Messages say what is wrong and what to do.

Examples
--------
>>> check_classes(["cat", "dog"])
['cat', 'dog']
>>> check_classes(["cat"])
Traceback (most recent call last):
...
alwidgets.exceptions.InvalidInputError: classes has 1 label(s); pass at least 2, e.g. classes=['no', 'yes'].
"""

from __future__ import annotations

import logging
import os
import tempfile
from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from alwidgets import _validation as V
from alwidgets.exceptions import InvalidInputError, StoreMismatchError, UnknownLabelError

__all__ = [
    "assign_keys",
    "check_classes",
    "check_eval_set",
    "check_label",
    "check_oracle",
    "open_store",
    "plain",
]

#: Keys that can label a class, in the order they are handed out.
CLASS_KEYS = [*"1234567890", *"abcdefghilmnopqrtvwxyz"]  # j k s u: move, skip, unsure

logger = logging.getLogger("alwidgets")


def plain(value: Any) -> Any:
    """numpy scalars -> Python scalars (for JSON and the store).

    >>> type(plain(np.int64(3)))
    <class 'int'>
    """
    return value.item() if isinstance(value, np.generic) else value


def check_classes(classes: Any) -> list[Any]:
    """At least two unique int or str labels, as a list of Python scalars."""
    if isinstance(classes, str) or not isinstance(classes, Sequence | np.ndarray | pd.Index):
        raise InvalidInputError(
            f"classes must be a list of labels, e.g. ['cat', 'dog'], got {classes!r}."
        )
    out = [plain(c) for c in classes]
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


def assign_keys(classes: list[Any]) -> list[str]:
    """One key per class: the class itself when it is one free character, else the next
    free key of :data:`CLASS_KEYS` (``""`` when they run out: buttons only).

    >>> assign_keys([0, 1, 2])
    ['0', '1', '2']
    >>> assign_keys(["cat", "dog", "y"])
    ['1', '2', 'y']
    >>> assign_keys(["s", "k"])  # reserved for skip / move: numbered instead
    ['1', '2']
    """
    keys = [""] * len(classes)
    taken: set[str] = set()
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


def check_label(label: Any, classes: list[Any]) -> Any:
    """``label`` as a Python scalar, or :class:`UnknownLabelError`.

    >>> check_label(np.int64(1), [0, 1])
    1
    """
    label = plain(label)
    if label not in classes:
        raise UnknownLabelError(
            f"{label!r} is not one of the classes {classes!r}; pass one of them."
        )
    return label


def check_eval_set(eval_set: Any, classes: list[Any]) -> tuple[Any, np.ndarray]:
    """``(X_test, y_test)`` with matching lengths and labels among ``classes``."""
    if not isinstance(eval_set, tuple | list) or len(eval_set) != 2:
        raise InvalidInputError("eval_set must be a pair (X_test, y_test).")
    X_eval = V.check_X(eval_set[0], name="eval_set X", allow_text=True)
    y_eval = V.check_y(eval_set[1], V.n_rows(X_eval), name="eval_set y")
    unknown = sorted({plain(v) for v in y_eval} - set(classes), key=str)
    if unknown:
        raise UnknownLabelError(
            f"eval_set y has labels {unknown!r} that are not in classes {classes!r}; "
            "add them to classes or drop those rows."
        )
    return X_eval, y_eval


def check_oracle(oracle: Any, ids: list[Any], classes: list[Any]) -> np.ndarray:
    """True labels aligned with the pool, from an array or a function ``item_id -> label``."""
    if callable(oracle):
        values = [oracle(i) for i in ids]
    else:
        values = oracle if isinstance(oracle, list) else list(np.asarray(oracle).tolist())
    if len(values) != len(ids):
        raise InvalidInputError(
            f"oracle has {len(values)} labels but the pool has {len(ids)} items; "
            "pass one true label per row of X, or a function item_id -> label."
        )
    values = [plain(v) for v in values]
    unknown = sorted(set(values) - set(classes), key=str)
    if unknown:
        raise UnknownLabelError(
            f"oracle has labels {unknown[:5]!r} that are not in classes {classes!r}."
        )
    return np.asarray(values)


def open_store(
    store: Any, classes: list[Any], annotator: str | None, *, quiet: bool = False
) -> Any:
    """A :class:`~alwidgets.store.SessionStore` from a path, an open store, or ``None``.

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
                f"the store {str(store.path)!r} has classes {store.classes!r}, but "
                f"classes {classes!r} were passed; use the same classes or a new file."
            )
        return store
    if isinstance(store, str | os.PathLike):
        return SessionStore(store, classes=classes, annotator=annotator)
    raise InvalidInputError(
        f"store must be a file path or a SessionStore, got {type(store).__name__}."
    )

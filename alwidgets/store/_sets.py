"""Multi-label answers: a set of classes, checked, kept in the session's class order.

In a multi-label session (``SessionStore(..., multi_label=True)``) an answer is the
set of classes that apply; the empty set means "none of these". The store keeps it
as a JSON array in class order (SQLite: text; PostgreSQL: ``jsonb``), so equal
sets are equal values and the views are exact, and hands it back as a tuple.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from typing import Any

from alwidgets.exceptions import InvalidInputError
from alwidgets.store._codec import Value, encode_label

__all__ = ["decode_labels", "encode_answer", "encode_labels"]


def _is_set(value: Any) -> bool:
    """Whether ``value`` is a collection of labels rather than one label."""
    return isinstance(value, Iterable) and not isinstance(value, str | bytes)


def encode_labels(labels: Any, classes: list[Value]) -> tuple[Value, ...]:
    """Check a multi-label answer (any iterable of classes) and return it in class order.

    The empty set is a valid answer ("none of these"). A duplicate or an unknown class,
    or a bare class where a set is expected, is refused.

    Examples
    --------
    >>> encode_labels({"sport", "politics"}, ["politics", "economy", "sport"])
    ('politics', 'sport')
    >>> encode_labels([], ["politics", "sport"])
    ()
    >>> encode_labels("sport", ["politics", "sport"])
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: this session is multi-label: an answer is the set of classes that apply, got the bare class 'sport'; pass ['sport'] (or [] for none of them).
    >>> encode_labels(["sport", "sport"], ["politics", "sport"])
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: labels ['sport', 'sport'] name 'sport' more than once; list each class once.
    """
    if labels is None:
        raise InvalidInputError(
            "labels is None; pass the set of classes that apply ([] for none of them), or use "
            "skip()/unsure()."
        )
    if not _is_set(labels) or isinstance(labels, Mapping):
        raise InvalidInputError(
            "this session is multi-label: an answer is the set of classes that apply, got the "
            f"bare class {labels!r}; pass [{labels!r}] (or [] for none of them)."
        )
    given = list(labels)
    values = [encode_label(value, classes) for value in given]
    seen: set[tuple[str, Value]] = set()
    for value in values:
        key = (type(value).__name__, value)
        if key in seen:
            raise InvalidInputError(
                f"labels {given!r} name {value!r} more than once; list each class once."
            )
        seen.add(key)
    position = {(type(c).__name__, c): i for i, c in enumerate(classes)}
    return tuple(sorted(values, key=lambda v: position[(type(v).__name__, v)]))


def encode_answer(
    label: Any, classes: list[Value] | None, multi_label: bool
) -> Value | tuple[Value, ...]:
    """A label of a session of either kind: one class, or (multi-label) a set of them.

    Examples
    --------
    >>> encode_answer("cat", ["cat", "dog"], False)
    'cat'
    >>> encode_answer(["dog", "cat"], ["cat", "dog"], True)
    ('cat', 'dog')
    >>> encode_answer(["cat"], ["cat", "dog"], False)
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: this session is single-label: an answer is one class, got ['cat']; pass one of them (a set of classes needs a multi-label session: SessionStore(..., multi_label=True) on a new session).
    """
    if multi_label:
        assert classes is not None  # a multi-label session always has its classes
        return encode_labels(label, classes)
    if _is_set(label):
        raise InvalidInputError(
            f"this session is single-label: an answer is one class, got {label!r}; pass one "
            "of them (a set of classes needs a multi-label session: SessionStore(..., "
            "multi_label=True) on a new session)."
        )
    return encode_label(label, classes)


def decode_labels(value: Any) -> tuple[Value, ...] | None:
    """A stored multi-label answer (JSON array text, or a list from ``jsonb``) as a tuple.

    Examples
    --------
    >>> decode_labels('["a",3]'), decode_labels(["a"]), decode_labels(None)
    (('a', 3), ('a',), None)
    """
    if value is None:
        return None
    if isinstance(value, str):
        value = json.loads(value)
    return tuple(value)

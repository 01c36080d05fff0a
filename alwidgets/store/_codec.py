"""Validate and encode what goes into a session store.

Everything a caller hands to :class:`~alwidgets.store.SessionStore` passes
through here before it reaches SQLite, so a bad value fails *before* anything is
written. Item ids and labels are stored with SQLite's own type tag (``integer``
or ``text``), so ``1`` and ``"1"`` stay distinct and come back exactly as given.

Examples
--------
>>> import numpy as np
>>> encode_item_id(np.int64(7)), encode_item_id("img_7.png")
(7, 'img_7.png')
>>> encode_item_id(1.5)
Traceback (most recent call last):
...
alwidgets.exceptions.InvalidInputError: item id 1.5 has type float; item ids must be int or str (the values of your DataFrame index). Convert it, e.g. int(1.5) or str(1.5).
"""

from __future__ import annotations

import datetime as dt
import json
import math
import numbers
from collections.abc import Iterable
from typing import Any

import numpy as np

from alwidgets.exceptions import InvalidInputError, UnknownLabelError

__all__ = [
    "QUERY_INFO",
    "Value",
    "encode_annotator",
    "encode_classes",
    "encode_item_id",
    "encode_label",
    "encode_metrics",
    "encode_model_point",
    "encode_overlap",
    "encode_query_info",
    "encode_timestamp",
]

#: A value stored with its SQLite type: item ids, labels, model versions.
Value = int | str

#: Keyword arguments accepted by ``label``/``skip``/``unsure`` besides ``annotator``.
QUERY_INFO = ("shown_at", "model_version", "score", "rank", "strategy")

_INT64_MIN, _INT64_MAX = -(2**63), 2**63 - 1


def _encode_value(value: Any, what: str, fix: str) -> Value:
    """Return ``value`` as a plain ``int`` or ``str``, or raise naming ``what``."""
    if value is None:
        raise InvalidInputError(f"{what} is None; {fix}")
    if isinstance(value, bool | np.bool_):
        raise InvalidInputError(
            f"{what} {value!r} is a bool; {what}s must be int or str. "
            f"Use 0/1 or 'yes'/'no' instead."
        )
    if isinstance(value, numbers.Integral):
        out = int(value)
        if not _INT64_MIN <= out <= _INT64_MAX:
            raise InvalidInputError(
                f"{what} {out} does not fit in 64 bits; use a smaller int or a str."
            )
        return out
    if isinstance(value, str):
        text = str(value)  # np.str_ -> str
        if text == "":
            raise InvalidInputError(f"{what} is an empty string; {fix}")
        try:
            text.encode("utf-8")
        except UnicodeEncodeError as err:
            raise InvalidInputError(
                f"{what} {text!r} is not valid Unicode text ({err.reason}); "
                "remove lone surrogate characters."
            ) from err
        return text
    if isinstance(value, numbers.Real) and math.isnan(float(value)):
        raise InvalidInputError(f"{what} is NaN (a missing value); {fix}")
    kind = type(value).__name__
    example = f"int({value!r}) or str({value!r})" if isinstance(value, numbers.Real) else "str(x)"
    raise InvalidInputError(
        f"{what} {value!r} has type {kind}; {what}s must be int or str "
        f"(the values of your DataFrame index). Convert it, e.g. {example}."
    )


def encode_item_id(item_id: Any) -> Value:
    """Check an item id and return it as a plain ``int`` or ``str``.

    Parameters
    ----------
    item_id : int or str
        A value of the pool's index. NumPy integers become ``int``. ``bool``,
        ``float``, ``None``, ``""``, tuples and other objects are rejected.

    Returns
    -------
    int or str

    Raises
    ------
    InvalidInputError
        Naming the accepted types.

    Examples
    --------
    >>> encode_item_id("a"), encode_item_id(3)
    ('a', 3)
    >>> encode_item_id(None)
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: item id is None; pass the id (index value) of the item you answered.
    """
    return _encode_value(item_id, "item id", "pass the id (index value) of the item you answered.")


def encode_label(label: Any, classes: list[Value] | None) -> Value:
    """Check a label (against ``classes`` when given) and return it as ``int``/``str``.

    Examples
    --------
    >>> encode_label("cat", ["cat", "dog"])
    'cat'
    >>> encode_label("cow", ["cat", "dog"])
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.UnknownLabelError: label 'cow' is not one of this session's classes ['cat', 'dog']; pick one of them (or open a new session file for other classes).
    """
    value = _encode_value(label, "label", "pass one of the classes, or use skip()/unsure().")
    if classes is not None and value not in classes:
        hint = ""
        twin: Value | None = None
        if isinstance(value, int):
            twin = str(value)
        elif value.lstrip("-").isdigit():
            twin = int(value)
        if twin is not None and twin in classes:
            hint = f" Did you mean {twin!r}? Ints and strings are different labels."
        raise UnknownLabelError(
            f"label {value!r} is not one of this session's classes {classes!r}; pick one of "
            f"them (or open a new session file for other classes).{hint}"
        )
    return value


def encode_classes(classes: Any) -> list[Value] | None:
    """Check a list of class labels: unique ints or strs, at least one.

    Examples
    --------
    >>> encode_classes(("cat", "dog"))
    ['cat', 'dog']
    >>> encode_classes(["a", "a"])
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: classes contain duplicates ['a']; list each class once.
    """
    if classes is None:
        return None
    if isinstance(classes, str | bytes) or not isinstance(classes, Iterable):
        raise InvalidInputError(
            f"classes must be a list of labels, got {type(classes).__name__} {classes!r}; "
            "e.g. classes=['cat', 'dog']."
        )
    out = [_encode_value(c, "class", "list only real labels.") for c in classes]
    if not out:
        raise InvalidInputError("classes is empty; pass the labels to choose from.")
    dupes = sorted({str(c) for c in out if out.count(c) > 1})
    if dupes:
        raise InvalidInputError(f"classes contain duplicates {dupes}; list each class once.")
    return out


def encode_annotator(annotator: Any) -> str:
    """Check an annotator name (a non-empty ``str``).

    Examples
    --------
    >>> encode_annotator("alice")
    'alice'
    """
    if not isinstance(annotator, str) or not annotator.strip():
        raise InvalidInputError(
            f"annotator must be a non-empty str, got {annotator!r}; e.g. annotator='alice'."
        )
    return str(annotator)


def encode_timestamp(value: Any, what: str = "shown_at") -> float | None:
    """Convert a timestamp to epoch seconds (``None`` stays ``None``).

    Accepts epoch seconds (int/float), :class:`datetime.datetime` (naive means
    local time, as in :meth:`datetime.datetime.timestamp`), :class:`pandas.Timestamp`
    and :class:`numpy.datetime64`.

    Examples
    --------
    >>> import datetime as dt
    >>> encode_timestamp(dt.datetime(2024, 1, 1, tzinfo=dt.timezone.utc))
    1704067200.0
    """
    if value is None:
        return None
    if isinstance(value, np.datetime64):
        if np.isnat(value):
            return None
        return float(value.astype("datetime64[us]").astype(np.int64)) / 1e6
    if isinstance(value, dt.datetime):
        return value.timestamp()
    if isinstance(value, numbers.Real) and not isinstance(value, bool | np.bool_):
        out = float(value)
        if not math.isfinite(out) or out < 0:
            raise InvalidInputError(
                f"{what}={value!r} is not a valid time; pass epoch seconds (time.time()) "
                "or a datetime."
            )
        return out
    raise InvalidInputError(
        f"{what} has type {type(value).__name__}; pass epoch seconds (time.time()) or a datetime."
    )


def encode_query_info(
    *,
    shown_at: Any,
    model_version: Any,
    score: Any,
    rank: Any,
    strategy: Any,
    answered_at: float,
) -> tuple[float | None, Value | None, float | None, int | None, str | None]:
    """Check the query-time context of an answer.

    Returns ``(shown_at, model_version, score, rank, strategy)`` ready to store.
    A NaN ``score`` means "no score" and is stored as missing. ``rank`` is
    1-based: the item's place in the ranking it was picked from (1 = first, what
    a card shows as ``#1``).

    Examples
    --------
    >>> encode_query_info(shown_at=1.0, model_version=2, score=0.5, rank=1,
    ...                   strategy="margin", answered_at=3.0)
    (1.0, 2, 0.5, 1, 'margin')
    >>> encode_query_info(shown_at=None, model_version=None, score=None, rank=0,
    ...                   strategy=None, answered_at=3.0)
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: rank must be a positive int (1-based: 1 = first in the ranking the item was picked from), got 0.
    """
    shown = encode_timestamp(shown_at)
    if shown is not None and shown > answered_at:
        if shown > answered_at + 1.0:
            raise InvalidInputError(
                f"shown_at is {shown - answered_at:.1f} s in the future; pass the time the "
                "item was shown (before it was answered)."
            )
        shown = answered_at  # clock jitter below a second
    version = (
        None
        if model_version is None
        else _encode_value(model_version, "model_version", "pass an int or str version.")
    )
    value: float | None = None
    if score is not None:
        if not isinstance(score, numbers.Real) or isinstance(score, bool | np.bool_):
            raise InvalidInputError(f"score must be a number, got {score!r}.")
        value = float(score)
        if math.isnan(value):
            value = None
        elif not math.isfinite(value):
            raise InvalidInputError(f"score must be finite, got {score!r}.")
    position: int | None = None
    if rank is not None:
        if (
            not isinstance(rank, numbers.Integral)
            or isinstance(rank, bool | np.bool_)
            or int(rank) < 1
        ):
            raise InvalidInputError(
                "rank must be a positive int (1-based: 1 = first in the ranking the item was "
                f"picked from), got {rank!r}."
            )
        position = int(rank)
    if strategy is not None and (not isinstance(strategy, str) or not strategy):
        raise InvalidInputError(f"strategy must be the strategy's name (a str), got {strategy!r}.")
    return shown, version, value, position, None if strategy is None else str(strategy)


def encode_overlap(overlap: Any) -> int | None:
    """Check ``label(..., overlap=)``: a positive int, or ``None`` (no claim check).

    Examples
    --------
    >>> encode_overlap(2), encode_overlap(None)
    (2, None)
    """
    if overlap is None:
        return None
    if isinstance(overlap, bool | np.bool_) or not isinstance(overlap, numbers.Integral):
        overlap_ok = False
    else:
        overlap_ok = int(overlap) >= 1
    if not overlap_ok:
        raise InvalidInputError(
            f"overlap must be a positive int (how many annotators label each item) or "
            f"None (no check), got {overlap!r}."
        )
    return int(overlap)


def encode_metrics(metrics: dict[str, Any]) -> str:
    """The metrics of a learning-curve point as JSON: numbers (NaN/inf: missing) or str.

    Examples
    --------
    >>> encode_metrics({"accuracy": 0.9, "loss": float("nan"), "note": "warm"})
    '{"accuracy": 0.9, "loss": null, "note": "warm"}'
    """
    clean: dict[str, float | int | str | None] = {}
    for key, metric in metrics.items():
        if isinstance(metric, str) or metric is None:
            clean[key] = metric
        elif isinstance(metric, numbers.Real) and not isinstance(metric, bool):
            number = float(metric) if not isinstance(metric, numbers.Integral) else int(metric)
            if isinstance(number, float) and not math.isfinite(number):
                clean[key] = None
            else:
                clean[key] = number
        else:
            raise InvalidInputError(
                f"metric {key}={metric!r} must be a number or a str; pass e.g. accuracy=0.9."
            )
    return json.dumps(clean, allow_nan=False)


def encode_model_point(
    version: Any, n_labels: Any, metrics: dict[str, Any]
) -> tuple[Value, int, str]:
    """Check a learning-curve point (``log_model``): version, label count, metrics JSON.

    Examples
    --------
    >>> encode_model_point(3, 20, {"accuracy": 0.5})
    (3, 20, '{"accuracy": 0.5}')
    """
    if version is None:
        raise InvalidInputError("version is None; pass the model's int or str version.")
    value = _encode_value(version, "model_version", "pass an int or str version.")
    if not isinstance(n_labels, numbers.Integral) or isinstance(n_labels, bool) or n_labels < 0:
        raise InvalidInputError(f"n_labels must be a non-negative int, got {n_labels!r}.")
    return value, int(n_labels), encode_metrics(metrics)

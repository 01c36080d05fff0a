"""Prequential accuracy: the model's suggestion against the person's next answers.

Each batch is shown with the current model's suggestion (its predicted class) and
then answered. Comparing the two *before* the model trains on those answers is a
test on labels the model has never seen: "prequential" (predict, then learn)
evaluation, which needs no held-out labels. Import from :mod:`alwidgets.stopping`.

Read it for what it is: the items were picked *because* the model was unsure about
them (margin, entropy, ...), so the model's accuracy on typical items is higher than
this figure; it is a floor and a trend, not held-out accuracy.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import pandas as pd

from alwidgets.exceptions import InvalidInputError

__all__ = ["PrequentialAccuracy", "prequential_accuracy"]

_COLUMNS = ["batch", "n_labels", "n", "matched", "accuracy"]


def _missing(v: Any) -> bool:
    """No suggestion / no answer: None, NaN or pandas' NA (a label set is never missing)."""
    if isinstance(v, list | tuple | set | frozenset | np.ndarray):
        return False
    try:
        return bool(pd.isna(v))
    except (TypeError, ValueError):
        return False


def _key(v: Any) -> Any:
    """A comparable form of one suggestion or answer: sets compare as sets, numpy as Python."""
    if isinstance(v, np.ndarray):
        v = v.tolist()
    if isinstance(v, list | tuple | set | frozenset):
        return frozenset(_key(x) for x in v)
    return v.item() if isinstance(v, np.generic) else v


def _rows(values: Any, name: str) -> list[Any]:
    if isinstance(values, pd.Series | pd.Index):
        return values.tolist()
    if isinstance(values, np.ndarray) and values.ndim == 2:
        # an indicator matrix: one label set (of column positions) per item
        return [frozenset(np.flatnonzero(row).tolist()) for row in values]
    if isinstance(values, np.ndarray):
        return values.tolist()
    if isinstance(values, str) or not isinstance(values, Sequence):
        raise InvalidInputError(
            f"{name} must be one value per item (a list, array or Series), got "
            f"{type(values).__name__}."
        )
    return list(values)


def _matches(suggested: Any, answered: Any) -> tuple[int, int]:
    """(matched, compared): items with both a suggestion and an answer, and how many agree."""
    s, a = _rows(suggested, "suggested"), _rows(answered, "answered")
    if len(s) != len(a):
        raise InvalidInputError(
            f"suggested and answered must describe the same items: {len(s)} suggestions, "
            f"{len(a)} answers."
        )
    pairs = [(x, y) for x, y in zip(s, a, strict=True) if not (_missing(x) or _missing(y))]
    matched = sum(_same(_key(x), _key(y)) for x, y in pairs)
    return matched, len(pairs)


def _same(x: Any, y: Any) -> bool:
    return type(x) is type(y) and bool(x == y)


def prequential_accuracy(suggested: Any, answered: Any) -> float:
    """Share of answered items whose answer matched the model's suggestion.

    Items without a suggestion (no model yet) or without an answer (skipped, unsure)
    are left out; NaN when nothing is left. Multi-label: sets (or tuples, or rows of an
    indicator matrix) match when they are equal.

    Parameters
    ----------
    suggested : sequence
        The model's suggestion per item, made before the answers were known.
    answered : sequence
        The person's answer per item (``None`` for a skip).

    Examples
    --------
    >>> prequential_accuracy(["cat", "dog", "dog", None], ["cat", "cat", "dog", "dog"])
    0.6666666666666666
    >>> prequential_accuracy([("a",), ("a", "b")], [("a",), ("b",)])
    0.5
    """
    matched, n = _matches(suggested, answered)
    return matched / n if n else float("nan")


class PrequentialAccuracy:
    """The model's suggestions against the next answers, fed batch by batch.

    Call :meth:`update` when a batch is answered, with the suggestions the model made
    for it *before* training on it. :attr:`history` keeps one row per batch;
    :meth:`recent` pools the last ``window`` compared items; :meth:`report` gives the
    figures and a sentence that says what the number is.

    Parameters
    ----------
    window : int, default 50
        Items pooled by :meth:`recent` (the newest ones).

    Examples
    --------
    >>> p = PrequentialAccuracy(window=6)
    >>> p.update(["a", "b", "b"], ["a", "a", "b"], n_labels=3)
    0.6666666666666666
    >>> p.update(["a", "a", "b"], ["a", "a", "b"], n_labels=6)
    1.0
    >>> p.recent()
    (5, 6)
    >>> p.report()["sentence"]
    "the model's suggestion matched your answer on 5 of the last 6 labels (83 %) — measured before it trained on them, on items picked because it was unsure: a floor, not held-out accuracy"
    """

    def __init__(self, window: int = 50) -> None:
        if isinstance(window, bool) or not isinstance(window, int) or window <= 0:
            raise InvalidInputError(f"window must be a positive integer, got {window!r}.")
        self.window = window
        self._rows: list[dict[str, Any]] = []
        self._outcomes: list[bool] = []

    def update(self, suggested: Any, answered: Any, *, n_labels: int | None = None) -> float:
        """Record one answered batch; returns its prequential accuracy (NaN if nothing compared)."""
        s, a = _rows(suggested, "suggested"), _rows(answered, "answered")
        matched, n = _matches(s, a)
        self._outcomes += [
            _same(_key(x), _key(y))
            for x, y in zip(s, a, strict=True)
            if not (_missing(x) or _missing(y))
        ]
        accuracy = matched / n if n else float("nan")
        self._rows.append(
            {
                "batch": len(self._rows),
                "n_labels": n_labels,
                "n": n,
                "matched": matched,
                "accuracy": accuracy,
            }
        )
        return accuracy

    @property
    def history(self) -> pd.DataFrame:
        """One row per batch: ``batch``, ``n_labels``, ``n`` compared, ``matched``, ``accuracy``."""
        return pd.DataFrame(self._rows, columns=_COLUMNS)

    def recent(self) -> tuple[int, int]:
        """(matched, compared) over the last ``window`` compared items."""
        last = self._outcomes[-self.window :]
        return int(sum(last)), len(last)

    def report(self) -> dict[str, Any]:
        """``matched``, ``n`` and ``accuracy`` over the recent items, ``overall``, ``sentence``."""
        matched, n = self.recent()
        total = len(self._outcomes)
        overall = sum(self._outcomes) / total if total else float("nan")
        accuracy = matched / n if n else float("nan")
        if n == 0:
            sentence = (
                "suggestion vs answer: no answered item had a model suggestion yet "
                "(prequential accuracy starts with the first model)"
            )
        else:
            sentence = (
                f"the model's suggestion matched your answer on {matched} of the last {n} "
                f"labels ({round(100 * accuracy)} %) — measured before it trained on them, on "
                "items picked because it was unsure: a floor, not held-out accuracy"
            )
        return {
            "matched": matched,
            "n": n,
            "accuracy": accuracy,
            "overall": overall,
            "sentence": sentence,
        }

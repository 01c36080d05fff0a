"""``check_texts``: what a text model accepts (non-empty strings), checked with a clear
error that shows the first bad rows and the fix."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np

from alwidgets.exceptions import InvalidInputError

__all__ = ["check_texts"]

_SHOW_ROWS = 10


def check_texts(X: Any, name: str = "texts") -> list[str]:
    """Validate raw texts: a 1-D sequence (or one-column frame) of non-empty strings.

    Raises
    ------
    InvalidInputError
        A single string, a 2-D input with several columns, or rows that are not
        strings (None, NaN, bytes, numbers) or are empty; the message names the rows
        (index labels of a pandas input, else positions).

    Examples
    --------
    >>> check_texts(["free money", "lunch at noon?"])
    ['free money', 'lunch at noon?']
    >>> check_texts(["ok", None, "", b"raw"])
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: texts must be non-empty strings; not a string at rows [1, 3] (NoneType, bytes); empty at rows [2]. ...
    """
    if isinstance(X, str | bytes):
        raise InvalidInputError(
            f"{name} must be a sequence of strings, got one string; wrap it in a list."
        )
    labels: Sequence[Any] | None = None
    if hasattr(X, "iloc"):  # pandas
        if getattr(X, "ndim", 1) == 2:
            if X.shape[1] != 1:
                raise InvalidInputError(
                    f"{name} must be one column of text, got a frame with {X.shape[1]} columns; "
                    "select the text column, e.g. df['text']."
                )
            X = X.iloc[:, 0]
        labels = list(X.index)
        values = list(X.to_numpy())
    else:
        arr = np.asarray(X, dtype=object) if not isinstance(X, np.ndarray) else X
        if arr.ndim == 2 and arr.shape[1] == 1:
            arr = arr[:, 0]
        if arr.ndim != 1:
            raise InvalidInputError(
                f"{name} must be a 1-D sequence of strings, got shape {arr.shape}; pass a list "
                "or a pandas Series of texts."
            )
        values = list(arr)
    bad_type = [i for i, v in enumerate(values) if not isinstance(v, str)]
    empty = [i for i, v in enumerate(values) if isinstance(v, str) and not v.strip()]
    if bad_type or empty:

        def rows(positions: list[int]) -> str:
            shown = [labels[i] if labels is not None else i for i in positions[:_SHOW_ROWS]]
            more = f" and {len(positions) - _SHOW_ROWS} more" if len(positions) > _SHOW_ROWS else ""
            return f"{shown}{more}"

        parts = []
        if bad_type:
            kinds = sorted({type(values[i]).__name__ for i in bad_type})
            parts.append(f"not a string at rows {rows(bad_type)} ({', '.join(kinds)})")
        if empty:
            parts.append(f"empty at rows {rows(empty)}")
        raise InvalidInputError(
            f"{name} must be non-empty strings; {'; '.join(parts)}. Drop or fill those rows "
            "(bytes: decode them, e.g. b.decode('utf-8'))."
        )
    return [str(v) for v in values]

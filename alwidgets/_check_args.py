"""Checks of scalar arguments: counts, seeds, the settings of a team session.

Public through :mod:`alwidgets._validation`. Each raises
:class:`~alwidgets.exceptions.InvalidInputError` (also a ``ValueError``) naming the
argument, what it means and a value that works.

Examples
--------
>>> check_n(3)
3
>>> check_n(True)
Traceback (most recent call last):
...
alwidgets.exceptions.InvalidInputError: n must be a positive integer (how many items to return), got True.
"""

from __future__ import annotations

import numbers
from typing import Any

import numpy as np

from alwidgets.exceptions import InvalidInputError

__all__ = ["check_int", "check_n", "check_team", "resolve_seed"]


def check_n(n: Any, *, name: str = "n") -> int:
    """Validate a batch size: a positive integer (``bool`` is rejected).

    Examples
    --------
    >>> check_n(5)
    5
    >>> check_n(2.5)
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: n must be a positive integer (how many items to return), got 2.5.
    """
    if isinstance(n, bool) or not isinstance(n, numbers.Integral) or n <= 0:
        raise InvalidInputError(
            f"{name} must be a positive integer (how many items to return), got {n!r}."
        )
    return int(n)


def check_int(value: Any, name: str, minimum: int, what: str) -> int:
    """Validate an integer argument of at least ``minimum`` (``bool`` is rejected).

    Parameters
    ----------
    value : object
    name : str
        The argument's name, for the message.
    minimum : int
        Smallest accepted value.
    what : str
        What the argument means, for the message.

    Examples
    --------
    >>> check_int(np.int64(0), "initial", 0, "size of the random start")
    0
    >>> check_int(0, "seeds", 1, "number of seeds")
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: seeds must be an integer >= 1 (number of seeds), got 0.
    """
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < minimum:
        raise InvalidInputError(f"{name} must be an integer >= {minimum} ({what}), got {value!r}.")
    return int(value)


def resolve_seed(random_state: Any) -> int:
    """One integer seed per run (to record, so the run can be replayed).

    ``None`` draws fresh entropy, a numpy ``Generator`` draws from itself, a
    non-negative int is used as it is.

    Examples
    --------
    >>> resolve_seed(7)
    7
    >>> resolve_seed(-1)
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: random_state must be >= 0, got -1.
    """
    if random_state is None:
        return int(np.random.SeedSequence().generate_state(1)[0])
    if isinstance(random_state, np.random.Generator):
        return int(random_state.integers(2**32))
    if isinstance(random_state, numbers.Integral) and not isinstance(random_state, bool):
        if random_state < 0:
            raise InvalidInputError(f"random_state must be >= 0, got {random_state}.")
        return int(random_state)
    raise InvalidInputError(
        f"random_state must be None, a non-negative int or a numpy Generator, got "
        f"{type(random_state).__name__}; pass e.g. random_state=0."
    )


def check_team(overlap: Any, lease_seconds: Any) -> tuple[int, float]:
    """``overlap`` a positive int, ``lease_seconds`` a positive number.

    Examples
    --------
    >>> check_team(2, 60)
    (2, 60.0)
    >>> check_team(0, 60)
    Traceback (most recent call last):
    ...
    alwidgets.exceptions.InvalidInputError: overlap must be a positive int (how many annotators label each item), got 0; ...
    """
    if isinstance(overlap, bool) or not isinstance(overlap, int | np.integer) or overlap < 1:
        raise InvalidInputError(
            f"overlap must be a positive int (how many annotators label each item), got "
            f"{overlap!r}; use 1 (no item twice) or 2 (two opinions per item)."
        )
    if (
        isinstance(lease_seconds, bool)
        or not isinstance(lease_seconds, int | float | np.number)
        or not np.isfinite(lease_seconds)
        or lease_seconds <= 0
    ):
        raise InvalidInputError(
            f"lease_seconds must be a positive number of seconds, got {lease_seconds!r}; "
            "e.g. lease_seconds=300."
        )
    return int(overlap), float(lease_seconds)

"""The suite's one rule for what a machine lacks: skip with the reason, but never in CI.

A test that needs something optional (an extra, Node, Chromium, the test PostgreSQL
server) skips on a developer's machine that lacks it, saying what to install. Under
``CI=true`` (any case) the same gap is a failure: CI installs everything, so a skip
there would hide a missing install step.

``tests/`` is on ``sys.path`` for every test (``tests/conftest.py`` puts it there), so
any test module or helper imports this as ``from helpers import ...``.
"""

from __future__ import annotations

import importlib
import os
from types import ModuleType
from typing import NoReturn

import pytest

__all__ = ["import_or_skip", "in_ci", "skip_or_fail_in_ci"]


def in_ci() -> bool:
    """Whether the suite runs in CI (``CI=true``, in any case)."""
    return os.environ.get("CI", "").strip().lower() == "true"


def skip_or_fail_in_ci(reason: str, *, module: bool = False) -> NoReturn:
    """Skip the test (``module``: the whole module) with ``reason``; under ``CI=true`` fail.

    ``reason`` says what is missing and how to get it; the failure starts with
    ``CI=true but`` so the log says why a skip became a failure.
    """
    __tracebackhide__ = True  # the skip is reported at the caller's line, not here
    if in_ci():
        pytest.fail(f"CI=true but {reason}", pytrace=False)
    pytest.skip(reason, allow_module_level=module)


def import_or_skip(name: str, reason: str) -> ModuleType:
    """``pytest.importorskip`` that fails under ``CI=true`` (an extra CI must have)."""
    __tracebackhide__ = True
    try:
        return importlib.import_module(name)
    except ImportError as err:
        skip_or_fail_in_ci(f"{reason} ({err})")

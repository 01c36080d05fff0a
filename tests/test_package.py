"""The public surface: curated, importable, lazily loaded."""

from __future__ import annotations

import subprocess
import sys

import pytest

import alwidgets


def test_all_names_resolve() -> None:
    for name in alwidgets.__all__:
        assert getattr(alwidgets, name) is not None, name


def test_unknown_attribute_raises() -> None:
    with pytest.raises(AttributeError, match="no attribute 'nope'"):
        alwidgets.nope  # noqa: B018


def test_store_import_does_not_pull_widget_stack() -> None:
    code = (
        "import sys, alwidgets; alwidgets.SessionStore; "
        "print(any(m.split('.')[0] in {'ipywidgets', 'plotly', 'anywidget'} for m in sys.modules))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "False"


def test_errors_are_also_builtin_errors() -> None:
    assert issubclass(alwidgets.InvalidInputError, ValueError)
    assert issubclass(alwidgets.EstimatorError, TypeError)
    assert issubclass(alwidgets.StoreMismatchError, alwidgets.StoreError)
    for name in alwidgets.__all__:
        obj = getattr(alwidgets, name)
        if isinstance(obj, type) and issubclass(obj, Exception):
            assert issubclass(obj, alwidgets.ALWidgetsError)

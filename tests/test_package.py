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


HEADLESS = [
    "alwidgets.store",
    "alwidgets.learner",
    "alwidgets.strategies",
    "alwidgets.stopping",
    "alwidgets.simulation",
    "alwidgets.review",
    "alwidgets.features",
    "alwidgets.pools",
]


@pytest.mark.parametrize("module", HEADLESS)
def test_headless_layers_do_not_pull_the_widget_stack(module: str) -> None:
    """Scripts, workers and servers import these without ipywidgets, plotly or torch."""
    code = (
        f"import sys, importlib; importlib.import_module({module!r}); "
        "heavy = {'ipywidgets', 'plotly', 'anywidget', 'torch', 'dask', 'psycopg'}; "
        "print(sorted({m.split('.')[0] for m in sys.modules} & heavy))"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]", f"{module} imports {out.stdout.strip()}"


def test_store_name_does_not_pull_widget_stack() -> None:
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

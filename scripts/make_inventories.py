"""Write the intersphinx inventories the docs link to, offline, from installed packages.

Sphinx's intersphinx normally downloads each project's ``objects.inv``; the docs
build here must not touch the network. This script writes an inventory (Sphinx's
format version 2: a text header, then zlib-compressed lines ``name domain:role
priority uri dispname``) for Python, NumPy, SciPy, pandas, scikit-learn and Dask
by walking the public names of the installed packages, with each project's URL
layout, into ``docs/_inventories/``. ``docs/conf.py`` points intersphinx at those
files, so the build resolves ``pandas.DataFrame`` or ``sklearn.base.clone`` to the
projects' sites without downloading anything. The files are in git; re-run this
after upgrading a package whose reference moved::

    python scripts/make_inventories.py [--out docs/_inventories]
"""

from __future__ import annotations

import argparse
import builtins
import importlib
import inspect
import sys
import types
import zlib
from collections.abc import Iterable, Iterator
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# (name, role, uri); uri may use "$" for the name, as in Sphinx inventories.
Entry = tuple[str, str, str]


def _role(value: object) -> str:
    if isinstance(value, types.ModuleType):
        return "module"
    if inspect.isclass(value):
        return "exception" if issubclass(value, BaseException) else "class"
    if callable(value):
        return "function"
    return "data"


def _public(module: types.ModuleType) -> Iterator[tuple[str, object]]:
    names = getattr(module, "__all__", None)
    if names is None:
        names = [n for n in dir(module) if not n.startswith("_")]
    for name in names:
        try:
            yield name, getattr(module, name)
        except (AttributeError, ImportError):  # e.g. scikit-learn's experimental names
            continue


def _members(cls: type) -> Iterator[tuple[str, str]]:
    for name, value in inspect.getmembers(cls):
        if name.startswith("_"):
            continue
        role = "attribute" if isinstance(value, property) or not callable(value) else "method"
        yield name, role


def python_entries() -> Iterator[Entry]:
    stdtypes = {
        "str",
        "bytes",
        "list",
        "tuple",
        "dict",
        "set",
        "frozenset",
        "range",
        "memoryview",
        "bytearray",
    }
    for name, value in _public(builtins):
        if inspect.isclass(value) and issubclass(value, BaseException):
            yield name, "exception", "library/exceptions.html#$"
        elif name in stdtypes:
            yield name, "class", "library/stdtypes.html#$"
        elif inspect.isclass(value):
            yield name, "class", "library/functions.html#$"
        elif callable(value):
            yield name, "function", "library/functions.html#$"
    for term in (
        "sequence",
        "iterable",
        "iterator",
        "mapping",
        "callable",
        "path-like object",
        "file-like object",
        "hashable",
        "generator",
        "context manager",
    ):
        yield term, "std:term", f"glossary.html#term-{term.replace(' ', '-')}"
    yield "bltin-boolean-values", "std:label", "library/stdtypes.html#$"
    yield "None", "data", "library/constants.html#$"
    yield "True", "data", "library/constants.html#$"
    yield "False", "data", "library/constants.html#$"
    for modname in (
        "pathlib",
        "os",
        "os.path",
        "collections",
        "collections.abc",
        "typing",
        "datetime",
        "sqlite3",
        "concurrent.futures",
        "threading",
        "json",
        "warnings",
        "random",
        "io",
        "contextlib",
        "dataclasses",
        "enum",
        "functools",
        "itertools",
        "multiprocessing",
        "subprocess",
        "tempfile",
        "time",
        "signal",
        "logging",
        "hashlib",
        "uuid",
        "zlib",
        "math",
    ):
        module = importlib.import_module(modname)
        page = f"library/{modname}.html"
        yield modname, "module", f"{page}#module-$"
        for name, value in _public(module):
            role = _role(value)
            if role == "module":
                continue
            yield f"{modname}.{name}", role, f"{page}#$"
            if role in ("class", "exception"):
                for member, mrole in _members(value):  # type: ignore[arg-type]
                    yield f"{modname}.{name}.{member}", mrole, f"{page}#$"


def _generated(prefix: str, names: Iterable[tuple[str, object]], page: str) -> Iterator[Entry]:
    for name, value in names:
        role = _role(value)
        if role == "module":
            continue
        full = f"{prefix}.{name}"
        yield full, role, page.format(full=full)
        if role in ("class", "exception"):
            for member, mrole in _members(value):  # type: ignore[arg-type]
                yield f"{full}.{member}", mrole, page.format(full=f"{full}.{member}")


def numpy_entries() -> Iterator[Entry]:
    import numpy as np

    yield "numpy", "module", "reference/index.html#module-$"
    yield "array_like", "std:term", "glossary.html#term-array_like"
    yield from _generated("numpy", _public(np), "reference/generated/{full}.html#$")
    yield "numpy.random.Generator", "class", "reference/random/generator.html#$"
    yield "numpy.random.default_rng", "function", "reference/random/generator.html#$"
    yield "numpy.random.RandomState", "class", "reference/random/legacy.html#$"
    yield "numpy.typing.ArrayLike", "data", "reference/typing.html#$"
    yield "numpy.typing.NDArray", "data", "reference/typing.html#$"


def scipy_entries() -> Iterator[Entry]:
    import scipy.sparse

    yield "scipy.sparse", "module", "reference/sparse.html#module-$"
    yield from _generated(
        "scipy.sparse", _public(scipy.sparse), "reference/generated/{full}.html#$"
    )


def pandas_entries() -> Iterator[Entry]:
    import pandas as pd

    yield "pandas", "module", "reference/index.html#module-$"
    yield from _generated("pandas", _public(pd), "reference/api/{full}.html#$")


def sklearn_entries() -> Iterator[Entry]:
    import sklearn

    yield "sklearn", "module", "api/index.html#module-$"
    for sub in [*sklearn.__all__, "base", "utils"]:
        if sub.startswith("_") or sub in (
            "show_versions",
            "clone",
            "config_context",
            "get_config",
            "set_config",
        ):
            continue
        try:
            module = importlib.import_module(f"sklearn.{sub}")
        except ImportError:
            continue
        yield f"sklearn.{sub}", "module", f"api/sklearn.{sub}.html#module-$"
        yield from _generated(f"sklearn.{sub}", _public(module), "modules/generated/{full}.html#$")
    for name in ("clone", "config_context", "get_config", "set_config"):
        yield (
            f"sklearn.{name}",
            "function",
            "modules/generated/sklearn.{name}.html#$".replace("{name}", name),
        )


def dask_entries() -> Iterator[Entry]:
    import dask
    import dask.array as da
    import dask.dataframe as dd

    yield "dask", "module", "index.html#module-$"
    yield "dask.array", "module", "array-api.html#module-$"
    yield "dask.dataframe", "module", "dataframe-api.html#module-$"
    yield from _generated("dask.array", _public(da), "generated/{full}.html#$")
    yield from _generated("dask.dataframe", _public(dd), "generated/{full}.html#$")
    yield "dask.compute", "function", "api.html#$"
    yield "dask.delayed", "function", "delayed-api.html#$"
    yield "dask.config.set", "class", "configuration.html#$"
    _ = dask


def distributed_entries() -> Iterator[Entry]:
    import distributed

    yield "distributed", "module", "index.html#module-$"
    for name in ("Client", "LocalCluster", "Future", "as_completed", "wait", "get_client"):
        value = getattr(distributed, name)
        yield f"distributed.{name}", _role(value), "api.html#$"
        if inspect.isclass(value):
            for member, mrole in _members(value):
                yield f"distributed.{name}.{member}", mrole, "api.html#$"


PROJECTS = {
    # file stem: (project, its version, its entries); the base URLs are in docs/conf.py
    "python": ("Python", lambda: ".".join(map(str, sys.version_info[:2])), python_entries),
    "numpy": ("NumPy", lambda: importlib.import_module("numpy").__version__, numpy_entries),
    "scipy": ("SciPy", lambda: importlib.import_module("scipy").__version__, scipy_entries),
    "pandas": ("pandas", lambda: importlib.import_module("pandas").__version__, pandas_entries),
    "sklearn": (
        "scikit-learn",
        lambda: importlib.import_module("sklearn").__version__,
        sklearn_entries,
    ),
    "dask": ("Dask", lambda: importlib.import_module("dask").__version__, dask_entries),
    "distributed": (
        "Dask.distributed",
        lambda: importlib.import_module("distributed").__version__,
        distributed_entries,
    ),
}


def inventory_bytes(project: str, version: str, entries: Iterable[Entry]) -> bytes:
    """Sphinx inventory v2 bytes for ``entries`` (duplicates dropped, sorted)."""
    seen: dict[tuple[str, str], str] = {}
    for name, role, uri in entries:
        seen.setdefault((name, role), uri)
    lines = [
        f"{name} {role if ':' in role else 'py:' + role} {'-1' if ':' in role else '1'} {uri} -"
        for (name, role), uri in sorted(seen.items())
        if " " not in name or role == "std:term"
    ]
    header = (
        "# Sphinx inventory version 2\n"
        f"# Project: {project}\n"
        f"# Version: {version}\n"
        "# The remainder of this file is compressed using zlib.\n"
    ).encode()
    return header + zlib.compress(("\n".join(lines) + "\n").encode(), 9)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "_inventories")
    args = parser.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    for fname, (project, version, entries) in PROJECTS.items():
        data = inventory_bytes(project, version(), entries())
        (args.out / f"{fname}.inv").write_bytes(data)
        print(f"wrote {args.out / (fname + '.inv')} ({len(data) / 1024:.0f} KB)")
    return 0


if __name__ == "__main__":
    sys.exit(main())

"""Generate the API reference from ``__all__``, and fail the build on a missing name.

The reference follows the code without edits: at ``builder-inited`` this writes
``docs/api/*.rst`` (generated, not in git) from the package's ``__all__`` and the
``__all__`` of every public sub-module (``alwidgets.<name>`` whose name has no
leading underscore). Each public name is documented once, where it is first
exported (the top-level package first, then the sub-modules in alphabetical
order); a later export of the same object gets a short entry that links there.

After reading every page (``env-check-consistency``) the extension checks that the
Python domain holds an entry for every public name, and warns (an error under
``-W``) for each one that is missing, so a name added to an ``__all__`` that cannot
be documented (an import error, a name that does not exist) fails ``make docs``.
"""

from __future__ import annotations

import importlib
import inspect
import pkgutil
import types
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.environment import BuildEnvironment
from sphinx.util import logging

LOG = logging.getLogger(__name__)
PACKAGE = "alwidgets"


@dataclass
class PublicModule:
    """One public module and the names it exports."""

    name: str
    module: types.ModuleType
    names: list[str] = field(default_factory=list)


def public_modules(package: str = PACKAGE) -> list[PublicModule]:
    """The package and its public sub-modules that define ``__all__``, package first."""
    root = importlib.import_module(package)
    found = [PublicModule(package, root, list(root.__all__))]
    for info in sorted(pkgutil.iter_modules(root.__path__), key=lambda i: i.name):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"{package}.{info.name}")
        names = getattr(module, "__all__", None)
        if names is not None:
            found.append(PublicModule(f"{package}.{info.name}", module, list(names)))
    return found


def expected_names(modules: Iterable[PublicModule]) -> set[str]:
    """Every documented full name: ``module.name`` for each name in each ``__all__``."""
    out: set[str] = set()
    for mod in modules:
        out.add(mod.name)
        for name in mod.names:
            value = getattr(mod.module, name)
            if isinstance(value, types.ModuleType):
                out.add(value.__name__)
            else:
                out.add(f"{mod.name}.{name}")
    return out


def missing_names(expected: Iterable[str], documented: Mapping[str, Any] | set[str]) -> list[str]:
    """The expected full names the reference lacks, sorted.

    >>> missing_names({"alwidgets.a", "alwidgets.b"}, {"alwidgets.a": None})
    ['alwidgets.b']
    """
    return sorted(name for name in expected if name not in documented)


#: Methods scikit-learn adds to every estimator subclass (metadata routing, output
#: containers): documented by scikit-learn, and their docstrings link its glossary.
SKLEARN_GENERATED = (
    "get_metadata_routing",
    "set_fit_request",
    "set_output",
    "set_partial_fit_request",
    "set_predict_proba_request",
    "set_predict_request",
    "set_score_request",
    "set_transform_request",
)


def _ours(obj: Any) -> bool:
    return str(getattr(obj, "__module__", "")).split(".")[0] == PACKAGE


def _private(path: str) -> bool:
    """True for a dotted path with a private part (``alwidgets.store._writes.X``)."""
    return any(part.startswith("_") and not part.startswith("__") for part in path.split("."))


def _kind(value: Any) -> str:
    if inspect.isclass(value):
        return "exception" if issubclass(value, BaseException) else "class"
    if callable(value):
        return "function"
    return "data"


def _canonical(modules: list[PublicModule]) -> dict[int, str]:
    """id(object) -> the full name where it is documented (the first export)."""
    home: dict[int, str] = {}
    for mod in modules:
        for name in mod.names:
            value = getattr(mod.module, name)
            if isinstance(value, types.ModuleType) or _kind(value) == "data":
                continue  # modules have their own page; constants are per module
            home.setdefault(id(value), f"{mod.name}.{name}")
    return home


def _title(text: str, char: str = "=") -> str:
    return f"{text}\n{char * len(text)}\n"


def _entry(mod: PublicModule, name: str, home: dict[int, str]) -> str:
    value = getattr(mod.module, name)
    full = f"{mod.name}.{name}"
    if isinstance(value, types.ModuleType):
        return f"* :mod:`{value.__name__}` (its own page)\n"
    kind = _kind(value)
    target = home.get(id(value), full)
    if target != full:
        role = {"exception": "exc", "class": "class", "function": "func"}[kind]
        return (
            f".. py:{kind}:: {name}\n   :module: {mod.name}\n\n"
            f"   The same object as :{role}:`{target}` (documented there).\n"
        )
    if kind == "class":
        # Members inherited from alwidgets' own (private) bases are this class's API;
        # members of outside bases (scikit-learn, anywidget, traitlets) are theirs.
        outside = sorted(
            {base.__name__ for base in value.__mro__[1:] if not _ours(base)} | {"object"}
        )
        return (
            f".. autoclass:: {full}\n   :members:\n   :show-inheritance:\n"
            f"   :inherited-members: {', '.join(outside)}\n"
            f"   :exclude-members: {', '.join(SKLEARN_GENERATED)}\n"
        )
    if kind == "exception":
        return f".. autoexception:: {full}\n   :show-inheritance:\n"
    if kind == "function":
        return f".. autofunction:: {full}\n"
    text = repr(value)
    if len(text) > 80:
        text = text[:77] + "..."
    return f".. py:data:: {name}\n   :module: {mod.name}\n   :value: {text}\n"


def module_page(mod: PublicModule, home: dict[int, str]) -> str:
    """The reST text of one module's reference page."""
    parts = [
        ".. This file is generated by docs/_ext/alw_apiref.py; edit the docstrings instead.\n",
        _title(f"``{mod.name}``"),
        f".. automodule:: {mod.name}\n   :no-members:\n",
    ]
    order = sorted(
        mod.names, key=lambda n: (isinstance(getattr(mod.module, n), types.ModuleType), n.lower())
    )
    for name in order:
        parts.append(_entry(mod, name, home))
    return "\n".join(parts)


def index_page(modules: list[PublicModule]) -> str:
    lines = [
        ".. This file is generated by docs/_ext/alw_apiref.py.\n",
        _title("API reference"),
        "Every public name, generated from the numpydoc docstrings. The package's own",
        "``__all__`` comes first; each public sub-module has a page. A name exported in",
        "two places is documented once and linked from the other.\n",
        ".. toctree::\n   :maxdepth: 1\n",
    ]
    lines += [f"   {mod.name}" for mod in modules]
    return "\n".join(lines) + "\n"


def write_reference(outdir: Path, modules: list[PublicModule]) -> list[Path]:
    """Write the pages into ``outdir`` (only files whose text changed are rewritten)."""
    outdir.mkdir(parents=True, exist_ok=True)
    home = _canonical(modules)
    pages = {f"{mod.name}.rst": module_page(mod, home) for mod in modules}
    pages["index.rst"] = index_page(modules)
    for stale in outdir.glob("*.rst"):
        if stale.name not in pages:
            stale.unlink()
    written = []
    for fname, text in pages.items():
        path = outdir / fname
        if not path.exists() or path.read_text(encoding="utf-8") != text:
            path.write_text(text, encoding="utf-8")
        written.append(path)
    return written


def _on_builder_inited(app: Sphinx) -> None:
    modules = public_modules()
    app.env.alw_expected = sorted(expected_names(modules))  # type: ignore[attr-defined]
    write_reference(Path(app.srcdir) / "api", modules)


def _on_check(app: Sphinx, env: BuildEnvironment) -> None:
    expected = getattr(env, "alw_expected", None) or sorted(expected_names(public_modules()))
    domain = env.get_domain("py")
    documented = {name for name, *_ in domain.get_objects()}
    for name in missing_names(expected, documented):
        LOG.warning(
            "public name %s is missing from the API reference: fix its import or its "
            "docstring so autodoc can document it (docs/_ext/alw_apiref.py)",
            name,
            type="alw",
            subtype="apiref",
        )


def _on_process_bases(app: Sphinx, name: str, obj: Any, options: Any, bases: list[Any]) -> None:
    """Show a class's public bases only: alwidgets' private mixins are not API."""
    bases[:] = [b for b in bases if not (_ours(b) and _private(b.__module__))] or [object]


def _find(target: str, env: BuildEnvironment) -> list[str]:
    """Documented names that ``target`` (``fit``, ``SessionStore.export``) can mean."""
    domain = env.get_domain("py")
    suffix = "." + target.lstrip(".~")
    return sorted(
        {
            name
            for name, *_ in domain.get_objects()
            if name.startswith(PACKAGE + ".") and name.endswith(suffix)
        }
    )


def _exists_privately(target: str) -> bool:
    """True when ``target`` names an object in a private alwidgets module."""
    import sys

    if target in sys.modules:
        return True
    last = target.rsplit(".", 1)[-1]
    for modname, module in list(sys.modules.items()):
        if module is None or not modname.startswith(PACKAGE) or not _private(modname):
            continue
        if target.startswith(PACKAGE + "."):
            if target.startswith(modname + "."):
                rest = target[len(modname) + 1 :].split(".")
                obj: Any = module
                for part in rest:
                    obj = getattr(obj, part, None)
                    if obj is None:
                        break
                else:
                    return True
        elif hasattr(module, last) and _ours(getattr(module, last)):
            return True
    return False


def _on_missing_reference(app: Sphinx, env: BuildEnvironment, node: Any, contnode: Any) -> Any:
    """Resolve what docstrings write loosely; leave private names as plain text.

    Docstrings say ``:meth:`fit``` or ``:class:`SessionStore``` from wherever they are;
    a unique documented alwidgets name ending that way is the target. A name in a
    private module (``alwidgets.app._worker.choose_mode``) exists but is not part of
    the reference: it is shown as text, unlinked. Anything else stays a warning.
    """
    if node.get("refdomain") != "py":
        return None
    target = node.get("reftarget", "")
    candidates = _find(target, env)
    if len(candidates) == 1:
        domain = env.get_domain("py")
        builder = app.builder
        refnode = domain.resolve_xref(
            env, node["refdoc"], builder, node["reftype"], candidates[0], node, contnode
        )
        if refnode is None:  # the role does not match the object type: try any
            found = domain.resolve_any_xref(
                env, node["refdoc"], builder, candidates[0], node, contnode
            )
            refnode = found[0][1] if found else None
        return refnode
    if (_private(target) or not target.startswith(PACKAGE)) and _exists_privately(target):
        return contnode
    return None


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", _on_builder_inited)
    app.connect("autodoc-process-bases", _on_process_bases)
    app.connect("missing-reference", _on_missing_reference)
    app.connect("env-check-consistency", _on_check)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}

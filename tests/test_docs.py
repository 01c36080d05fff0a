"""The docs site's own machinery, without a full build (``make docs`` runs that).

* The API reference is generated from every public ``__all__``: each name gets a
  directive, a name exported twice is documented once and linked from the other
  place, and the check that fails the build flags a name the reference lacks.
* intersphinx reads only the inventories shipped in ``docs/_inventories`` (no
  network), each of which parses and holds the names the docs link to.
* Every page of the user guide named in the issue exists and is in a toctree.
"""

from __future__ import annotations

import importlib
import os
import re
import sys
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"

try:
    import sphinx  # noqa: F401
except ImportError:  # pragma: no cover - the [docs] extra is part of [test]
    if os.environ.get("CI", "").lower() == "true":
        raise
    pytest.skip('the docs extra is missing: pip install -e ".[docs]"', allow_module_level=True)
sys.path.insert(0, str(DOCS / "_ext"))
import alw_apiref  # noqa: E402

PUBLIC_SUBPACKAGES = {
    "strategies",
    "stopping",
    "simulation",
    "features",
    "review",
    "store",
    "display",
    "widgets",
    "datasets",
    "pools",
}


def test_every_public_subpackage_is_found() -> None:
    found = {m.name.removeprefix("alwidgets.") for m in alw_apiref.public_modules()}
    assert found >= PUBLIC_SUBPACKAGES, PUBLIC_SUBPACKAGES - found
    assert not [name for name in found if name.startswith("_")]


def test_every_public_name_gets_an_entry(tmp_path: Path) -> None:
    modules = alw_apiref.public_modules()
    alw_apiref.write_reference(tmp_path, modules)
    for mod in modules:
        text = (tmp_path / f"{mod.name}.rst").read_text()
        assert f".. automodule:: {mod.name}" in text
        for name in mod.names:
            value = getattr(mod.module, name)
            if isinstance(value, types.ModuleType):
                assert f":mod:`{value.__name__}`" in text, (mod.name, name)
            else:
                full = f"{mod.name}.{name}"
                pattern = rf"\.\. (auto\w+:: {re.escape(full)}|py:\w+:: {re.escape(name)}\n   :module: {re.escape(mod.name)})\n"
                assert re.search(pattern, text), f"{full} has no entry"
    index = (tmp_path / "index.rst").read_text()
    assert all(f"   {m.name}" in index for m in modules)


def test_a_name_exported_twice_is_documented_once() -> None:
    modules = alw_apiref.public_modules()
    alw_apiref_dir = {m.name: m for m in modules}
    store = alw_apiref_dir["alwidgets.store"]
    home = alw_apiref._canonical(modules)
    entry = alw_apiref._entry(store, "SessionStore", home)
    assert entry.startswith(".. py:class:: SessionStore\n   :module: alwidgets.store")
    assert ":class:`alwidgets.SessionStore`" in entry


def test_the_check_flags_a_missing_public_name() -> None:
    expected = alw_apiref.expected_names(alw_apiref.public_modules())
    assert "alwidgets.ActiveLabeler" in expected
    assert "alwidgets.strategies.margin" in expected
    documented = dict.fromkeys(expected)
    assert alw_apiref.missing_names(expected, documented) == []
    del documented["alwidgets.strategies.margin"]
    assert alw_apiref.missing_names(expected, documented) == ["alwidgets.strategies.margin"]


def test_intersphinx_uses_only_shipped_inventories() -> None:
    from sphinx.util.inventory import InventoryFile

    spec = importlib.util.spec_from_file_location("alw_docs_conf", DOCS / "conf.py")
    assert spec is not None and spec.loader is not None
    conf = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(conf)
    wanted = {
        "python": "pathlib.Path",
        "numpy": "numpy.ndarray",
        "pandas": "pandas.DataFrame",
        "sklearn": "sklearn.base.BaseEstimator",
        "dask": "dask.array.Array",
        "distributed": "distributed.Client",
        "scipy": "scipy.sparse.csr_matrix",
    }
    assert set(conf.intersphinx_mapping) == set(wanted)
    for key, (base, inventory) in conf.intersphinx_mapping.items():
        path = Path(inventory)
        assert path.is_file() and path.is_relative_to(DOCS / "_inventories"), inventory
        with path.open("rb") as f:
            inv = InventoryFile.load(f, base, lambda base, uri: f"{base}/{uri}")
        names = {name for objects in inv.values() for name in objects}
        assert wanted[key] in names, f"{key}: {wanted[key]} missing from {path.name}"


@pytest.mark.parametrize(
    "page",
    [
        "labeling",
        "strategies",
        "text",
        "descriptions",
        "review",
        "teams",
        "dask",
        "multilabel",
        "teaching",
        "export",
        "troubleshooting",
    ],
)
def test_user_guide_page_exists_and_is_listed(page: str) -> None:
    assert (DOCS / "guide" / f"{page}.md").is_file()
    index = (DOCS / "guide" / "index.md").read_text()
    assert re.search(rf"^{page}$", index, flags=re.M), f"{page} is not in the guide's toctree"

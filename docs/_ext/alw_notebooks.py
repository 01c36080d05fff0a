"""Put the executed notebooks into the source tree before Sphinx reads it.

``scripts/run_binder.py`` runs every notebook of ``notebooks/`` in the Binder
environment and writes the executed copies, with a picture of every widget
output, to ``docs/_build/executed/``. This extension copies them to
``docs/examples/`` (generated, not in git) at ``builder-inited``; the build
renders them as pages and never executes anything. A missing executed copy is a
build error that names the command to run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from sphinx.application import Sphinx
from sphinx.errors import ConfigError

ROOT = Path(__file__).resolve().parents[2]


def _copy(app: Sphinx) -> None:
    source = ROOT / "notebooks"
    executed = Path(app.confdir) / "_build" / "executed"
    target = Path(app.srcdir) / "examples"
    target.mkdir(exist_ok=True)
    names = sorted(p.name for p in source.glob("*.ipynb"))
    missing = [n for n in names if not (executed / n).is_file()]
    if missing:
        raise ConfigError(
            f"no executed copy of {', '.join(missing)} in {executed}: run "
            "`python scripts/run_binder.py` (or `make docs`, which runs it) first"
        )
    for name in names:
        text = _for_the_site(json.loads((executed / name).read_text(encoding="utf-8")))
        dst = target / name
        if not dst.exists() or dst.read_text(encoding="utf-8") != text:
            dst.write_text(text, encoding="utf-8")
    for stale in target.glob("*.ipynb"):
        if stale.name not in names:
            stale.unlink()


#: Output types the site shows as their picture (added by scripts/run_binder.py).
PICTURED = "application/vnd.plotly.v1+json"


def _for_the_site(nb: dict[str, Any]) -> str:
    """Drop plotly's JSON where its picture is there (the site has no plotly.js)."""
    for cell in nb["cells"]:
        for out in cell.get("outputs", []):
            data = out.get("data", {})
            if PICTURED in data and "image/png" in data:
                del data[PICTURED]
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def setup(app: Sphinx) -> dict[str, Any]:
    app.connect("builder-inited", _copy, priority=400)
    return {"version": "1", "parallel_read_safe": True, "parallel_write_safe": True}

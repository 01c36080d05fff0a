"""Strip outputs, execution counts and widget state from notebooks before committing.

Executing a notebook that shows a plotly ``FigureWidget`` stores plotly's ~5 MB
JavaScript bundle in ``metadata.widgets``; outputs hold machine-specific paths and
timings. The committed notebooks carry none of it (``tests/test_notebooks_clean.py``
checks).

Usage::

    python scripts/strip_notebooks.py notebooks/*.ipynb          # rewrite in place
    python scripts/strip_notebooks.py --check notebooks/*.ipynb  # exit 1 if any is dirty
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import nbformat

# Cell metadata JupyterLab adds while you work; none of it belongs in the repository.
VOLATILE_CELL_METADATA = ("execution", "collapsed", "scrolled", "jupyter", "tags", "trusted")


def strip(nb: Any) -> bool:
    """Strip ``nb`` in place; return True if anything changed."""
    changed = False
    if "widgets" in nb.metadata:
        del nb.metadata["widgets"]
        changed = True
    for cell in nb.cells:
        if cell.cell_type == "code":
            if cell.get("outputs"):
                cell.outputs = []
                changed = True
            if cell.get("execution_count") is not None:
                cell.execution_count = None
                changed = True
        if cell.cell_type == "markdown" and cell.get("attachments"):
            continue  # pasted images are content, keep them
        for key in VOLATILE_CELL_METADATA:
            if key in cell.metadata:
                del cell.metadata[key]
                changed = True
    return changed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("paths", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true", help="report, do not rewrite")
    args = parser.parse_args(argv)
    dirty = []
    for path in args.paths:
        nb = nbformat.read(path, as_version=4)
        if strip(nb):
            dirty.append(path)
            if not args.check:
                nbformat.validate(nb)
                nbformat.write(nb, path)
    verb = "needs stripping" if args.check else "stripped"
    for path in dirty:
        print(f"{path}: {verb}")
    return 1 if (args.check and dirty) else 0


if __name__ == "__main__":
    sys.exit(main())

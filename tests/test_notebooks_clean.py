"""The committed notebooks are clean, explained, and offline.

Running them is nbval's job (``pytest --nbval-lax notebooks`` in ``make test``);
this checks what a reader and ``git diff`` see: no outputs or widget state (plotly
would add ~5 MB per figure), a text cell before every code cell saying what the
step does, and no download at run time.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import nbformat
import pytest

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"
EXPECTED = [
    "quickstart.ipynb",
    "text.ipynb",
    "tabular.ipynb",
    "teaching.ipynb",
    "team.ipynb",
    "large_pool.ipynb",
    "multilabel.ipynb",
]
FIX = "run: python scripts/strip_notebooks.py notebooks/*.ipynb"


def _read(name: str) -> Any:
    path = NOTEBOOKS / name
    if not path.exists():
        pytest.fail(f"notebooks/{name} is missing", pytrace=False)
    nb = nbformat.read(path, as_version=4)
    nbformat.validate(nb)
    return nb


def _code(nb: Any) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "code"]


def test_only_the_expected_notebooks() -> None:
    assert sorted(p.name for p in NOTEBOOKS.glob("*.ipynb")) == sorted(EXPECTED)


@pytest.mark.parametrize("name", EXPECTED)
def test_committed_without_outputs_or_widget_state(name: str) -> None:
    nb = _read(name)
    assert "widgets" not in nb.metadata, f"{name} stores widget state; {FIX}"
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            assert cell.outputs == [], f"{name} cell {i} has outputs; {FIX}"
            assert cell.execution_count is None, f"{name} cell {i} has an execution count; {FIX}"
        assert "execution" not in cell.metadata, f"{name} cell {i} has timing metadata; {FIX}"
    assert nb.metadata.get("kernelspec", {}).get("name") == "python3"


@pytest.mark.parametrize("name", EXPECTED)
def test_every_step_is_explained(name: str) -> None:
    nb = _read(name)
    cells = nb.cells
    assert cells and cells[0].cell_type == "markdown"
    assert cells[0].source.startswith("# "), f"{name} should open with a '# Title' cell"
    for i, cell in enumerate(cells):
        if cell.cell_type == "code":
            before = cells[i - 1] if i else None
            assert before is not None and before.cell_type == "markdown", (
                f"{name} cell {i} is code without a text cell before it saying what it does"
            )
            assert len(before.source.split()) >= 8, f"{name} cell {i - 1} is too short to explain"
            assert cell.source.strip(), f"{name} cell {i} is empty"


@pytest.mark.parametrize("name", EXPECTED)
def test_nothing_is_downloaded(name: str) -> None:
    source = "\n".join(_code(_read(name)))
    for pattern in (r"\bfetch_\w+", r"https?://", r"\burlretrieve\b", r"\brequests\.", r"!pip"):
        assert not re.search(pattern, source), f"{name} must run offline; found {pattern!r}"


def test_quickstart_is_a_five_cell_session_with_a_local_store() -> None:
    nb = _read("quickstart.ipynb")
    code = _code(nb)
    assert len(code) == 5, f"the quickstart should be five code cells, has {len(code)}"
    joined = "\n".join(code)
    assert re.search(r"^labeler = ActiveLabeler\(", joined, flags=re.MULTILINE)
    store = re.search(r'store="([^"/]+\.alw)"', joined)
    assert store, "the quickstart must keep its store next to the notebook (store='name.alw')"
    assert "load_digits" in joined


def test_tabular_exports_csv_and_teaching_compares() -> None:
    tabular = "\n".join(_code(_read("tabular.ipynb")))
    assert "DataFrame" in tabular or "as_frame=True" in tabular
    assert re.search(r"\.export\([^)]*\.csv", tabular), "tabular.ipynb must export labels to CSV"
    teaching = "\n".join(_code(_read("teaching.ipynb")))
    assert "oracle=" in teaching and "compare(" in teaching
    multilabel = "\n".join(_code(_read("multilabel.ipynb")))
    assert "load_yeast" in multilabel and "compare(" in multilabel
    text = "\n".join(_code(_read("text.ipynb")))
    assert "load_spam" in text and "TextFeatures(" in text and "suspect_labels(" in text

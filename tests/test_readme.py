"""The README shows code; it must work as written.

Every ```python block runs, in order, in one namespace, in a temporary directory (the
example writes ``digits.alw`` to the working directory). Set-up commands in the
README must be real Makefile targets.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
README = (ROOT / "README.md").read_text()


def python_blocks() -> list[str]:
    return re.findall(r"```python\n(.*?)```", README, flags=re.S)


def test_readme_has_examples() -> None:
    assert len(python_blocks()) >= 2


def test_readme_python_runs_as_written(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.chdir(tmp_path)
    namespace: dict[str, object] = {"__name__": "__readme__"}
    for block in python_blocks():
        exec(compile(block, "README.md", "exec"), namespace)
    # the example really labeled, undid, and left the label-free store on disk
    assert (tmp_path / "digits.alw").exists()
    summary = namespace["result"].summary  # type: ignore[attr-defined]
    assert set(summary["strategy"]) >= {"random", "margin", "badge"}
    assert {"aulc_mean", "cost_reduction_mean"} <= set(summary.columns)


def test_readme_commands_are_make_targets() -> None:
    makefile = (ROOT / "Makefile").read_text()
    for target in re.findall(r"^make (\w+)", README, flags=re.M):
        assert re.search(rf"^{target}:", makefile, flags=re.M), target


def test_readme_links_exist() -> None:
    for link in re.findall(r"\]\(((?:docs|notebooks|benchmarks)/[^)#]+)\)", README):
        assert (ROOT / link).exists(), link

"""Binder configuration: the environment resolves and matches ``requires-python``.

A real Binder build needs Docker; these checks catch the mistakes that break
one without it: a requirements file pip cannot resolve, a runtime Python that
the package rejects (repo2docker defaults to an older Python than numpy 2.4 and
pandas 3 accept), and a README link that opens a notebook that does not exist.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"


def _runtime_version() -> Version:
    text = (BINDER / "runtime.txt").read_text(encoding="utf-8").strip()
    match = re.fullmatch(r"python-(\d+\.\d+)", text)
    assert match, f"binder/runtime.txt must read like 'python-3.11', got {text!r}"
    return Version(match.group(1))


def _requirement_lines() -> list[str]:
    lines = (BINDER / "requirements.txt").read_text(encoding="utf-8").splitlines()
    return [ln.strip() for ln in lines if ln.strip() and not ln.lstrip().startswith("#")]


def test_runtime_satisfies_requires_python() -> None:
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    spec = SpecifierSet(pyproject["project"]["requires-python"])
    runtime = _runtime_version()
    assert runtime in spec, f"binder/runtime.txt asks for Python {runtime}, package needs {spec}"


def test_requirements_install_this_repo_with_jupyterlab() -> None:
    lines = _requirement_lines()
    local = [ln for ln in lines if re.fullmatch(r"(-e\s+)?\.(\[[\w,\s-]+\])?", ln)]
    assert local, f"binder/requirements.txt must install this repository ('.[lab]'), got {lines}"
    extras = re.search(r"\[([^\]]*)\]", local[0])
    names = {e.strip() for e in extras.group(1).split(",")} if extras else set()
    assert "lab" in names, "install the 'lab' extra so Binder gets JupyterLab 4 and Notebook 7"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
    unknown = names - set(pyproject["project"]["optional-dependencies"])
    assert not unknown, f"binder/requirements.txt names extras pyproject.toml lacks: {unknown}"


def test_requirements_resolve_with_pip() -> None:
    # repo2docker runs `pip install -r binder/requirements.txt` from the repository root.
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip",
            "install",
            "--dry-run",
            "--ignore-installed",
            "--disable-pip-version-check",
            "-r",
            "binder/requirements.txt",
        ],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
    )
    assert proc.returncode == 0, f"pip could not resolve binder/requirements.txt:\n{proc.stderr}"
    would = re.search(r"^Would install (.+)$", proc.stdout, flags=re.MULTILINE)
    assert would, proc.stdout[-2000:]
    planned = {item.rpartition("-")[0].lower() for item in would.group(1).split()}
    for needed in ("alwidgets", "jupyterlab", "notebook", "ipywidgets", "anywidget", "plotly"):
        assert needed in planned, f"{needed} missing from the Binder environment: {planned}"


def test_readme_binder_link_opens_an_existing_notebook() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    links = re.findall(r"https://mybinder\.org/v2/gh/[^\s)\"'>]+", readme)
    assert links, "README.md needs a Binder badge linking to mybinder.org/v2/gh/..."
    for link in links:
        urlpath = parse_qs(urlparse(link).query).get("urlpath", [""])[0]
        assert urlpath.startswith("lab/tree/"), f"{link}: open JupyterLab (urlpath=lab/tree/...)"
        target = ROOT / urlpath.removeprefix("lab/tree/")
        assert target.is_file(), f"{link} opens {target.relative_to(ROOT)}, which does not exist"

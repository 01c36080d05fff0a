"""Binder: the environment resolves, matches ``requires-python``, and runs every notebook.

A real Binder build needs Docker; these checks catch the mistakes that break
one without it: a requirements file pip cannot resolve, a runtime Python that
the package rejects (repo2docker defaults to an older Python than numpy 2.4 and
pandas 3 accept), a README link that opens a notebook that does not exist, and
a notebook that fails in the environment Binder builds.

``test_binder_runs_every_notebook`` builds that environment as repo2docker does
(a fresh venv, ``pip install -r binder/requirements.txt``) and runs all the
notebooks in a real JupyterLab from it, in headless Chromium, with Binder's
environment variables (``scripts/run_binder.py``). The executed copies are the
pages of the docs site, so ``make docs`` afterwards runs nothing again.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from pathlib import Path
from urllib.parse import parse_qs, urlparse

import pytest
from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
EXECUTED = ROOT / "docs" / "_build" / "executed"
CHROMIUM = Path("/usr/bin/chromium")
#: Binder gives a session about 2 GB for everything (server, kernel, Dask workers).
BINDER_MEMORY_MB = 2048


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
    assert "dask" in names, "large_pool.ipynb needs the 'dask' extra (distributed) on Binder"
    assert "embeddings" not in names and "test" not in names, "keep torch out of Binder"
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


@pytest.mark.slow
@pytest.mark.timeout(2700)  # a fresh venv and six notebooks in a browser: minutes, not seconds
def test_binder_runs_every_notebook() -> None:
    if not CHROMIUM.exists():
        if os.environ.get("CI", "").lower() == "true":
            pytest.fail(f"CI=true but {CHROMIUM} is missing (make browser-deps)")
        pytest.skip(f"{CHROMIUM} is missing; `make browser-deps` installs it")
    proc = subprocess.run(
        [sys.executable, "scripts/run_binder.py", "--reuse", "--out", str(EXECUTED)],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=2700,
        check=False,
    )
    report_path = EXECUTED / "report.json"
    assert report_path.is_file(), proc.stdout[-3000:] + proc.stderr[-3000:]
    report = json.loads(report_path.read_text())
    failed = {n: r.get("error") for n, r in report["notebooks"].items() if not r["ok"]}
    assert proc.returncode == 0 and report["ok"] and not failed, (
        f"{failed}\n{proc.stdout[-2000:]}\n{proc.stderr[-3000:]}"
    )
    names = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
    assert sorted(report["notebooks"]) == names
    for name in names:
        result = report["notebooks"][name]
        assert result["peak_rss_mb"] < BINDER_MEMORY_MB, f"{name}: {result}"
        nb = json.loads((EXECUTED / name).read_text())
        code = [c for c in nb["cells"] if c["cell_type"] == "code"]
        assert all(c["execution_count"] for c in code), f"{name}: a cell did not run"
        outputs = [o for c in code for o in c["outputs"]]
        assert not [o for o in outputs if o["output_type"] == "error"], name
        views = [
            o for o in outputs if "application/vnd.jupyter.widget-view+json" in o.get("data", {})
        ]
        assert all("image/png" in o["data"] for o in views), f"{name}: a widget has no picture"
    # the reader of the quickstart page sees the app as a picture
    quickstart = json.loads((EXECUTED / "quickstart.ipynb").read_text())
    assert any(
        "image/png" in o.get("data", {}) for c in quickstart["cells"] for o in c.get("outputs", [])
    )

"""Run every notebook as Binder would, and keep the executed copies for the docs site.

1. Build the Binder environment from ``binder/`` in a fresh virtual environment:
   ``python3.11 -m venv`` (the version ``binder/runtime.txt`` names), then
   ``pip install -r binder/requirements.txt`` from the repository root, as
   repo2docker does (pip reuses its cache, so a rebuild downloads nothing new).
2. Start JupyterLab *from that environment* (its kernel imports the installed
   alwidgets, not this checkout) with Binder's environment variables set, so a
   notebook sizes itself as on Binder, and with no test-only settings
   (``ALW_DATABASE_URL``, ``ALWIDGETS_POOL_ROWS``, ``PYTHONPATH``) passed through.
3. In headless Chromium, run each notebook top to bottom, fail if any cell raised,
   photograph every widget output (the app's cards, plots, stats) as the browser
   shows it, and save the notebook with those pictures next to the widget views.
4. Write the executed notebooks and ``report.json`` (time and peak memory of each
   notebook: the RSS of the server, its kernels and their children, such as Dask
   workers) to ``--out`` (default ``docs/_build/executed``); the docs build renders
   those copies.

``--reuse`` returns at once when ``report.json`` says the last run passed on the
same inputs (notebooks, ``binder/``, ``pyproject.toml``, the package and this
script), so ``make docs`` after ``make test`` executes nothing again.

Usage::

    python scripts/run_binder.py [--out docs/_build/executed] [--venv build/binder-venv]
                                 [--reuse] [--only quickstart.ipynb ...]
"""

from __future__ import annotations

import argparse
import base64
import contextlib
import hashlib
import io
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "browser"))

import jupyter_harness as harness  # noqa: E402

WIDGET_VIEW = "application/vnd.jupyter.widget-view+json"
#: Outputs a reader without a kernel (or without plotly.js) cannot see: photographed.
PICTURED = (WIDGET_VIEW, "application/vnd.plotly.v1+json")
#: Set by BinderHub in every Binder session (notebooks may size themselves by them).
BINDER_ENV = {
    "BINDER_LAUNCH_HOST": "https://mybinder.org/",
    "BINDER_REQUEST": "v2/gh/alwidgets/alwidgets/main",
    "BINDER_REPO_URL": "https://github.com/alwidgets/alwidgets",
}
#: Settings of the test suite that a Binder session does not have.
NOT_ON_BINDER = ("ALW_DATABASE_URL", "ALW_PGDATA", "ALWIDGETS_POOL_ROWS", "PYTHONPATH")
CELL_TIMEOUT_S = 600.0


def input_hash() -> str:
    """A digest of everything the executed notebooks depend on."""
    digest = hashlib.sha256()
    paths = [
        *sorted((REPO / "notebooks").glob("*.ipynb")),
        *sorted((REPO / "binder").iterdir()),
        REPO / "pyproject.toml",
        Path(__file__).resolve(),
        *sorted(p for p in (REPO / "alwidgets").rglob("*") if p.suffix in (".py", ".js", ".css")),
    ]
    for path in paths:
        if path.is_file():
            digest.update(str(path.relative_to(REPO)).encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()


def runtime_python() -> str:
    """The interpreter ``binder/runtime.txt`` asks for (``python-3.11`` -> python3.11)."""
    text = (REPO / "binder" / "runtime.txt").read_text(encoding="utf-8").strip()
    match = re.fullmatch(r"python-(\d+\.\d+)", text)
    if not match:
        raise SystemExit(f"binder/runtime.txt must read like 'python-3.11', got {text!r}")
    exe = shutil.which(f"python{match.group(1)}")
    if exe is None:
        raise SystemExit(f"Python {match.group(1)} (binder/runtime.txt) is not installed")
    return exe


def build_env(venv: Path) -> float:
    """A fresh venv with ``pip install -r binder/requirements.txt``; returns seconds."""
    start = time.monotonic()
    if venv.exists():
        shutil.rmtree(venv)
    subprocess.run([runtime_python(), "-m", "venv", str(venv)], check=True)
    env = {k: v for k, v in os.environ.items() if k not in NOT_ON_BINDER}
    pip = [str(venv / "bin" / "python"), "-m", "pip", "install", "--quiet"]
    subprocess.run([*pip, "--upgrade", "pip"], check=True, env=env)
    subprocess.run([*pip, "-r", "binder/requirements.txt"], cwd=REPO, check=True, env=env)
    # Nothing of the test environment leaks in: torch must stay out of Binder.
    freeze = subprocess.run(
        [str(venv / "bin" / "python"), "-m", "pip", "list", "--format=freeze"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.lower()
    if re.search(r"^torch==", freeze, flags=re.M):
        raise SystemExit("torch is in the Binder environment; keep it out of binder/")
    return time.monotonic() - start


class PeakRSS:
    """Samples the summed RSS of a process and its descendants in a thread."""

    def __init__(self, pid: int, interval: float = 0.2) -> None:
        import psutil

        self._root = psutil.Process(pid)
        self._interval = interval
        self._stop = threading.Event()
        self.peak_mb = 0.0
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _sample(self) -> float:
        import psutil

        total = 0
        for proc in [self._root, *self._root.children(recursive=True)]:
            with contextlib.suppress(psutil.Error):
                total += proc.memory_info().rss
        return total / 2**20

    def _run(self) -> None:
        while not self._stop.is_set():
            self.peak_mb = max(self.peak_mb, self._sample())
            self._stop.wait(self._interval)

    def __enter__(self) -> PeakRSS:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _small_png(raw: bytes) -> bytes:
    """A palette PNG of a UI picture (smaller; nothing visible is lost)."""
    from PIL import Image

    with Image.open(io.BytesIO(raw)) as img:
        out = io.BytesIO()
        img.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(
            out, format="PNG", optimize=True
        )
    return out.getvalue()


def _settle(page: Any, timeout: float = 30.0) -> None:
    """Wait until no widget says "Loading widget..." and the plots have drawn."""
    harness.wait_until(
        lambda: page.evaluate(
            """() => {
                const outs = [...document.querySelectorAll('.jp-OutputArea-output')];
                return !outs.some((o) => /Loading widget/.test(o.textContent || ''));
            }"""
        ),
        timeout,
        "every widget to render",
        interval=0.2,
    )
    time.sleep(1.5)  # plotly draws on the next frames; the retrain's redraw lands


def photograph_widgets(nb: harness.NotebookPage, model: dict[str, Any]) -> int:
    """Add an ``image/png`` of each widget output, as Chromium shows it; return how many."""
    page = nb.page
    _settle(page)
    taken = 0
    cells = page.locator(harness.NotebookPage.CELL)
    for i, cell in enumerate(model["cells"]):
        outputs = cell.get("outputs", [])
        widget_outputs = [
            j for j, out in enumerate(outputs) if any(m in out.get("data", {}) for m in PICTURED)
        ]
        if not widget_outputs:
            continue
        dom = cells.nth(i).locator(".jp-OutputArea-child .jp-OutputArea-output")
        n_dom = dom.count()
        for j in widget_outputs:
            # one DOM output per saved output; if the counts differ, take the widgets in order
            k = j if n_dom == len(outputs) else widget_outputs.index(j)
            target = dom.nth(k)
            target.scroll_into_view_if_needed()
            time.sleep(0.3)
            png = _small_png(target.screenshot(animations="disabled"))
            outputs[j]["data"]["image/png"] = base64.b64encode(png).decode()
            taken += 1
    return taken


def run_notebooks(venv: Path, out: Path, names: list[str]) -> dict[str, Any]:
    """Run ``names`` in JupyterLab from ``venv``; write the executed copies to ``out``."""
    from playwright.sync_api import sync_playwright

    results: dict[str, Any] = {}
    saved_env = dict(os.environ)
    for key in NOT_ON_BINDER:
        os.environ.pop(key, None)
    os.environ.update(BINDER_ENV)
    harness._jupyter_bin = lambda: venv / "bin" / "jupyter"  # the Binder env's server
    try:
        with tempfile.TemporaryDirectory(prefix="alw-binder-") as tmp_name:
            tmp = Path(tmp_name)
            root = harness.copy_notebooks(REPO / "notebooks", tmp / "notebooks")
            with (
                harness.running_server("lab", root, tmp / "jupyter") as server,
                sync_playwright() as pw,
            ):
                context = harness.launch_chromium(pw, tmp / "profile")
                try:
                    for name in names:
                        results[name] = _run_one(context, server, name, out)
                finally:
                    context.close()
    finally:
        os.environ.clear()
        os.environ.update(saved_env)
    return results


def _run_one(context: Any, server: harness.JupyterServer, name: str, out: Path) -> dict[str, Any]:
    tab = context.new_page()
    # tall enough that the whole app fits in the notebook panel (parts outside it are
    # not painted, and an element screenshot would show them grey)
    tab.set_viewport_size({"width": 1280, "height": 2400})
    console = harness.ConsoleLog()
    console.attach(tab)
    start = time.monotonic()
    result: dict[str, Any] = {"ok": False}
    try:
        with PeakRSS(server.proc.pid) as rss:
            nb = harness.NotebookPage(tab, server, name)
            nb.open(timeout=120)
            try:
                nb.run_all(timeout=CELL_TIMEOUT_S)
            except AssertionError as err:  # a cell raised: keep its outputs for the report
                result["error"] = str(err)
            model = nb.model_from_disk()
            result["pictures"] = photograph_widgets(nb, model)
        result["seconds"] = round(time.monotonic() - start, 1)
        result["peak_rss_mb"] = round(rss.peak_mb)
        result["console_errors"] = console.unexpected()
        out.mkdir(parents=True, exist_ok=True)
        (out / name).write_text(json.dumps(model, indent=1, ensure_ascii=False) + "\n")
        result["ok"] = "error" not in result
        # shut the kernel down so the next notebook's memory is its own
        for session in server.api("/api/sessions") or []:
            server.api(f"/api/sessions/{session['id']}", method="DELETE")
    except Exception as err:  # a timeout, a page that never loaded: report, go on
        result.setdefault("error", f"{type(err).__name__}: {err}")
        result["seconds"] = round(time.monotonic() - start, 1)
    finally:
        tab.close()
    status = "ok" if result["ok"] else "FAILED"
    print(
        f"{name}: {status} in {result['seconds']} s, peak RSS "
        f"{result.get('peak_rss_mb', '?')} MB, {result.get('pictures', 0)} pictures",
        flush=True,
    )
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "_build" / "executed")
    parser.add_argument("--venv", type=Path, default=REPO / "build" / "binder-venv")
    parser.add_argument("--reuse", action="store_true", help="skip if inputs are unchanged")
    parser.add_argument("--only", nargs="*", help="notebook file names (default: all)")
    args = parser.parse_args(argv)

    digest = input_hash()
    report_path = args.out / "report.json"
    if args.reuse and report_path.is_file():
        old = json.loads(report_path.read_text())
        if old.get("inputs") == digest and old.get("ok"):
            print(f"{report_path}: the notebooks ran on these inputs; nothing to do")
            return 0
    names = args.only or sorted(p.name for p in (REPO / "notebooks").glob("*.ipynb"))
    report: dict[str, Any] = {"inputs": digest, "ok": False}
    report["env_seconds"] = round(build_env(args.venv), 1)
    print(f"Binder environment built in {report['env_seconds']} s", flush=True)
    for stale in args.out.glob("*.ipynb") if args.out.exists() else []:
        if stale.name in names:
            stale.unlink()
    report["notebooks"] = run_notebooks(args.venv, args.out, names)
    report["ok"] = bool(names) and all(r["ok"] for r in report["notebooks"].values())
    if args.only:  # a partial run never counts as the full one
        report["inputs"] = None
    args.out.mkdir(parents=True, exist_ok=True)
    report_path.write_text(json.dumps(report, indent=1) + "\n")
    for name, res in report["notebooks"].items():
        if not res["ok"]:
            print(f"\n{name} failed:\n{res.get('error')}", file=sys.stderr)
    return 0 if report["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())

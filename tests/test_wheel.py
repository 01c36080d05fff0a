"""The release a user installs: sdist and wheel build, and the wheel works on its own.

``python -m build`` makes both from this checkout and ``twine check`` passes on them;
then the **wheel** (not the checkout: no ``PYTHONPATH``, another working directory) is
installed into a fresh virtual environment with its declared dependencies only (no
torch, no test extras), where

* the quickstart runs headless: an ``ActiveLabeler`` labels a batch, retrains, closes;
* the front end loads from the installed files: the widget's ``_batch.js``,
  ``_batch_state.js`` and ``_batch.css`` are served from the environment's
  ``site-packages`` to headless Chromium, which renders the cards of a real batch
  (state taken from the installed package's app) with the stylesheet applied.

pip reuses its cache, so the environment costs no download after the first run.
"""

from __future__ import annotations

import contextlib
import functools
import http.server
import json
import os
import subprocess
import sys
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[1]
# Building, and a fresh venv, take minutes on a loaded 2-core machine (fixture set-up
# counts toward the first test's timeout).
pytestmark = [pytest.mark.slow, pytest.mark.timeout(1800)]


def _clean_env() -> dict[str, str]:
    """The environment without anything that points Python at this checkout."""
    return {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}


@pytest.fixture(scope="module")
def dist(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("dist")
    subprocess.run(
        [sys.executable, "-m", "build", "--outdir", str(out), str(ROOT)],
        check=True,
        capture_output=True,
        env=_clean_env(),
        timeout=600,
    )
    return out


@pytest.fixture(scope="module")
def wheel(dist: Path) -> Path:
    wheels = sorted(dist.glob("alwidgets-*.whl"))
    assert len(wheels) == 1, wheels
    return wheels[0]


@pytest.fixture(scope="module")
def venv(wheel: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A fresh virtual environment with the wheel and its dependencies installed."""
    where = tmp_path_factory.mktemp("wheel-venv") / "venv"
    subprocess.run([sys.executable, "-m", "venv", str(where)], check=True, timeout=120)
    py = where / "bin" / "python"
    subprocess.run(
        [str(py), "-m", "pip", "install", "--quiet", str(wheel)],
        check=True,
        env=_clean_env(),
        timeout=900,
    )
    return where


def _run(venv: Path, code: str, cwd: Path) -> Any:
    """Run ``code`` in the wheel's environment; return the JSON its last line prints."""
    proc = subprocess.run(
        [str(venv / "bin" / "python"), "-c", code],
        cwd=cwd,
        env=_clean_env(),
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr[-3000:]
    return json.loads(proc.stdout.strip().splitlines()[-1])


def test_sdist_and_wheel_pass_twine_check(dist: Path) -> None:
    files = sorted(dist.iterdir())
    assert sorted(p.suffix for p in files) == [".gz", ".whl"], files
    proc = subprocess.run(
        [sys.executable, "-m", "twine", "check", "--strict", *map(str, files)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_wheel_holds_the_front_end_data_and_licence(wheel: Path) -> None:
    names = set(zipfile.ZipFile(wheel).namelist())
    for needed in (
        "alwidgets/widgets/_batch.js",
        "alwidgets/widgets/_batch_state.js",
        "alwidgets/widgets/_batch_cards.js",
        "alwidgets/widgets/_chips.js",
        "alwidgets/widgets/_batch.css",
        "alwidgets/py.typed",
    ):
        assert needed in names, f"{needed} is not in {wheel.name}"
    assert any(n.startswith("alwidgets/datasets/data/") for n in names), "sample data missing"
    assert any(n.endswith(".dist-info/licenses/LICENSE") for n in names), sorted(names)[-10:]
    assert not any(n.startswith(("tests/", "docs/", "notebooks/", "benchmarks/")) for n in names)


def test_wheel_environment_has_no_torch_and_imports_the_installed_copy(
    venv: Path, tmp_path: Path
) -> None:
    info = _run(
        venv,
        "import importlib.util, json, alwidgets; print(json.dumps({'file': alwidgets.__file__,"
        " 'version': alwidgets.__version__,"
        " 'torch': importlib.util.find_spec('torch') is not None}))",
        tmp_path,
    )
    assert Path(info["file"]).is_relative_to(venv), info["file"]
    assert info["torch"] is False
    import alwidgets

    assert info["version"] == alwidgets.__version__


QUICKSTART = """
import json
from sklearn.model_selection import train_test_split
from alwidgets import ActiveLabeler
from alwidgets.datasets import load_digits

images, digits = load_digits()
X = images.reshape(len(images), -1) / 255
X_pool, X_test, images_pool, _, y_pool, y_test = train_test_split(
    X, images, digits, test_size=300, random_state=0)
labeler = ActiveLabeler(X_pool, classes=list(range(10)), items=images_pool,
                        store="digits.alw", eval_set=(X_test, y_test), batch_size=8,
                        random_state=0)
first = list(labeler.batch)
for item_id in first:
    labeler.label(item_id, int(y_pool[item_id]))
labeler.retrain(wait=True, timeout=120)
out = {"first": [int(i) for i in first], "labels": len(labeler.labels),
       "version": labeler.model_version, "next": [int(i) for i in labeler.batch],
       "curve": len(labeler.learning_curve)}
labeler.close()
print(json.dumps(out))
"""


def test_quickstart_runs_headless_from_the_wheel(venv: Path, tmp_path: Path) -> None:
    out = _run(venv, QUICKSTART, tmp_path)
    assert len(out["first"]) == 8
    assert out["labels"] == 8
    assert out["version"] >= 1 and out["curve"] >= 1
    assert not set(out["first"]) & set(out["next"]), "the next batch repeats labeled items"
    assert (tmp_path / "digits.alw").is_file()


WIDGET_STATE = """
import json, alwidgets, pathlib
from alwidgets import ActiveLabeler
from alwidgets.datasets import load_digits
from alwidgets.widgets import BatchWidget

images, digits = load_digits()
labeler = ActiveLabeler(images.reshape(len(images), -1)[:200] / 255, classes=list(range(10)),
                        items=images[:200], batch_size=6, random_state=0)

def find(w):
    if isinstance(w, BatchWidget):
        return w
    for child in getattr(w, "children", ()):
        found = find(child)
        if found is not None:
            return found

widget = find(labeler.widget)
state = {k: getattr(widget, k) for k in ("classes", "cards", "batch_id", "next_cards",
         "next_batch_id", "answers", "status", "progress", "empty_text")}
labeler.close()
print(json.dumps({"dir": str(pathlib.Path(alwidgets.__file__).parent / "widgets"),
                  "state": state}))
"""

RENDER = """
async ([base, state]) => {
  class Model {
    constructor(s) { this.state = s; this.handlers = {}; this.sent = []; }
    get(k) { return this.state[k]; }
    set(k, v) { this.state[k] = v; }
    on(ev, cb) { (this.handlers[ev] ||= []).push(cb); }
    off() {}
    send(msg) { this.sent.push(msg); }
    save_changes() {}
  }
  const css = document.createElement("link");
  css.rel = "stylesheet";
  css.href = base + "_batch.css";
  const loaded = new Promise((ok, fail) => { css.onload = ok; css.onerror = fail; });
  document.head.append(css);
  await loaded;
  state._state_esm = await (await fetch(base + "_batch_state.js")).text();
  state._cards_esm = await (await fetch(base + "_batch_cards.js")).text();
  const mod = await import(base + "_batch.js");
  const host = document.createElement("div");
  document.body.append(host);
  await mod.default.render({model: new Model(state), el: host});
  await new Promise((r) => requestAnimationFrame(() => r()));
}
"""


@contextlib.contextmanager
def _serve(directory: Path) -> Iterator[str]:
    """Serve ``directory`` on 127.0.0.1 (a random port) while the block runs."""
    handler = functools.partial(http.server.SimpleHTTPRequestHandler, directory=str(directory))
    handler.log_message = lambda *args: None  # type: ignore[method-assign]
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/"
    finally:
        server.shutdown()
        server.server_close()


def test_front_end_loads_from_the_installed_package(
    venv: Path, tmp_path: Path, chromium: Any
) -> None:
    info = _run(venv, WIDGET_STATE, tmp_path)
    widgets_dir = Path(info["dir"])
    assert widgets_dir.is_relative_to(venv), widgets_dir
    cards = info["state"]["cards"]
    assert len(cards) == 6
    page = chromium.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    requested: list[str] = []
    page.on("request", lambda req: requested.append(req.url.rsplit("/", 1)[-1]))
    try:
        with _serve(widgets_dir) as base:
            page.goto(base + "_batch.css")  # same origin as the module imports
            page.set_content("<!doctype html><html><head></head><body></body></html>")
            page.evaluate(RENDER, [base, info["state"]])
        shown = page.eval_on_selector_all(".alw-card", "cs => cs.map(c => c.dataset.key)")
        assert shown == [c["key"] for c in cards]
        assert page.locator(".alw-card img").count() == 6, "the digit images are not drawn"
        # the installed stylesheet is applied (its variables and the card border radius)
        accent = page.eval_on_selector(
            ".alw-batch", "n => getComputedStyle(n).getPropertyValue('--alw-accent').trim()"
        )
        assert accent, "_batch.css did not apply"
        buttons = page.eval_on_selector_all(
            ".alw-card:first-child .alw-btn", "bs => bs.map(b => b.textContent)"
        )
        assert len(buttons) >= 10 and any("0" in b for b in buttons), buttons  # a key per class
    finally:
        page.close()
    assert errors == [], errors
    assert {"_batch.js", "_batch_state.js", "_batch.css"} <= set(requested), requested

"""Drive a real JupyterLab 4 / Notebook 7 server with headless Chromium.

Plain functions and small classes, no pytest: ``conftest.py`` wraps them in
fixtures, and ``scripts/screenshot.py`` reuses them to make the README picture.

Everything runs from the current virtual environment, on 127.0.0.1, with a
random token, and with every Jupyter directory (config, data, runtime,
workspaces) inside a temporary root so that no user setting leaks in and no
file is left behind.
"""

from __future__ import annotations

import contextlib
import json
import os
import re
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

Kind = Literal["lab", "notebook"]

_ANSI = re.compile(r"\x1b\[[0-9;]*m")

CHROMIUM = Path("/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
    "--disable-dev-shm-usage",
]

# Console messages we know to be harmless. Every entry says where it comes from;
# anything else fails the test.
CONSOLE_ALLOW = (
    # Notebook 7.6.5 logs this on every page load (a settings-schema race in its shell).
    "Cannot read properties of undefined (reading 'schema')",
)


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that is free right now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _jupyter_bin() -> Path:
    return Path(sys.executable).with_name("jupyter")


@dataclass
class JupyterServer:
    """A running ``jupyter lab`` or ``jupyter notebook`` server."""

    kind: Kind
    root: Path
    port: int
    token: str
    proc: subprocess.Popen[bytes]
    log_path: Path

    @property
    def base_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def notebook_url(self, relpath: str) -> str:
        """URL that opens ``relpath`` (relative to the server root) with a fresh layout."""
        if self.kind == "lab":
            return f"{self.base_url}/lab/tree/{relpath}?reset&token={self.token}"
        return f"{self.base_url}/notebooks/{relpath}?token={self.token}"

    def api(self, path: str, method: str = "GET", body: Any = None) -> Any:
        """Call the REST API with the token; return decoded JSON (or None)."""
        data = None if body is None else json.dumps(body).encode()
        req = urllib.request.Request(
            f"{self.base_url}{path}",
            data=data,
            method=method,
            headers={"Authorization": f"token {self.token}"},
        )
        with urllib.request.urlopen(req, timeout=10) as resp:
            raw = resp.read()
        return json.loads(raw) if raw else None

    def log(self) -> str:
        """The server's stdout/stderr so far (for failure messages)."""
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, timeout: float = 15.0) -> None:
        """Shut down through the API (kernels included), then make sure the process is gone."""
        if self.proc.poll() is None:
            with contextlib.suppress(OSError, urllib.error.URLError):
                self.api("/api/shutdown", method="POST")
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                self.proc.terminate()
                try:
                    self.proc.wait(timeout=5)
                except subprocess.TimeoutExpired:
                    self.proc.kill()
                    self.proc.wait(timeout=5)


def start_server(kind: Kind, root: Path, state_dir: Path, timeout: float = 60.0) -> JupyterServer:
    """Start a server of ``kind`` serving ``root``; return once ``/api/status`` answers.

    ``state_dir`` receives the Jupyter config/data/runtime/workspace directories and the log.
    """
    state_dir.mkdir(parents=True, exist_ok=True)
    for sub in ("config", "data", "runtime", "workspaces"):
        (state_dir / sub).mkdir(exist_ok=True)
    # No "get Jupyter news?" toast over the widgets (and no network request for it).
    labconfig = state_dir / "config" / "labconfig"
    labconfig.mkdir(exist_ok=True)
    (labconfig / "page_config.json").write_text(
        json.dumps({"disabledExtensions": {"@jupyterlab/apputils-extension:announcements": True}})
    )
    # Every cell attached and painted: JupyterLab 4.6 skips painting cells out of view
    # (windowing mode "contentVisibility"), and an unpainted prompt reads as "" — a
    # running cell would look finished to run_all.
    tracker = state_dir / "settings" / "@jupyterlab" / "notebook-extension"
    tracker.mkdir(parents=True, exist_ok=True)
    (tracker / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    port = free_port()
    token = secrets.token_hex(16)
    env = {
        **os.environ,
        "JUPYTERLAB_SETTINGS_DIR": str(state_dir / "settings"),
        "JUPYTER_CONFIG_DIR": str(state_dir / "config"),
        "JUPYTER_DATA_DIR": str(state_dir / "data"),
        "JUPYTER_RUNTIME_DIR": str(state_dir / "runtime"),
        "JUPYTER_PLATFORM_DIRS": "1",
        "IPYTHONDIR": str(state_dir / "ipython"),
        "PYDEVD_DISABLE_FILE_VALIDATION": "1",
    }
    args = [
        str(_jupyter_bin()),
        kind,
        "--no-browser",
        "--allow-root",
        "--ServerApp.ip=127.0.0.1",
        f"--port={port}",
        "--ServerApp.port_retries=0",
        f"--IdentityProvider.token={token}",
        f"--ServerApp.root_dir={root}",
        "--ServerApp.disable_check_xsrf=False",
    ]
    if kind == "lab":
        args += [
            f"--LabApp.workspaces_dir={state_dir / 'workspaces'}",
            "--LabApp.news_url=",
            "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate",
        ]
    log_path = state_dir / f"{kind}-server.log"
    log = log_path.open("wb")
    proc = subprocess.Popen(args, cwd=root, env=env, stdout=log, stderr=subprocess.STDOUT)
    log.close()
    server = JupyterServer(kind, root, port, token, proc, log_path)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"jupyter {kind} exited with {proc.returncode}:\n{server.log()}")
        with contextlib.suppress(OSError, urllib.error.URLError, ValueError):
            if server.api("/api/status") is not None:
                return server
        time.sleep(0.2)
    server.stop()
    raise TimeoutError(f"jupyter {kind} did not answer /api/status in {timeout} s:\n{server.log()}")


@contextlib.contextmanager
def running_server(kind: Kind, root: Path, state_dir: Path) -> Iterator[JupyterServer]:
    """Context manager around :func:`start_server` that always stops the server."""
    server = start_server(kind, root, state_dir)
    try:
        yield server
    finally:
        server.stop()


def copy_notebooks(src: Path, dst: Path) -> Path:
    """Copy a notebooks folder without checkpoints or stale session stores."""
    shutil.copytree(
        src,
        dst,
        ignore=shutil.ignore_patterns(
            ".ipynb_checkpoints", ".nbval-*", "__pycache__", "conftest.py", "*.alw*", "*.csv"
        ),
    )
    return dst


def write_notebook(path: Path, cells: list[Any]) -> Path:
    """Write a Python 3 notebook of ``cells`` (nbformat cells) to ``path``; return it."""
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.cells = cells
    nbformat.write(nb, path)
    return path


# --------------------------------------------------------------------------- browser


def launch_chromium(playwright: Any, user_data_dir: Path) -> Any:
    """A headless Debian Chromium in a fresh profile (a persistent context)."""
    return playwright.chromium.launch_persistent_context(
        str(user_data_dir),
        executable_path=str(CHROMIUM),
        headless=True,
        args=CHROMIUM_ARGS,
        viewport={"width": 1400, "height": 1000},
        device_scale_factor=1,
    )


@dataclass
class ConsoleLog:
    """Collects console errors and uncaught page errors of one page."""

    allow: tuple[str, ...] = CONSOLE_ALLOW
    errors: list[str] = field(default_factory=list)
    allowed: list[str] = field(default_factory=list)

    def attach(self, page: Any) -> None:
        page.on("console", self._on_console)
        page.on("pageerror", lambda exc: self._add(f"pageerror: {exc}"))

    def _on_console(self, msg: Any) -> None:
        if msg.type == "error":
            self._add(f"console.error: {msg.text}")

    def _add(self, text: str) -> None:
        (self.allowed if any(a in text for a in self.allow) else self.errors).append(text)

    def unexpected(self) -> list[str]:
        return list(self.errors)


def wait_until(
    predicate: Callable[[], Any], timeout: float, what: str, interval: float = 0.05
) -> Any:
    """Poll ``predicate`` until it returns something truthy; raise with ``what`` otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise TimeoutError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(interval)


class NotebookPage:
    """One notebook open in JupyterLab or Notebook 7 (both share the same cell DOM)."""

    CELL = ".jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook .jp-Cell"

    def __init__(self, page: Any, server: JupyterServer, relpath: str) -> None:
        self.page = page
        self.server = server
        self.relpath = relpath

    # -- opening ---------------------------------------------------------------
    def open(self, timeout: float = 60.0) -> None:
        """Open the notebook and wait until its kernel is idle and wired to the page."""
        self.page.goto(self.server.notebook_url(self.relpath), timeout=timeout * 1000)
        self.page.wait_for_selector(f"{self.CELL}", timeout=timeout * 1000)
        self.wait_kernel_idle(timeout)

    def kernel_status(self) -> str | None:
        """The kernel status shown by the notebook toolbar's execution indicator."""
        return self.page.evaluate(
            """() => {
                const el = document.querySelector(
                  '.jp-NotebookPanel:not(.lm-mod-hidden) .jp-Notebook-ExecutionIndicator');
                return el ? el.getAttribute('data-status') : null;
            }"""
        )

    def kernel_ready(self) -> bool:
        """True once the kernel is idle *and* its info reached the page.

        The execution indicator says "idle" for a moment before any kernel is
        connected, so it is not enough on its own. The debugger toolbar button is
        enabled only after the kernel-info reply arrived over the websocket, which
        is the point where a key press really reaches the kernel (both JupyterLab 4
        and Notebook 7 ship it).
        """
        return bool(
            self.page.evaluate(
                """() => {
                    const panel = document.querySelector('.jp-NotebookPanel:not(.lm-mod-hidden)');
                    if (!panel) return false;
                    const ind = panel.querySelector('.jp-Notebook-ExecutionIndicator');
                    const bug = panel.querySelector('.jp-DebuggerBugButton');
                    return !!ind && ind.getAttribute('data-status') === 'idle'
                        && !!bug && bug.getAttribute('aria-disabled') === 'false';
                }"""
            )
        )

    def wait_kernel_idle(self, timeout: float = 60.0) -> None:
        wait_until(self.kernel_ready, timeout, "the kernel to be connected and idle", 0.1)

    # -- cells -----------------------------------------------------------------
    def cells(self) -> Any:
        return self.page.locator(self.CELL)

    def code_cells(self) -> Any:
        return self.page.locator(f"{self.CELL}.jp-CodeCell")

    def cell_count(self) -> int:
        return int(self.cells().count())

    def prompt(self, cell: Any) -> str:
        # textContent, not innerText: the latter is "" for a cell the browser has not
        # painted (out of view), which would hide a "[*]"
        return str(cell.locator(".jp-InputArea-prompt").text_content() or "").strip()

    def run_cell(self, index: int, timeout: float = 30.0) -> None:
        """Select code cell ``index`` (by its prompt) and press Ctrl+Enter until it runs.

        Ctrl+Enter runs in place, so a retry never advances to another cell, and the
        last cell never gets a new cell appended (Shift+Enter would add one).
        """
        cell = self.code_cells().nth(index)
        before = self.prompt(cell)
        if "*" in before:
            raise RuntimeError(f"code cell {index} is already queued ({before!r})")
        deadline = time.monotonic() + timeout
        while True:
            cell.locator(".jp-InputPrompt").click()
            self.page.keyboard.press("Escape")
            self.page.keyboard.press("Control+Enter")
            with contextlib.suppress(TimeoutError):
                wait_until(lambda: self.prompt(cell) != before, 3.0, f"code cell {index} to start")
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"code cell {index} never started (prompt {before!r})")

    def run_all(self, timeout: float = 120.0) -> None:
        """Run every code cell in order, wait until none is pending, fail on an exception.

        Exceptions are read from the saved notebook (``output_type == "error"``), so a
        warning or log line on stderr is not mistaken for a failure.
        """
        n = int(self.code_cells().count())
        for i in range(n):
            self.run_cell(i)
        wait_until(
            lambda: all("*" not in self.prompt(self.code_cells().nth(i)) for i in range(n)),
            timeout,
            "all code cells to finish",
            interval=0.2,
        )
        self.save()
        errors = [
            f"cell {i}: {out.get('ename')}: {out.get('evalue')}\n"
            + _ANSI.sub("", "\n".join(out.get("traceback", [])[-3:]))
            for i, cell in enumerate(self.model_from_disk()["cells"])
            for out in cell.get("outputs", [])
            if out.get("output_type") == "error"
        ]
        if errors:
            raise AssertionError("a notebook cell raised:\n" + "\n---\n".join(errors))
        model = self.model_from_disk()  # the DOM's prompts are not enough: JupyterLab
        # renders only the cells in view, so a scrolled-away prompt may be stale
        not_run = [
            i
            for i, cell in enumerate(c for c in model["cells"] if c["cell_type"] == "code")
            if cell.get("execution_count") is None and "".join(cell.get("source", "")).strip()
        ]
        if not_run:  # queued but never executed: the kernel died or dropped the queue
            raise AssertionError(
                f"code cells {not_run} did not run (no execution count in the saved "
                "notebook): the kernel restarted or dropped the queue"
            )

    PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"

    def save(self, timeout: float = 60.0, *, first: str = "keys") -> None:
        """Save as a person would; return once the file on disk is rewritten.

        First Ctrl+S from command mode. If the file is not rewritten within a few
        seconds (a busy machine; a key lost to whatever had the focus), the notebook
        toolbar's save button is clicked, and the two alternate until ``timeout``. A
        "File Changed" dialog is answered "Overwrite" (the page holds the executed
        notebook); any other dialog fails the save naming its text. ``first="button"``
        starts with the button (the harness test checks both ways work).
        """
        path = self.server.root / self.relpath
        before = path.stat().st_mtime_ns
        # jupyter_server writes in place and keeps a ".~name" backup until the write is
        # complete: wait for a new mtime, no backup, and JSON that parses.
        backup = path.with_name(".~" + path.name)

        def written() -> bool:
            if path.stat().st_mtime_ns == before or backup.exists():
                return False
            try:
                json.loads(path.read_text(encoding="utf-8"))
            except ValueError:
                return False
            return True

        deadline = time.monotonic() + timeout
        attempt = 0 if first == "keys" else 1
        while True:
            self._answer_dialogs()
            if attempt % 2 == 0:
                self.page.keyboard.press("Escape")
                self.page.keyboard.press("Control+s")
            else:
                self.page.locator(f'{self.PANEL} [data-command="docmanager:save"]').first.click()
            attempt += 1
            left = deadline - time.monotonic()
            with contextlib.suppress(TimeoutError):
                wait_until(written, max(0.5, min(8.0, left)), "the notebook to be saved", 0.1)
                return
            if time.monotonic() > deadline:
                raise TimeoutError(
                    f"timed out after {timeout} s waiting for the notebook to be saved "
                    f"({attempt} tries, Ctrl+S and the toolbar button); page: {self._why_unsaved()}"
                )

    def _answer_dialogs(self) -> None:
        """Overwrite on a "File Changed" dialog; fail on any other open dialog."""
        dialogs = self.page.locator(".jp-Dialog")
        if dialogs.count() == 0:
            return
        text = " ".join(str(dialogs.first.text_content() or "").split())
        if "File Changed" in text:
            dialogs.first.get_by_role("button", name="Overwrite").click()
            return
        raise AssertionError(f"a JupyterLab dialog is open: {text[:500]!r}")

    def _why_unsaved(self) -> str:
        """What the page shows, for an error: dialogs, the focus, the dirty flag."""
        return str(
            self.page.evaluate(
                """(panelSel) => {
                    const panel = document.querySelector(panelSel);
                    const a = document.activeElement;
                    const dialogs = [...document.querySelectorAll('.jp-Dialog')]
                        .map((d) => (d.textContent || '').slice(0, 200));
                    return JSON.stringify({
                        dialogs,
                        focus: a ? `${a.tagName}.${a.className}`.slice(0, 120) : null,
                        dirty: !!document.querySelector('.lm-TabBar-tab.jp-mod-dirty, .jp-mod-dirty'),
                        panel: !!panel,
                    });
                }""",
                self.PANEL,
            )
        )

    def model_from_disk(self) -> dict[str, Any]:
        """The notebook as the server has it on disk (after :meth:`save`)."""
        return json.loads((self.server.root / self.relpath).read_text(encoding="utf-8"))


def cell_sources(nb: dict[str, Any]) -> list[tuple[str, str]]:
    """``(cell_type, source)`` pairs, sources joined, for comparing notebooks."""
    out = []
    for cell in nb["cells"]:
        src = cell["source"]
        out.append((cell["cell_type"], "".join(src) if isinstance(src, list) else src))
    return out


# --------------------------------------------------------------------------- latency

# Installed in the page: the time of every real keydown (its event timestamp, same
# clock as performance.now()), and the time each watched attribute changed on an
# element, plus the next animation frame after it (when the change gets painted).
LATENCY_PROBE_JS = """(attrs) => {
    if (window.__alwLatency) return;
    const rec = {keys: [], changes: []};
    window.__alwLatency = rec;
    document.addEventListener('keydown', (e) => {
        rec.keys.push({key: e.key, t: e.timeStamp});
    }, true);
    const obs = new MutationObserver((muts) => {
        const t = performance.now();
        const items = [];
        for (const m of muts) {
            if (m.type === 'attributes') {
                items.push({attr: m.attributeName, old: m.oldValue,
                            value: m.target.getAttribute(m.attributeName),
                            key: m.target.dataset ? (m.target.dataset.key ?? null) : null});
            }
        }
        if (!items.length) return;
        const entry = {t, frame: null, items};
        rec.changes.push(entry);
        requestAnimationFrame(() => { entry.frame = performance.now(); });
    });
    obs.observe(document.body, {attributes: true, attributeOldValue: true, subtree: true,
                                attributeFilter: attrs});
}"""


def install_latency_probe(page: Any, attributes: list[str]) -> None:
    """Start recording key presses and changes of ``attributes`` anywhere in the page."""
    page.evaluate(LATENCY_PROBE_JS, attributes)


def latency_records(page: Any) -> dict[str, list[dict[str, Any]]]:
    """Everything the probe recorded until the next painted frame; clears it."""
    return dict(
        page.evaluate(
            """async () => {
                // two frames, so every recorded change has its paint time (`frame`)
                await new Promise((r) => requestAnimationFrame(() => requestAnimationFrame(r)));
                const r = window.__alwLatency;
                const out = {keys: r.keys.slice(), changes: r.changes.slice()};
                r.keys.length = 0; r.changes.length = 0; return out; }"""
        )
    )


def first_change_after(
    records: dict[str, list[dict[str, Any]]],
    t_key: float,
    accept: Callable[[dict[str, Any]], bool],
) -> dict[str, Any] | None:
    """The first recorded change after ``t_key`` with an item that ``accept`` likes."""
    for change in records["changes"]:
        if change["t"] >= t_key and any(accept(item) for item in change["items"]):
            return change
    return None


def percentiles(samples: list[float]) -> tuple[float, float]:
    """p50 and p95 (nearest rank) of ``samples``, in the samples' unit."""
    ordered = sorted(samples)
    if not ordered:
        return float("nan"), float("nan")

    def rank(q: float) -> float:
        return ordered[min(len(ordered) - 1, max(0, round(q * len(ordered) + 0.5) - 1))]

    return rank(0.50), rank(0.95)

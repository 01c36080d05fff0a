"""``make demo``, the README's first command, run the way the README says.

It must start JupyterLab on the quickstart notebook on any machine, including one where
the user is root (containers, cloud VMs), where JupyterLab refuses to start without
``--allow-root``. The browser JupyterLab asks to open is a small recorder script (the
``BROWSER`` variable of Python's :mod:`webbrowser`), so the test sees which page a user
would get, then shuts the server down through its API.
"""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import pytest
from helpers import skip_or_fail_in_ci

REPO = Path(__file__).resolve().parents[1]
TOKEN = "alw-demo-test-token"

RECORDER = """\
import sys, pathlib, os
pathlib.Path(os.environ["ALW_DEMO_OPENED"]).write_text(sys.argv[1])
"""


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _need_repo_venv() -> None:
    """``make demo`` installs into the checkout's own ``.venv``; only run it from there."""
    reason = None
    if shutil.which("make") is None:
        reason = "make is not installed"
    elif Path(sys.prefix).resolve() != (REPO / ".venv").resolve():
        reason = (
            f"the suite runs from {sys.prefix}, not this checkout's .venv; make demo would "
            "install into another environment (run the suite with `make test`)"
        )
    if reason is None:
        return
    skip_or_fail_in_ci(f"make demo cannot be tested: {reason}")


def _get(url: str, timeout: float = 5.0) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(url, timeout=timeout) as reply:
            return reply.status, reply.read().decode("utf-8", "replace")
    except urllib.error.HTTPError as err:
        return err.code, ""


@pytest.mark.slow
def test_make_demo_opens_the_quickstart(tmp_path: Path) -> None:
    _need_repo_venv()
    port = _free_port()
    opened = tmp_path / "opened.txt"
    recorder = tmp_path / "recorder.py"
    recorder.write_text(RECORDER)
    env = {
        **os.environ,
        "JUPYTER_TOKEN": TOKEN,
        "JUPYTER_RUNTIME_DIR": str(tmp_path / "runtime"),
        "JUPYTER_CONFIG_DIR": str(tmp_path / "config"),
        "JUPYTERLAB_WORKSPACES_DIR": str(tmp_path / "workspaces"),
        "BROWSER": f"{sys.executable} {recorder} %s",
        "ALW_DEMO_OPENED": str(opened),
    }
    env.pop("MAKEFLAGS", None)
    log = tmp_path / "demo.log"
    with log.open("wb") as out:
        proc = subprocess.Popen(
            ["make", "demo", f"PORT={port}"],
            cwd=REPO,
            env=env,
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 240  # a fresh clone installs the [lab] extra first
        status = 0
        while time.monotonic() < deadline and proc.poll() is None:
            try:
                status, _ = _get(f"{base}/api/status?token={TOKEN}", timeout=2)
            except OSError:
                status = 0
            if status == 200 and opened.exists():
                break
            time.sleep(0.5)
        text = log.read_text(errors="replace")
        assert proc.poll() is None, f"make demo exited with {proc.returncode}:\n{text[-3000:]}"
        assert status == 200, f"the server did not answer on port {port}:\n{text[-3000:]}"
        assert opened.exists(), f"JupyterLab opened no browser page:\n{text[-3000:]}"
        if os.geteuid() == 0:
            assert "--allow-root" in text, "as root, the demo must pass --allow-root and say so"
        # JupyterLab hands the browser a redirect file (or the URL); either names the page
        target = opened.read_text().strip()
        if target.startswith("file://"):
            target = Path(target.removeprefix("file://")).read_text()
        # (JupyterLab serves the notebook's folder, so the page is /lab/tree/quickstart.ipynb)
        page_path = re.search(r"/lab/tree/([^?\"'\s]+)", target)
        assert page_path, f"no notebook page in what JupyterLab opened: {target[:500]}"
        assert page_path.group(1).endswith("quickstart.ipynb"), page_path.group(1)
        code, body = _get(f"{base}/api/contents/{page_path.group(1)}?content=0&token={TOKEN}")
        assert code == 200 and '"type": "notebook"' in body.replace('":"', '": "')
        code, page = _get(f"{base}/lab/tree/{page_path.group(1)}?token={TOKEN}")
        assert code == 200 and "JupyterLab" in page
    finally:
        request = urllib.request.Request(
            f"{base}/api/shutdown?token={TOKEN}", method="POST", data=b""
        )
        try:
            urllib.request.urlopen(request, timeout=5).close()
            proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            pass
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            proc.wait(timeout=30)

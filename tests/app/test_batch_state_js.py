"""The batch front end's pure module (``_batch_state.js``) under Node's test runner.

The JavaScript tests live in ``tests/js/``; this runs them so that ``make test`` does.
Outside CI a machine without ``node`` skips with the reason; with ``CI=true`` it fails.
"""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

from helpers import skip_or_fail_in_ci

REPO = Path(__file__).resolve().parents[2]
JS_TESTS = REPO / "tests" / "js"


def _node() -> str:
    node = shutil.which("node")
    if node is None:
        reason = "Node.js (`node`, >= 18; `make js-deps` installs it) is needed for the JavaScript tests in tests/js/"
        skip_or_fail_in_ci(reason)
    return node


def test_node_tests_of_the_batch_state_module_pass() -> None:
    node = _node()
    version = subprocess.run([node, "--version"], capture_output=True, text=True, check=True)
    major = int(version.stdout.strip().lstrip("v").split(".")[0])
    assert major >= 18, f"Node {version.stdout.strip()} has no `node --test`; use >= 18"
    files = sorted(str(p) for p in JS_TESTS.glob("*.test.mjs"))
    assert files, f"no JavaScript tests found in {JS_TESTS}"
    done = subprocess.run(
        [node, "--test", *files], capture_output=True, text=True, cwd=REPO, timeout=120, check=False
    )
    out = done.stdout + done.stderr
    assert done.returncode == 0, out
    counts = dict(re.findall(r"^# (tests|pass|fail) (\d+)$", out, flags=re.MULTILINE))
    assert int(counts["fail"]) == 0 and int(counts["pass"]) == int(counts["tests"]) >= 20, out

"""Leaving a labeler unclosed: the interpreter exits 0 with nothing on stderr."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

SCRIPT = textwrap.dedent(
    """
    import sys
    import time

    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression

    from alwidgets import ActiveLabeler


    class SlowFit(LogisticRegression):
        def __init__(self, max_iter=200):
            super().__init__(max_iter=max_iter)

        def fit(self, X, y, sample_weight=None):
            time.sleep(1.0)
            return super().fit(X, y, sample_weight)


    if __name__ == "__main__":
        store, mode, when = sys.argv[1:]
        X, y = load_digits(return_X_y=True)
        lab = ActiveLabeler(X[:300], classes=list(range(10)), estimator=SlowFit(),
                            store=store, batch_size=4, retrain_in=mode, random_state=0)
        if when == "in_flight":
            for _ in range(2):  # the first batch ends: a retrain starts; the second
                for item in lab.batch:  # ends while it runs: another is due after it
                    lab.label(item, int(y[item]))
            assert lab.snapshot.version == 0  # still running as the script ends
        print("exiting", flush=True)
    """
)


@pytest.mark.parametrize("mode", ["thread", "process"])
@pytest.mark.parametrize("when", ["idle", "in_flight"])
def test_an_unclosed_labeler_exits_quietly(tmp_path: Path, mode: str, when: str) -> None:
    script = tmp_path / "script.py"
    script.write_text(SCRIPT)
    env = {**os.environ, "OMP_NUM_THREADS": "1", "OPENBLAS_NUM_THREADS": "1"}
    done = subprocess.run(
        [sys.executable, str(script), str(tmp_path / "s.alw"), mode, when],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        cwd=tmp_path,
    )
    assert (done.returncode, done.stderr) == (0, "")
    assert done.stdout == "exiting\n"

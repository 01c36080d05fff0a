"""Where fits run: thread or process, the automatic choice, and the fallback."""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys

import numpy as np
from sklearn.linear_model import LogisticRegression

from alwidgets.app._worker import choose_mode


class OnlyInThisProcess(LogisticRegression):
    """A real classifier that refuses to be unpickled in another process."""

    def __getstate__(self):  # type: ignore[no-untyped-def]
        return {**super().__getstate__(), "_pid": os.getpid()}

    def __setstate__(self, state):  # type: ignore[no-untyped-def]
        if state.pop("_pid") != os.getpid():
            raise RuntimeError("this estimator cannot leave its process")
        super().__setstate__(state)


def test_auto_uses_a_thread_in_scripts_and_for_unimportable_estimators() -> None:
    # pytest runs as a script (__main__ has a file): spawning would re-import it
    assert choose_mode(LogisticRegression(), "margin") == ("thread", "running as a script")
    # a notebook-like __main__ (no file, as in a kernel): the other branches
    code = """
import json
from sklearn.linear_model import LogisticRegression
from alwidgets.app._worker import choose_mode

class Mine(LogisticRegression):  # defined in __main__, like a notebook cell
    pass

print(json.dumps([choose_mode(LogisticRegression(), "margin"), choose_mode(Mine(), "margin"),
                  choose_mode(LogisticRegression(), lambda ctx, n, rng: None)]))
"""
    done = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    modes = json.loads(done.stdout)
    assert modes[0][0] == "process"
    assert modes[1] == ["thread", "the estimator or strategy is defined in the notebook (__main__)"]
    assert modes[2][0] == "thread" and "cannot be pickled" in modes[2][1]


def test_auto_mode_resolves_and_says_why(make_labeler, caplog) -> None:
    with caplog.at_level(logging.INFO, logger="alwidgets"):
        lab = make_labeler(retrain_in="auto")
    assert lab.retrain_in == "auto" and lab.retrain_mode == "thread"  # the argument stays
    assert "retraining in a thread (running as a script)" in caplog.text


def test_process_failure_falls_back_to_a_thread(make_labeler, digits, caplog) -> None:
    _, y, _ = digits
    lab = make_labeler(estimator=OnlyInThisProcess(max_iter=200), retrain_in="process")
    for item in lab.batch:
        lab.label(item, int(y[item]))
    lab.label(lab.batch[0], int(y[lab.batch[0]]))
    with caplog.at_level(logging.WARNING, logger="alwidgets"):
        lab.retrain(wait=True, timeout=120)
    assert lab.model_version >= 1 and lab.last_error is None
    assert lab.learning_curve["n_labels"].iloc[-1] == 5  # trained on every label
    assert lab.retrain_in == "process" and lab.retrain_mode == "thread"
    assert "retraining in a thread from now on" in caplog.text
    notices = [m for m in lab.batch_widget.sent if m["type"] == "notice"]
    assert notices and "worker process failed" in notices[-1]["text"]
    assert np.isfinite(lab.snapshot.scores).sum() > 0


def test_a_kernel_interrupt_does_not_kill_the_worker_process(make_labeler, digits) -> None:
    """Jupyter's interrupt signals the kernel's process group: the retrain worker stays."""
    import signal

    _, y, _ = digits
    lab = make_labeler(retrain_in="process")
    for item in lab.batch:
        lab.label(item, int(y[item]))
    lab.retrain(wait=True, timeout=120)
    executor = lab._worker._executor
    pids = list(executor._processes)  # the worker process(es) of the pool
    assert pids
    for pid in pids:
        os.kill(pid, signal.SIGINT)
    for item in lab.batch:
        lab.label(item, int(y[item]))
    lab.retrain(wait=True, timeout=120)
    assert lab.last_error is None and lab.retrain_mode == "process"
    assert lab._worker._executor is executor and list(executor._processes) == pids
    assert lab.learning_curve["n_labels"].iloc[-1] == 8

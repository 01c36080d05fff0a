"""Claims that hold under load, on both backends: annotator processes claim a batch,
think, and label each item with ``overlap=k`` on short leases, while one of them is
frozen (SIGSTOP) for longer than a lease, one is SIGKILLed and (PostgreSQL) the server
restarts. In the end no item carries more than ``k`` annotators' labels and every
answer a process was told about is in the store: a label or a conflict event."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from store_helpers import team_env

SCRIPT = Path(__file__).parents[2] / "scripts" / "pg_cluster.py"
LEASE = 2.0
FREEZE = 2 * LEASE + 0.5


def _answers(lines: list[str]) -> list[tuple[str, int, Any]]:
    """``(kind, event id, item)`` of every answer a process printed: E label, K conflict."""
    out = []
    for line in lines:
        if line[:2] in ("E ", "K "):
            kind, event_id, item = line.split(" ", 2)
            out.append((kind, int(event_id), json.loads(item)))
    return out


def _restart_server() -> None:
    data = os.environ.get("ALW_PGDATA")
    if not data:
        reason = "needs ALW_PGDATA (the test server's data directory) to restart it"
        if os.environ.get("CI") == "true":
            pytest.fail(reason)
        pytest.skip(reason)
    subprocess.run([sys.executable, str(SCRIPT), "restart", data], check=True, timeout=120)


@pytest.mark.parametrize("overlap", [1, 2])
def test_frozen_killed_and_restarted_annotators_never_exceed_overlap(
    target: Any,
    backend: str,
    spawn_writer: Callable[..., Any],
    monkeypatch: pytest.MonkeyPatch,
    overlap: int,
) -> None:
    items = {1: 80, 2: 50}[overlap]
    go = team_env(monkeypatch, target.directory, target.session, items, overlap, LEASE)
    monkeypatch.setenv("ALW_TEST_BATCH", "4")
    monkeypatch.setenv("ALW_TEST_THINK", "0.15")
    names = ["ana", "bo", "cy", "dee"]  # bo is frozen, cy is killed
    target.open(classes=["neg", "pos"]).close()
    writers = {
        name: spawn_writer("claims", target.target, i, name, 200) for i, name in enumerate(names)
    }
    for writer in writers.values():
        writer.wait_ready()
    t0 = time.monotonic()
    go.touch()
    bo, cy = writers["bo"], writers["cy"]
    frozen_at: float | None = None
    thawed = killed = False
    restarted = backend == "sqlite"
    deadline = time.monotonic() + 120
    while not (thawed and killed and restarted):
        assert time.monotonic() < deadline, "the run did not reach its events"
        if frozen_at is None and any(line.startswith("C ") for line in bo.lines):
            os.kill(bo.proc.pid, signal.SIGSTOP)  # most likely while it thinks: leases lapse
            frozen_at = time.monotonic()
        if frozen_at is not None and not thawed and time.monotonic() - frozen_at > FREEZE:
            os.kill(bo.proc.pid, signal.SIGCONT)
            thawed = True
        lines = list(cy.lines)
        claims = [line for line in lines if line.startswith("C ")]
        if not killed and len(claims) >= 2 and lines[-1][0] in "EK" and lines[-2][0] == "C":
            cy.proc.kill()  # mid-batch: leased, partly answered
            killed = True
        if not restarted and sum(len(_answers(w.lines)) for w in writers.values()) >= 30:
            _restart_server()
            restarted = True
        time.sleep(0.005)
    answered: dict[str, list[tuple[str, int, Any]]] = {}
    for name, writer in writers.items():
        lines, err = writer.finish(timeout=300)
        if name != "cy":
            assert writer.proc.returncode == 0, err
            assert lines[-1] == "DONE"
        answered[name] = _answers(lines)
    seconds = time.monotonic() - t0

    with target.open() as store:
        events = store.events
    # 0 answers lost: every answer a process was told about is stored as it was told
    for name, answers in answered.items():
        for kind, event_id, item in answers:
            row = events.loc[event_id]
            assert (row["annotator"], row["item_id"]) == (name, item)
            assert row["action"] == {"E": "label", "K": "conflict"}[kind]
    told = sum(len(a) for a in answered.values())
    assert told <= len(events) <= told + 1  # + the answer cy was killed before printing
    assert set(events["action"]) <= {"label", "conflict"}  # nobody undid anything
    # 0 items over the overlap: at most k annotators' labels on any item
    labeled: dict[Any, set[str]] = defaultdict(set)
    for item, who in events.loc[events["action"] == "label", ["item_id", "annotator"]].values:
        labeled[item].add(who)
    over = {item: who for item, who in labeled.items() if len(who) > overlap}
    n_labels = int((events["action"] == "label").sum())
    assert n_labels == sum(len(who) for who in labeled.values())  # one label per person
    assert not over
    n_conflicts = int((events["action"] == "conflict").sum())
    print(
        f"\n[{backend}, overlap={overlap}] {seconds:.1f} s, {n_labels} labels on "
        f"{len(labeled)} of {items} items, {n_conflicts} conflicts "
        f"(bo: {sum(k == 'K' for k, _, _ in answered['bo'])}), 0 over overlap, "
        f"0 lost, answers per annotator "
        f"{ {name: len(a) for name, a in answered.items()} }"
    )

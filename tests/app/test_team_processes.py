"""Several annotator *processes*, each running a real ActiveLabeler headless, on one
session: short leases, one annotator frozen (SIGSTOP) past its lease and thawed, and on
PostgreSQL a server restart mid-run. Whatever happens: no item gets labels from more
than ``overlap`` annotators, and no answer is lost (each key press ends in the store as
a label or, when colleagues were first, as a conflict)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from app_helpers import needs

from alwidgets.store import SessionStore

REPO = Path(__file__).parents[2]
SCRIPT = REPO / "scripts" / "pg_cluster.py"

ANNOTATOR = textwrap.dedent(
    """
    import collections, json, sys, time
    from sklearn.datasets import load_digits
    from sklearn.linear_model import LogisticRegression
    from alwidgets import ActiveLabeler

    store, session, name, overlap, seconds, out = sys.argv[1:]
    X, y = load_digits(return_X_y=True)
    lab = ActiveLabeler(X, classes=list(range(10)), estimator=LogisticRegression(max_iter=100),
                        store=store, session=session or None, annotator=name,
                        overlap=int(overlap), lease_seconds=2.0, batch_size=4,
                        retrain_every=0, retrain_in="thread", random_state=0)
    w = lab.batch_widget
    w.sent = collections.deque()  # every reply, not only the last 64
    given, pressed = [], set()
    open(out + ".ready", "w").close()
    deadline = time.monotonic() + float(seconds)
    seq = 0
    while time.monotonic() < deadline:
        cards = [*w.cards, *w.next_cards]  # the front end runs ahead to the prefetched batch
        open_ = [c for c in cards if c["key"] not in w.answers and int(c["key"]) not in pressed]
        if not open_:
            time.sleep(0.1)
            continue
        pos = int(open_[0]["key"])
        seq += 1
        pressed.add(pos)
        given.append([seq, pos])
        w._handle_msg({"content": {"data": {"method": "custom", "content": {
            "type": "action", "seq": seq, "action": "label", "key": str(pos),
            "class_index": int(y[pos]), "batch": w.batch_id, "seconds": 0.2,
            "session": name}}}, "buffers": []})
        time.sleep(0.1)
    end = time.monotonic() + 120  # the store may be back only now: let the retries finish
    while lab._ctl.unsaved_items() and time.monotonic() < end:
        time.sleep(0.2)
    unsaved = [str(i) for i in lab._ctl.unsaved_items()]
    replies = [[m.get("seq"), m["type"]] for m in w.sent
               if m["type"] in ("ack", "nack", "conflict", "unsaved")]
    lab.close()
    json.dump({"given": given, "replies": replies, "unsaved": unsaved}, open(out, "w"))
    """
)


@pytest.fixture(params=["sqlite", "postgresql"])
def backend(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[dict[str, Any]]:
    if request.param == "sqlite":
        yield {"store": str(tmp_path / "team.alw"), "session": "", "data": None}
        return
    url, data = needs("ALW_DATABASE_URL"), needs("ALW_PGDATA")
    session = f"procs{uuid.uuid4().hex[:10]}"
    yield {"store": url, "session": session, "data": data}
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "alw_{session}" CASCADE')


def _server(command: str, data: str) -> None:
    subprocess.run([sys.executable, str(SCRIPT), command, data], check=True, timeout=120)


@pytest.mark.parametrize("overlap", [1, 2])
def test_annotator_processes_never_exceed_overlap_and_lose_no_answer(
    backend: dict[str, Any], overlap: int, tmp_path: Path
) -> None:
    script = tmp_path / "annotator.py"
    script.write_text(ANNOTATOR)
    env = {**os.environ, "PYTHONPATH": str(REPO), "OMP_NUM_THREADS": "1"}
    names = ["ana", "bo", "cy"]
    outs = {n: tmp_path / f"{n}.json" for n in names}
    procs = {
        n: subprocess.Popen(
            [
                sys.executable,
                str(script),
                backend["store"],
                backend["session"],
                n,
                str(overlap),
                "16",
                str(outs[n]),
            ],
            env=env,
            cwd=tmp_path,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for n in names
    }
    try:
        deadline = time.monotonic() + 180
        while not all(Path(str(o) + ".ready").exists() for o in outs.values()):
            assert time.monotonic() < deadline, "the annotators did not start"
            assert all(p.poll() is None for p in procs.values()), "an annotator died"
            time.sleep(0.2)
        time.sleep(2)
        os.kill(procs["ana"].pid, signal.SIGSTOP)  # frozen past its 2 s leases
        time.sleep(5)
        os.kill(procs["ana"].pid, signal.SIGCONT)  # it answers the cards it still shows
        if backend["data"] is not None:
            time.sleep(1)
            _server("pause", backend["data"])  # a restart mid-run
            time.sleep(3)
            _server("resume", backend["data"])
        for n, p in procs.items():
            _, err = p.communicate(timeout=400)
            assert p.returncode == 0, f"{n} failed:\n{err[-3000:]}"
    finally:
        for p in procs.values():
            if p.poll() is None:
                os.kill(p.pid, signal.SIGCONT)
                p.kill()
    reports = {n: json.loads(outs[n].read_text()) for n in names}
    with SessionStore(backend["store"], session=backend["session"] or None) as store:
        events = store.events
    live = events[~events["undone"] & (events["action"] == "label")]
    per_item = live.groupby("item_id")["annotator"].nunique()
    assert len(per_item) > 30  # they did label a good deal
    assert int(per_item.max()) <= overlap, per_item[per_item > overlap]  # 0 items over
    for n, report in reports.items():
        assert report["unsaved"] == [], (n, report["unsaved"])
        final = {}
        for seq, kind in report["replies"]:
            if kind != "unsaved":
                final[seq] = kind
        given = {seq for seq, _ in report["given"]}
        assert set(final) == given, (n, given - set(final))  # every answer got its end
        assert "nack" not in final.values(), n  # none refused
        mine = events[events["annotator"] == n]
        stored = mine[mine["action"].isin(["label", "conflict"])]
        assert sorted(stored["item_id"]) == sorted(pos for _, pos in report["given"])
        acks = sum(1 for k in final.values() if k == "ack")
        conflicts = sum(1 for k in final.values() if k == "conflict")
        assert (stored["action"] == "label").sum() == acks  # 0 answers lost, none doubled
        assert (stored["action"] == "conflict").sum() == conflicts

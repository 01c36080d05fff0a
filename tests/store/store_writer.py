"""A child process that writes to a session store, for the crash and concurrency tests.

Run as ``python store_writer.py MODE PATH SEED ANNOTATOR [N]``:

``crash``
    Print ``READY``, then record random actions forever. After each call returns,
    print one line: ``E <event_id> <action> <item json>`` for label/skip/unsure,
    ``U <undo_event_id> <undone_event_id>`` for an undo, ``N`` for an undo with
    nothing to undo. The parent kills the process with SIGKILL at a random moment.
``burst``
    Print ``READY``, wait for the file ``PATH.go``, record ``N`` actions (items
    ``<ANNOTATOR>-<i>``, every 10th action an undo, up to 2 ms apart), print the
    same lines, then ``DONE``.
``team``
    Work as one annotator of a team (``PATH`` is a file or a ``postgresql://`` URL;
    the environment gives ``ALW_TEST_SESSION``, ``ALW_TEST_OVERLAP``,
    ``ALW_TEST_LEASE``, ``ALW_TEST_ITEMS`` (pool size) and ``ALW_TEST_GO`` (a file to
    wait for)). ``N`` batches: claim 5 items of the pool (``C <items json>``), label
    each (``E <event_id> label <item json>`` once acknowledged; a failed call prints
    ``X <error>`` and is retried with the same store object), then ``DONE``.
``claims``
    Like ``team``, the way an app works: claim ``ALW_TEST_BATCH`` items with
    ``lease_seconds=ALW_TEST_LEASE`` (``C <items json>``), "think" up to
    ``ALW_TEST_THINK`` seconds per item, label it with ``overlap=ALW_TEST_OVERLAP``:
    ``E <event_id> <item json>`` for a label, ``K <event_id> <item json>`` for a
    conflict (``LabelConflictError``); ``X <error>`` before a retry of the same call
    after "store unreachable". Stops after ``N`` batches or when two claims a lease
    apart find nothing, then ``DONE``.

Importing this module does nothing (pytest collects it for doctests).
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings
from typing import Any


def _team(target: str, seed: int, annotator: str, n: int) -> None:
    import random

    from alwidgets.exceptions import StoreError
    from alwidgets.store import SessionStore

    rng = random.Random(seed)
    env = os.environ
    session = env.get("ALW_TEST_SESSION") or None
    overlap, lease = int(env["ALW_TEST_OVERLAP"]), float(env["ALW_TEST_LEASE"])
    pool = list(range(int(env["ALW_TEST_ITEMS"])))
    store = SessionStore(target, classes=["neg", "pos"], annotator=annotator, session=session)
    print("READY", flush=True)
    while not os.path.exists(env["ALW_TEST_GO"]):
        time.sleep(0.001)
    for _ in range(n):
        while True:
            try:
                batch = store.claim(pool, 5, overlap=overlap, lease_seconds=lease)
                break
            except StoreError as err:
                print(f"X {err}", flush=True)
        if not batch:
            break
        print(f"C {json.dumps(batch)}", flush=True)
        for item in batch:
            label = rng.choice(["neg", "pos"])
            while True:  # the same call again: the store records it at most once
                try:
                    event_id = store.label(item, label)
                    break
                except StoreError as err:
                    print(f"X {err}", flush=True)
            print(f"E {event_id} label {json.dumps(item)}", flush=True)
            time.sleep(rng.uniform(0, 0.01))
    print("DONE", flush=True)
    store.close()


def _claims(target: str, seed: int, annotator: str, n: int) -> None:
    import random

    from alwidgets.exceptions import LabelConflictError, StoreError
    from alwidgets.store import SessionStore

    rng = random.Random(seed)
    env = os.environ
    overlap, lease = int(env["ALW_TEST_OVERLAP"]), float(env["ALW_TEST_LEASE"])
    batch, think = int(env["ALW_TEST_BATCH"]), float(env["ALW_TEST_THINK"])
    pool = list(range(int(env["ALW_TEST_ITEMS"])))
    session = env.get("ALW_TEST_SESSION") or None
    store = SessionStore(target, classes=["neg", "pos"], annotator=annotator, session=session)

    def retried(call: Any) -> Any:
        while True:
            try:
                return call()
            except StoreError as err:
                if not str(err).startswith("store unreachable"):
                    raise
                print(f"X {err}", flush=True)

    print("READY", flush=True)
    while not os.path.exists(env["ALW_TEST_GO"]):
        time.sleep(0.001)
    empty = 0
    for _ in range(n):
        items = retried(lambda: store.claim(pool, batch, overlap=overlap, lease_seconds=lease))
        if not items:
            empty += 1
            if empty == 2:
                break
            time.sleep(lease)  # leases of someone gone end by then
            continue
        empty = 0
        print(f"C {json.dumps(items)}", flush=True)
        for item in items:
            time.sleep(rng.uniform(0, think))
            label = rng.choice(["neg", "pos"])
            try:
                event_id = retried(
                    lambda item=item, label=label: store.label(item, label, overlap=overlap)
                )
                print(f"E {event_id} {json.dumps(item)}", flush=True)
            except LabelConflictError as err:
                print(f"K {err.event_id} {json.dumps(item)}", flush=True)
    print("DONE", flush=True)
    store.close()


def _run(mode: str, path: str, seed: int, annotator: str, n: int) -> None:
    import random

    from alwidgets.store import NothingToUndoWarning, SessionStore

    warnings.simplefilter("ignore", NothingToUndoWarning)
    rng = random.Random(seed)
    store = SessionStore(path, classes=["neg", "pos", 7], annotator=annotator)
    print("READY", flush=True)
    if mode == "burst":
        while not os.path.exists(path + ".go"):
            time.sleep(0.001)
    i = 0
    while mode == "crash" or i < n:
        roll = rng.random()
        if (mode == "crash" and roll < 0.1) or (mode == "burst" and i % 10 == 9):
            undone = store.undo()
            line = "N" if undone is None else f"U {undone['undo_event_id']} {undone['event_id']}"
        else:
            item: int | str = rng.randrange(50) if roll < 0.5 else f"{annotator}-{i}"
            if mode == "burst":
                item = f"{annotator}-{i}"
            if roll < 0.8:
                event_id = store.label(item, rng.choice(["neg", "pos", 7]), score=roll, rank=i + 1)
                action = "label"
            elif roll < 0.9:
                event_id, action = store.skip(item), "skip"
            else:
                event_id, action = store.unsure(item), "unsure"
            line = f"E {event_id} {action} {json.dumps(item)}"
        print(line, flush=True)
        if mode == "burst":
            time.sleep(rng.uniform(0, 0.002))  # a (very fast) human: lets writers interleave
        i += 1
    print("DONE", flush=True)
    store.close()


if __name__ == "__main__":
    _mode, _path, _seed, _annotator = sys.argv[1:5]
    _n = int(sys.argv[5]) if len(sys.argv) > 5 else 0
    if _mode == "team":
        _team(_path, int(_seed), _annotator, _n)
    elif _mode == "claims":
        _claims(_path, int(_seed), _annotator, _n)
    else:
        _run(_mode, _path, int(_seed), _annotator, _n)

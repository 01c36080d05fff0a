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

Importing this module does nothing (pytest collects it for doctests).
"""

from __future__ import annotations

import json
import os
import sys
import time
import warnings


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
                event_id = store.label(item, rng.choice(["neg", "pos", 7]), score=roll, rank=i)
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
    _run(_mode, _path, int(_seed), _annotator, _n)

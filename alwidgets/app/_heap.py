"""Keep Python's full garbage collections off the key path while a labeler is open.

A full (generation 2) collection walks every object the collector tracks. In a
notebook kernel that is hundreds of thousands of them — plotly's ``FigureWidget``
import alone brings about 180,000 (through ``nbformat`` → ``jsonschema`` → a ``lark``
grammar) — and a walk took 125–175 ms on the 2-core machine the benchmarks run on:
a key press that lands in one waits that long (``benchmarks/bench_app_latency.py``).
Those objects were there before the labeler and stay for the kernel's life, so
walking them finds nothing.

:func:`hold` (each labeler, when it is built) moves every tracked object to the
permanent generation with ``gc.freeze()``; full collections then walk only what
came after. :func:`release` (each labeler's ``close()``) gives them back with
``gc.unfreeze()`` once no labeler holds them. Cyclic garbage among the frozen objects
is collected after that, not lost. A process that froze objects itself (a
``gc.freeze()`` before the first labeler) keeps its own policy: nothing is unfrozen.

Examples
--------
>>> import gc
>>> kept = [{"n": i} for i in range(100)]  # objects from before the labeler
>>> hold()
>>> gc.get_freeze_count() >= len(kept)  # left out of collections while it is open
True
>>> release()  # its close(): the last one gives them back
"""

from __future__ import annotations

import gc
import threading

__all__ = ["hold", "release"]

_lock = threading.Lock()
_holders = 0
_ours = True  # False: the process froze objects before us; never unfreeze them


def hold() -> None:
    """Freeze what the collector tracks now (one more labeler is open)."""
    global _holders, _ours
    with _lock:
        if _holders == 0:
            _ours = gc.get_freeze_count() == 0
        _holders += 1
        gc.freeze()


def release() -> None:
    """One labeler fewer; the last one gives the frozen objects back to the collector."""
    global _holders
    with _lock:
        if _holders == 0:
            return
        _holders -= 1
        if _holders == 0 and _ours:
            gc.unfreeze()

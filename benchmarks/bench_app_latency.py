"""The key path: ``label()`` / a key press -> durable label (+ the next batch), while
a slow retrain runs in the background.

What a person feels is the time from a key press to the kernel having (1) written the
label to the SQLite store (fsync'd), (2) acknowledged it and, at the end of a batch,
(3) shown the prefetched batch and prefetched the following one. The browser marks
the card at once (local state); this benchmark measures the kernel side, where a
background retrain competes for the GIL and the disk.

The goal (issue 14): one labeler, a file store, a 100,000-row pool, a 300-tree random
forest retraining in the background — p95 <= 15 ms for every ``label()`` call, batch
ends included, and no call over 100 ms, against the durable-write floor
(``SessionStore.label`` alone) measured in the same run.

Method: an :class:`~alwidgets.ActiveLabeler` on a synthetic pool
(``make_classification``, 20 features, 4 classes, seeded) gets one answer every
``GAP_S`` seconds, as a fast labeler would: a Python ``label()`` call, or a
front-end-shaped key message (``BatchWidget._handle_msg`` with ``"buffers": []``).
Between answers the main thread sleeps, as a kernel waiting on its socket does, so an
answer's latency includes re-acquiring the GIL when it "arrives": latency = call
returned - scheduled arrival. Retrains start after every batch and run nearly all the
time (each takes seconds); the table says how many answers came during one.

Scenarios, all in the same run (interleaved repetitions):

* ``SessionStore.label`` alone — the floor;
* **no retrain** — the same app with retraining switched off;
* **RandomForest (300 trees)** — fit and predict are Cython that releases the GIL;
* **pure-Python model** — a nearest-centroid classifier whose ``predict_proba``
  loops in Python (a stand-in for Python-heavy models); it holds the GIL;

each model in a background **thread** and in a worker **process**.
"""

from __future__ import annotations

import math
import os
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.datasets import make_classification
from sklearn.ensemble import RandomForestClassifier

from benchmarks._common import md_table, percentiles, rss_mb

GAP_S = 0.05  # one key every 50 ms: a very fast labeler


class PurePythonCentroid(ClassifierMixin, BaseEstimator):
    """Nearest-centroid probabilities computed row by row in pure Python (holds the GIL)."""

    def __init__(self, temperature: float = 1.0) -> None:
        self.temperature = temperature

    def fit(self, X: Any, y: Any) -> PurePythonCentroid:
        X = np.asarray(X, dtype=float)
        y = np.asarray(y)
        self.classes_ = np.unique(y)
        self.centroids_ = [X[y == c].mean(axis=0).tolist() for c in self.classes_]
        self.n_features_in_ = X.shape[1]
        return self

    def predict_proba(self, X: Any) -> np.ndarray:
        rows = np.asarray(X, dtype=float).tolist()
        out = []
        t = self.temperature
        for row in rows:
            d = [
                -math.sqrt(sum((a - b) ** 2 for a, b in zip(row, c, strict=True))) / t
                for c in self.centroids_
            ]
            m = max(d)
            e = [math.exp(v - m) for v in d]
            s = sum(e)
            out.append([v / s for v in e])
        return np.asarray(out)

    def predict(self, X: Any) -> np.ndarray:
        return self.classes_[np.argmax(self.predict_proba(X), axis=1)]


def _send(widget: Any, content: dict[str, Any]) -> None:
    widget._handle_msg(
        {"content": {"data": {"method": "custom", "content": content}}, "buffers": []}
    )


def _scenario(
    name: str,
    estimator: Any,
    mode: str,
    X: np.ndarray,
    y: np.ndarray,
    n_labels: int,
    retrain: bool,
    via: str,
    tmp: Path,
) -> dict[str, Any]:
    from alwidgets import ActiveLabeler

    t0 = time.perf_counter()
    lab = ActiveLabeler(
        X,
        classes=[0, 1, 2, 3],
        estimator=estimator,
        store=tmp / f"{name}-{mode}-{retrain}-{via}.alw",
        batch_size=8,
        strategy="margin",
        retrain_every=None if retrain else 0,
        retrain_in=mode,
        random_state=0,
    )
    setup_s = time.perf_counter() - t0
    w = lab.batch_widget
    if retrain:  # start from a fitted model with a retrain already running
        for item in lab.batch:
            lab.label(item, int(y[item]))
        lab.retrain(wait=True)
        lab.retrain(wait=False, force=True)
    latencies: list[float] = []
    ends: list[bool] = []
    during: list[bool] = []
    late = 0  # keys at which the prefetched batch's cards were not made yet
    start = time.perf_counter() + 0.05
    for i in range(n_labels):
        due = start + i * GAP_S
        pause = due - time.perf_counter()
        if pause > 0:
            time.sleep(pause)  # releases the GIL, like a kernel waiting on its socket
        # after a batch end the following batch's cards are made off the key path: by
        # the next key (GAP_S later) they should be there for the front end to run to
        late += len(w.next_cards) != lab.batch_size
        running = lab._ctl.job_event() is not None
        card = next(c for c in w.cards if c["key"] not in w.answers)
        before = w.batch_id
        pos = int(card["key"])
        if via == "label()":
            lab.label(lab.ids[pos], int(y[pos]))
        else:
            _send(w, {"type": "action", "seq": i + 1, "action": "label", "key": card["key"],
                      "class_index": int(y[pos]), "batch": before, "seconds": 0.3,
                      "session": "bench"})  # fmt: skip
            if w.sent[-1].get("type") != "ack":
                raise RuntimeError(f"label was not acknowledged: {w.sent[-1]}")
        latencies.append(time.perf_counter() - due)
        ends.append(w.batch_id != before)
        during.append(running)
    if not lab._companion.settle(30) or len(w.next_cards) != lab.batch_size:
        raise RuntimeError("the next batch was not prefetched")
    total = time.perf_counter() - start
    models = lab.learning_curve
    fit_s = models["fit_seconds"].tolist() if "fit_seconds" in models else []
    n_durable = len(lab.labels)
    expected = n_labels + (lab.batch_size if retrain else 0)
    lab.close()
    ms = np.asarray(latencies) * 1000
    end_ms = ms[np.asarray(ends)]
    return {
        "model": name,
        "where": mode if retrain else "—",
        "via": via,
        "ms": ms,
        "end_ms": end_ms,
        "during": float(np.mean(during)) if retrain else 0.0,
        "retrains": len(fit_s),
        "fit_s": statistics.median(fit_s) if fit_s else float("nan"),
        "setup_s": setup_s,
        "durable": n_durable == expected,
        "wall_s": total,
        "late": late,
    }


def _store_floor(y: np.ndarray, n_labels: int, tmp: Path) -> dict[str, Any]:
    """The durable write alone (``SessionStore.label``), at the same cadence: the floor."""
    from alwidgets.store import SessionStore

    latencies = []
    with SessionStore(tmp / "floor.alw", classes=[0, 1, 2, 3]) as store:
        start = time.perf_counter() + 0.05
        for i in range(n_labels):
            due = start + i * GAP_S
            pause = due - time.perf_counter()
            if pause > 0:
                time.sleep(pause)
            store.label(i, int(y[i]), shown_at=time.time() - 0.3, strategy="margin")
            latencies.append(time.perf_counter() - due)
        n_durable = len(store.labels)
    ms = np.asarray(latencies) * 1000
    return {
        "model": "store",
        "where": "—",
        "via": "SessionStore.label",
        "ms": ms,
        "end_ms": np.empty(0),
        "during": 0.0,
        "retrains": 0,
        "fit_s": float("nan"),
        "setup_s": 0.0,
        "durable": n_durable == n_labels,
        "wall_s": 0.0,
        "late": 0,
    }


def _aggregate(runs: list[dict[str, Any]]) -> dict[str, Any]:
    """One row from repeated runs: percentiles over all calls, the p95 spread over runs."""
    ms = np.concatenate([r["ms"] for r in runs])
    end_ms = np.concatenate([r["end_ms"] for r in runs])
    p50, p95 = percentiles(ms, (50, 95))
    p95s = [percentiles(r["ms"], (95,))[0] for r in runs]
    fits = [r["fit_s"] for r in runs if np.isfinite(r["fit_s"])]
    return {
        **runs[0],
        "p50": p50,
        "p95": p95,
        "p95_spread": f"{np.mean(p95s):.3g} ± {np.std(p95s):.2g}",
        "max": float(ms.max()),
        "end_p95": percentiles(end_ms, (95,))[0] if len(end_ms) else float("nan"),
        "end_max": float(end_ms.max()) if len(end_ms) else float("nan"),
        "n_ends": len(end_ms),
        "over_100": int((ms > 100).sum()),
        "keys": len(ms),
        "during": float(np.mean([r["during"] for r in runs])),
        "retrains": sum(r["retrains"] for r in runs),
        "fit_s": statistics.median(fits) if fits else float("nan"),
        "durable": all(r["durable"] for r in runs),
        "late": sum(r["late"] for r in runs),
    }


def main(quick: bool = False) -> str:
    n_pool = 10_000 if quick else 100_000
    n_labels = 40 if quick else 240
    reps = 1 if quick else 3
    X, y = make_classification(
        n_samples=n_pool,
        n_features=20,
        n_informative=10,
        n_classes=4,
        random_state=0,
    )
    forest = RandomForestClassifier(n_estimators=60 if quick else 300, random_state=0)
    python_model = PurePythonCentroid()
    plan: list[tuple[str, Any, str, bool, str]] = [
        ("store", None, "—", False, "SessionStore.label"),
        ("RandomForest", forest, "thread", False, "label()"),
        ("RandomForest", forest, "process", True, "label()"),
        ("RandomForest", forest, "thread", True, "label()"),
        ("RandomForest", forest, "process", True, "key message"),
        ("RandomForest", forest, "thread", True, "key message"),
        ("pure-Python centroid", python_model, "process", True, "key message"),
        ("pure-Python centroid", python_model, "thread", True, "key message"),
    ]
    runs: dict[int, list[dict[str, Any]]] = {i: [] for i in range(len(plan))}
    load_before = os.getloadavg()[0]
    with tempfile.TemporaryDirectory() as tmp:
        for rep in range(reps):  # interleaved, so slow drifts of the machine hit all rows
            for i, (name, est, mode, retrain, via) in enumerate(plan):
                where_ = mode if retrain else "idle"
                print(f"  run {rep + 1}/{reps}: {name} / {where_} / {via}", flush=True)
                where = Path(tmp) / f"rep{rep}"
                where.mkdir(exist_ok=True)
                if est is None:
                    row = _store_floor(y, n_labels, where)
                else:
                    row = _scenario(name, est, mode, X, y, n_labels, retrain, via, where)
                runs[i].append(row)
    load_after = os.getloadavg()[0]
    rows = [_aggregate(runs[i]) for i in range(len(plan))]
    floor, goal = rows[0], rows[2]
    labels = [
        "`SessionStore.label` alone (the durable write: floor)",
        "RandomForest, no retrain",
        "RandomForest (300 trees)",
        "RandomForest (300 trees)",
        "RandomForest (300 trees)",
        "RandomForest (300 trees)",
        "pure-Python centroid",
        "pure-Python centroid",
    ]
    table = md_table(
        [
            "what runs",
            "retrain in",
            "answer by",
            "p50 ms",
            "p95 ms",
            "p95 per run (mean ± std)",
            "max ms",
            "batch ends: p95 / max ms",
            "calls > 100 ms",
            "p95 / floor p95",
            "during a retrain",
            "retrains",
            "cards late",
        ],
        [
            (
                label,
                r["where"],
                r["via"],
                r["p50"],
                r["p95"],
                r["p95_spread"],
                r["max"],
                f"{r['end_p95']:.3g} / {r['end_max']:.3g} (n={r['n_ends']})",
                f"{r['over_100']} / {r['keys']}",
                r["p95"] / floor["p95"],
                f"{100 * r['during']:.0f}%",
                r["retrains"],
                r["late"],
            )
            for label, r in zip(labels, rows, strict=True)
        ],
    )
    met = goal["p95"] <= 15 and goal["end_p95"] <= 15 and goal["max"] <= 100
    return f"""## App latency: an answer -> durable label (+ the next batch at a batch end)

Kernel-side latency of {n_labels} answers per run on a {n_pool:,}-item pool
(`make_classification`, 20 features, 4 classes, seed 0), one answer every
{GAP_S * 1000:.0f} ms, batch size 8, strategy `margin`, store in a temporary SQLite file
(WAL, `synchronous=FULL`), one lone labeler. Latency = scheduled arrival to the call's
return: the label is durable (committed and fsync'd), acknowledged, and at a batch end
the prefetched batch is shown and the following one taken from the ranking; its 8 cards
are made by the session's companion thread right after, off the key path, as the
histogram is redrawn (column "cards late": keys at which they were not made yet, of
{n_labels * reps} per row). Retrains start after every batch
and run nearly all the time (column "during a retrain"). {reps} interleaved runs per
row: p50/p95/max over all calls of all runs, and the spread of the runs' p95. The
machine is shared ({os.cpu_count()} cores; 1-minute load average {load_before:.1f} at the
start, {load_after:.1f} at the end), so read the ratios to the floor of the same run.

{table}

- The goal (one labeler, a file store, a {n_pool:,}-row pool, a random forest retraining
  in the background — a worker process, as in a notebook): p95 **{goal["p95"]:.3g} ms**
  for every `label()` call (batch ends: p95 {goal["end_p95"]:.3g} ms, max
  {goal["end_max"]:.3g} ms), max {goal["max"]:.3g} ms, {goal["over_100"]} call(s) over
  100 ms: {"met" if met else "NOT met"} (p95 ≤ 15 ms, batch ends too; none over 100 ms). The durable
  write alone takes p50 {floor["p50"]:.2g} ms / p95 {floor["p95"]:.2g} ms here: the floor of
  any design that acknowledges only durable labels; the app's p95 is
  {goal["p95"] / floor["p95"]:.2g}× it.
- A lone labeler on a file claims no lease and reads no store view at a batch end
  (`tests/app/test_core.py` checks it); a batch end is the queue's advance (the
  following batch's items are taken from the ranking; its cards come after).
- A model that holds the GIL in a thread makes answers wait for the GIL (5 ms switch
  interval per hand-over); in a process it only competes for a core (the worker runs
  at lower priority). Hence `retrain_in="auto"` picks a process in notebooks.
- Every label was in the store when its call returned: {all(r["durable"] for r in rows)}.
- Peak RSS of this process: {rss_mb():.0f} MB.
"""


if __name__ == "__main__":
    print(main(quick=True))

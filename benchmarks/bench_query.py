"""Query speed and memory on a million-row pool: chunked running top-k vs the floor.

Method. A seeded synthetic pool of 1,000,000 × 50 float32 rows (10 Gaussian blobs,
one per class, generated chunk by chunk) and a 10-class ``LogisticRegression``
fitted on 2,000 labeled rows from the same generator. The **floor** is the least
work any uncertainty query must do: ``predict_proba`` over the whole pool at once,
the top probability per row, and one ``argpartition`` — measured in the same run.
``ActiveLearner.query`` scores the pool in 65,536-row chunks with a running top-k.

* Time: best of ``REPEAT`` rounds after one warm-up; each round runs every row once
  (interleaved, so load from other processes hits all rows alike); BLAS limited to
  one thread for every row (``threadpoolctl``). Timing runs first, with the default
  allocator settings.
* Memory: peak traced allocations during the call (``tracemalloc``; numpy reports its
  buffers to it) and peak RSS growth (Linux ``VmHWM`` after resetting it through
  ``/proc/self/clear_refs``). For the memory pass glibc's mmap threshold is pinned at
  128 KiB, so freed buffers go back to the OS and RSS deltas are per call; it is
  pinned only after timing, because per-chunk ``mmap``/``munmap`` would slow the
  chunked path and bias the timing against it. ``scores_`` (float64 per pool row,
  8 MB at 1M rows) is part of our peak and counted, not subtracted.
* Diverse batches (cluster-margin, core-set, BADGE, density) of 100 are compared
  with a plain margin query of 100. Cluster-margin clusters the pool once; its
  first query includes that, later queries on the same pool reuse it.
* Peer: scikit-activeml's ``UncertaintySampling(method="margin_sampling")`` with a
  ``SklearnClassifier`` wrapper and ``fit_clf=False`` (the same fitted model), on the
  same pool. It validates the pool as float64 and keeps a ``(batch, n_pool)``
  utility matrix, so its memory grows with pool × batch.
"""

from __future__ import annotations

import ctypes
import gc
import os
import time
import tracemalloc
from collections.abc import Callable
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from alwidgets import ActiveLearner
from benchmarks._common import md_table

N_FEATURES = 50
N_CLASSES = 10
REPEAT = 7


def make_pool(n: int, seed: int = 0) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Pool (float32, generated in chunks) plus a labeled set from the same blobs."""
    rng = np.random.default_rng(seed)
    centers = rng.normal(0.0, 0.6, size=(N_CLASSES, N_FEATURES)).astype(np.float32)
    X = np.empty((n, N_FEATURES), dtype=np.float32)
    for start in range(0, n, 100_000):
        stop = min(n, start + 100_000)
        lab = rng.integers(N_CLASSES, size=stop - start)
        X[start:stop] = centers[lab] + rng.standard_normal((stop - start, N_FEATURES), np.float32)
    y_lab = np.arange(2000) % N_CLASSES
    X_lab = centers[y_lab] + rng.standard_normal((2000, N_FEATURES), np.float32)
    return X, X_lab, y_lab, centers


def _libc() -> Any:
    try:
        return ctypes.CDLL("libc.so.6")
    except OSError:
        return None


def _pin_malloc() -> bool:
    """Make glibc return freed large buffers to the OS, so RSS deltas are per call."""
    libc = _libc()
    return bool(libc is not None and libc.mallopt(-3, 128 * 1024))  # M_MMAP_THRESHOLD


def _status_kb(field: str) -> int:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith(field):
                return int(line.split()[1])
    return 0


def _peak_rss_delta_mb(fn: Callable[[], Any]) -> float:
    gc.collect()
    libc = _libc()
    if libc is not None:
        libc.malloc_trim(0)  # hand free heap memory back first: growth is then this call's
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
    except OSError:
        return float("nan")
    before = _status_kb("VmRSS")
    fn()
    return (_status_kb("VmHWM") - before) / 1024


def _traced_peak_mb(fn: Callable[[], Any]) -> float:
    gc.collect()
    tracemalloc.start()
    fn()
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    return peak / 2**20


def _interleaved(fns: dict[str, Callable[[], Any]]) -> dict[str, np.ndarray]:
    """Wall times of each function over ``REPEAT`` rounds; each round runs every function
    once, so load drift from other processes hits all of them alike."""
    for fn in fns.values():
        fn()  # warm-up
    samples: dict[str, list[float]] = {name: [] for name in fns}
    for _ in range(REPEAT):
        for name, fn in fns.items():
            t0 = time.perf_counter()
            fn()
            samples[name].append(time.perf_counter() - t0)
    return {name: np.asarray(v) for name, v in samples.items()}


def _ratios(samples: dict[str, np.ndarray], ref: str) -> dict[str, tuple[float, float, float]]:
    """Per function: (best time, best / best of ``ref``, median of same-round ratios)."""
    return {
        name: (
            float(t.min()),
            float(t.min() / samples[ref].min()),
            float(np.median(t / samples[ref])),
        )
        for name, t in samples.items()
    }


def _floor(est: Any, X: np.ndarray, n: int) -> np.ndarray:
    proba = est.predict_proba(X)
    top = proba.max(axis=1)
    return np.argpartition(top, n)[:n]


def _peer(X_lab: np.ndarray, y_lab: np.ndarray, X: np.ndarray, n: int) -> Callable[[], Any] | None:
    """scikit-activeml's margin sampling on the same pool, with the same (pre-fitted) model."""
    try:
        from skactiveml.classifier import SklearnClassifier
        from skactiveml.pool import UncertaintySampling
    except ImportError:
        return None
    clf = SklearnClassifier(LogisticRegression(max_iter=300), classes=np.arange(N_CLASSES))
    clf.fit(X_lab, y_lab)  # fitted once; fit_clf=False measures only the query
    y = np.full(len(X), np.nan)
    qs = UncertaintySampling(method="margin_sampling", random_state=0)
    return lambda: qs.query(X, y, clf, fit_clf=False, batch_size=n)


def main(quick: bool = False) -> str:
    n_pool = 50_000 if quick else 1_000_000
    X, X_lab, y_lab, _ = make_pool(n_pool)
    scores_mb = n_pool * 8 / 2**20
    uncertainty = ("margin", "least_confidence", "entropy")
    diverse = ("cluster_margin", "coreset", "badge", "density", "qbc")
    labels = {
        "floor": "floor: predict_proba + max + argpartition",
        "peer": "scikit-activeml `margin_sampling` (same pool)",
        "cluster_margin": "cluster_margin, later queries (clustering cached)",
        "qbc": "qbc (5 bagged members: 5 predict_proba passes)",
    }
    with threadpool_limits(1):
        est = LogisticRegression(max_iter=300).fit(X_lab, y_lab)
        learners = {
            name: ActiveLearner(LogisticRegression(max_iter=300), name, random_state=0).fit(
                X_lab, y_lab
            )
            for name in uncertainty + diverse
        }
        # 1) time everything with the allocator left alone
        batches: dict[int, dict[str, Callable[[], Any]]] = {}
        times: dict[int, dict[str, tuple[float, float, float]]] = {}
        for n in (10, 100):
            fns: dict[str, Callable[[], Any]] = {"floor": lambda n=n: _floor(est, X, n)}
            for name in uncertainty:
                fns[name] = lambda lr=learners[name], n=n: lr.query(X, n)
            peer = _peer(X_lab, y_lab, X, n)
            if peer is not None:
                fns["peer"] = peer
            batches[n] = fns
            times[n] = _ratios(_interleaved(fns), "floor")
        first_cm = ActiveLearner(
            LogisticRegression(max_iter=300), "cluster_margin", random_state=0
        ).fit(X_lab, y_lab)
        cold = ActiveLearner(LogisticRegression(max_iter=300), "margin", random_state=0)
        div_fns: dict[str, Callable[[], Any]] = {
            "margin": lambda: learners["margin"].query(X, 100),
            "cold_start": lambda: cold.query(X, 100),
        }
        div_fns.update({name: (lambda lr=learners[name]: lr.query(X, 100)) for name in diverse})
        t0 = time.perf_counter()
        first_cm.query(X, 100)
        cm_first = time.perf_counter() - t0
        div_times = _ratios(_interleaved(div_fns), "margin")
        # 2) memory, with freed buffers returned to the OS at once (see module docstring)
        pinned = _pin_malloc()
        rows: list[list[Any]] = []
        for n, fns in batches.items():
            for name, fn in fns.items():
                mem = _traced_peak_mb(fn)
                best, ratio, paired = times[n][name]
                rows.append(
                    [
                        labels.get(name, f"alwidgets `{name}` (chunked)"),
                        n,
                        best,
                        ratio,
                        paired,
                        mem,
                        mem - scores_mb if name in uncertainty else mem,
                        _peak_rss_delta_mb(fn),
                    ]
                )
        margin_t = div_times["margin"][0]
        diverse_rows: list[list[Any]] = [
            ["margin (reference)", margin_t, 1.0, 1.0, _traced_peak_mb(div_fns["margin"])],
            [
                "cluster_margin, first query (clusters the pool once; single run)",
                cm_first,
                cm_first / margin_t,
                float("nan"),
                float("nan"),
            ],
        ]
        for name in (*diverse, "cold_start"):
            if name == "cold_start":
                label = "cold_start (before fit, zero labels; `margin` falls back to it)"
            else:
                label = labels.get(name, name)
            diverse_rows.append([label, *div_times[name], _traced_peak_mb(div_fns[name])])
    size = f"{n_pool:,} × {N_FEATURES} float32"
    out = [
        "## Query speed and memory (`bench_query`)",
        "",
        f"Pool: {size}, seeded Gaussian blobs, 10-class LogisticRegression fitted on 2,000 "
        f"rows. {REPEAT} interleaved rounds after a warm-up; BLAS limited to 1 thread "
        "everywhere (threadpoolctl). Ratios against the floor measured in the same run: "
        "best time over best time, and the median over rounds of the ratio within a round "
        "(robust to load drift on a shared machine). "
        "Memory: peak traced allocations (tracemalloc) and peak RSS growth (VmHWM); our "
        f"peak includes `scores_` ({n_pool * 8 / 2**20:.1f} MB float64)."
        + ("" if pinned else " (glibc mmap threshold could not be pinned: RSS is rough.)"),
        "",
        md_table(
            [
                "query",
                "batch",
                "best time (s)",
                "× floor (best/best)",
                "× floor (median, same round)",
                "peak traced (MB)",
                "extra beyond scores_ (MB)",
                "peak RSS Δ (MB)",
            ],
            rows,
        ),
        "",
        f"### Batches of 100 from {n_pool:,} rows vs a plain margin query of 100",
        "",
        md_table(
            [
                "strategy",
                "best time (s)",
                "× margin (best/best)",
                "× margin (median, same round)",
                "peak traced (MB)",
            ],
            diverse_rows,
        ),
        "",
        "Targets: uncertainty queries ≤ 1.1× the floor in time and ≤ 20 MB extra memory; "
        "diverse batches ≤ 3× a margin query.",
    ]
    return "\n".join(out)


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    print(main(quick=True))

"""Pools beyond memory: a margin query over a 20,000,000 × 32 pool on a Dask LocalCluster.

Method. The pool is generated block by block where it is scored (250,000 rows per
block, 10 Gaussian classes in 32 float32 dimensions, block ``i`` seeded by ``i``):
it never exists in the kernel. A 10-class ``LogisticRegression`` is fitted on 20,000
rows from the same generator. The cluster is a ``LocalCluster`` of 2 worker processes
× 1 thread with a 1.5 GiB memory limit each (the machine has 2 cores).

* **Floor** (same run, same blocks): one process, one BLAS thread, sequentially:
  generate the block, ``predict_proba``, margin, running top-k (``RunningTopK``) —
  the least work a margin query must do on one core.
* **Dask**: ``ActiveLearner.query(pool, 100)`` on the cluster (model scattered once,
  per-block top 100 + histogram counts, tree reduction). Picks are compared with the
  floor's, which uses the same seeded tie-break.
* Kernel memory: RSS sampled every 20 ms during the query, minus the RSS before it
  (the scheduler runs in the kernel process). Workers: peak RSS (``VmHWM``, reset
  before the query) and the worker processes' pids before and after (a restart would
  change them).
* Two-stage ``cluster_margin`` batch of 100 (stage one keeps 1,000 candidates with
  their rows) as a ratio to the margin query on the same pool.
* Label efficiency of the two-stage diversity strategies: the alwidgets oracle loop
  (``simulation._task.run_task``) with the pool as a Dask array (256-row chunks, synchronous
  scheduler: the algorithm does not depend on the scheduler) vs the same loop in
  memory, paired by seed (same split, same initial labels, same learner seed).
"""

from __future__ import annotations

import copy
import os
import threading
import time
import warnings
from typing import Any

import numpy as np

from benchmarks._common import md_table, rss_mb

D = 32
CLASSES = 10
BLOCK_ROWS = 250_000
MEANS = np.random.default_rng(2024).normal(scale=0.6, size=(CLASSES, D)).astype(np.float32)
DIVERSITY = ["cluster_margin", "badge", "coreset", "density", "cold_start"]
SCALE_COLUMNS = [
    "rows",
    "blocks",
    "floor s",
    "Dask s",
    "Dask / floor",
    "same picks",
    "kernel RSS growth MB",
    "worker peak RSS MB",
]


def make_block(i: int, rows: int = BLOCK_ROWS) -> tuple[np.ndarray, np.ndarray]:
    """Block ``i`` of the synthetic pool: rows and their true classes."""
    rng = np.random.default_rng([7, i])
    y = rng.integers(CLASSES, size=rows)
    X = rng.standard_normal((rows, D), dtype=np.float32)
    X += MEANS[y]
    return X, y


def _dask_block(block_id: Any = None, rows: int = BLOCK_ROWS) -> np.ndarray:
    return make_block(int(block_id[0]), rows)[0]


def dask_pool(n_rows: int, rows: int = BLOCK_ROWS) -> Any:
    import dask.array as da

    n_blocks = n_rows // rows
    return da.map_blocks(
        _dask_block,
        rows=rows,
        dtype=np.float32,
        chunks=((rows,) * n_blocks, (D,)),
        meta=np.empty((0, D), np.float32),
    )


def floor(estimator: Any, seed: int, n_rows: int, k: int, rows: int = BLOCK_ROWS) -> np.ndarray:
    from sklearn import config_context
    from threadpoolctl import threadpool_limits

    from alwidgets.strategies import RunningTopK, margin

    run = RunningTopK(k, seed)
    with threadpool_limits(1), config_context(assume_finite=True):
        for i in range(n_rows // rows):
            X = make_block(i, rows)[0]
            run.push(margin(estimator.predict_proba(X)), i * rows)
    return run.result()


def _reset_peak() -> None:
    with open("/proc/self/clear_refs", "w") as fh:
        fh.write("5")


def _peak_mb() -> float:
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
    return float("nan")


def _warm() -> int:
    import sklearn.linear_model  # noqa: F401

    import alwidgets.pools._blocks  # noqa: F401

    return os.getpid()


class RssSampler:
    """Peak RSS of this process while a block of code runs (sampled every 20 ms)."""

    def __enter__(self) -> RssSampler:
        self.base = self.peak = rss_mb()
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)
        self._thread.start()
        return self

    def _run(self) -> None:
        while not self._stop.wait(0.02):
            self.peak = max(self.peak, rss_mb())

    def __exit__(self, *exc: Any) -> None:
        self._stop.set()
        self._thread.join()
        self.peak = max(self.peak, rss_mb())


def _make_blocks(n: int) -> float:
    t0 = time.perf_counter()
    for i in range(n):
        make_block(i)
    return time.perf_counter() - t0


def headroom(n: int = 6) -> float:
    """How much more work two processes do than one on this machine, right now (≤ 2)."""
    from concurrent.futures import ProcessPoolExecutor

    with ProcessPoolExecutor(2) as ex:
        list(ex.map(_make_blocks, [1, 1]))  # start-up and imports
        best = 0.0
        for _ in range(2):
            alone = _make_blocks(n)
            t0 = time.perf_counter()
            list(ex.map(_make_blocks, [n, n]))
            best = max(best, 2 * alone / (time.perf_counter() - t0))
    return best


def _learner(strategy: str) -> Any:
    from sklearn.linear_model import LogisticRegression

    from alwidgets import ActiveLearner

    X, y = make_block(10**6, 20_000)
    return ActiveLearner(LogisticRegression(max_iter=500), strategy, random_state=0).fit(X, y)


def scale(
    sizes: list[int], big: int, repeat: int, trim: bool = True
) -> tuple[list[list[Any]], dict[str, Any]]:
    """Floor vs Dask per size; ``trim=False`` starts the workers without Dask's
    ``MALLOC_TRIM_THRESHOLD_`` (glibc's default allocator, as in the floor's process)."""
    import dask
    from distributed import Client, LocalCluster

    rows: list[list[Any]] = []
    facts: dict[str, Any] = {}
    environ = dict(dask.config.get("distributed.nanny.pre-spawn-environ"))
    if not trim:
        environ.pop("MALLOC_TRIM_THRESHOLD_", None)
    with (
        dask.config.set({"distributed.nanny.pre-spawn-environ": environ}),
        LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            memory_limit="1.5GiB",
            processes=True,
            dashboard_address=":0",
        ) as cluster,
        Client(cluster) as client,
    ):
        pids = client.run(_warm)
        _learner("margin").query(dask_pool(2 * BLOCK_ROWS), 10)  # warm-up: imports, caches
        for n in sizes:
            learner = _learner("margin")
            seed = int(copy.deepcopy(learner._rng()).integers(2**63))
            t_floor, t_dask, growth, peak = [], [], 0.0, 0.0
            for rnd in range(repeat):
                # interleaved (floor first, then Dask first): load from other processes
                # hits both alike; best of the rounds
                for which in ("floor", "dask") if rnd % 2 == 0 else ("dask", "floor"):
                    if which == "floor":
                        t0 = time.perf_counter()
                        expected = floor(learner.estimator_, seed, n, 100)
                        t_floor.append(time.perf_counter() - t0)
                        continue
                    lrn = copy.deepcopy(learner)  # the same random stream every round
                    client.run(_reset_peak)
                    with RssSampler() as rss:
                        t0 = time.perf_counter()
                        got = lrn.query(dask_pool(n), 100)
                        t_dask.append(time.perf_counter() - t0)
                    growth = max(growth, rss.peak - rss.base)
                    peaks = client.run(_peak_mb)
                    peak = max(peak, *peaks.values())
            same = bool(np.array_equal(got, expected))
            tf, td = min(t_floor), min(t_dask)
            rows.append([f"{n:,}", n // BLOCK_ROWS, tf, td, td / tf, same, growth, peak])
            print(f"  {n:,} rows: floor {tf:.1f} s, dask {td:.1f} s, same={same}", flush=True)
            if n == big:
                facts.update(
                    t_dask=td,
                    t_floor=tf,
                    same=same,
                    rss=growth,
                    peaks=peaks,
                    hist=int(lrn.score_histogram_[0].sum()),
                )
                cm = _learner("cluster_margin")
                t0 = time.perf_counter()
                batch = cm.query(dask_pool(n), 100)
                facts["t_cm"] = time.perf_counter() - t0
                facts["cm_ok"] = len(set(batch.tolist())) == 100
        facts["restarted"] = client.run(os.getpid) != pids
        facts["workers"] = len(pids)
    return rows, facts


# -- label efficiency: two-stage (Dask) vs in memory ---------------------------------


def _digits() -> tuple[np.ndarray, np.ndarray]:
    from alwidgets.datasets import load_digits

    images, y = load_digits()
    return (images.reshape(len(images), -1) / 255.0).astype(np.float32), y


def _mnist() -> tuple[np.ndarray, np.ndarray]:
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    from alwidgets.datasets import load_mnist

    images, y = load_mnist()
    X = PCA(n_components=50, random_state=0).fit_transform(images.reshape(len(images), -1) / 255.0)
    return StandardScaler().fit_transform(X).astype(np.float32), y


def _curve(
    X: Any, y: np.ndarray, strategy: str, seed: int, on_dask: bool, loop: dict[str, int]
) -> Any:
    import dask
    import dask.array as da
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.linear_model import LogisticRegression

    from alwidgets.simulation._task import curve_frame, prepare, run_task

    task = prepare(X, y, None, None, 0.25, seed)
    if on_dask:
        task.X_pool = da.from_array(task.X_pool, chunks=(256, X.shape[1]))
    rows: list[dict[str, Any]] = []
    with warnings.catch_warnings(), dask.config.set(scheduler="synchronous"):
        warnings.simplefilter("ignore", ConvergenceWarning)
        run_task(
            LogisticRegression(max_iter=1000),
            task,
            strategy,
            rows=rows,
            order=[],
            callback=None,
            pbar=None,
            **loop,
        )
    return curve_frame(rows)


def efficiency(quick: bool) -> list[list[Any]]:
    from alwidgets.simulation import area_under_curve

    sets = [("digits", _digits, {"initial": 20, "batch_size": 10, "budget": 200})]
    if not quick:
        sets.append(("MNIST 5k", _mnist, {"initial": 20, "batch_size": 20, "budget": 400}))
    seeds = [0] if quick else [0, 1, 2, 3]
    strategies = ["margin", *DIVERSITY] if not quick else ["margin", "cluster_margin"]
    out = []
    for name, load, loop in sets:
        X, y = load()
        for strategy in strategies:
            mem, dsk = [], []
            for seed in seeds:
                mem.append(area_under_curve(_curve(X, y, strategy, seed, False, loop)))
                dsk.append(area_under_curve(_curve(X, y, strategy, seed, True, loop)))
            m, d = np.array(mem), np.array(dsk)
            diff = d - m
            out.append(
                [
                    name,
                    strategy,
                    f"{m.mean():.3f} ± {m.std():.3f}",
                    f"{d.mean():.3f} ± {d.std():.3f}",
                    f"{diff.mean():+.4f} ± {diff.std():.4f}",
                    f"{diff.min():+.4f} … {diff.max():+.4f}",
                ]
            )
            print(f"  {name} {strategy}: Δ {diff.mean():+.4f}", flush=True)
    return out


def main(quick: bool = False) -> str:
    sizes = [500_000, 1_000_000] if quick else [2_000_000, 5_000_000, 20_000_000]
    big = sizes[-1]
    load0 = os.getloadavg()[0]
    spare = headroom()
    rows, f = scale(sizes, big, repeat=1 if quick else 2)
    plain, _ = scale(sizes[1:2], 0, repeat=1 if quick else 2, trim=False)
    load1 = os.getloadavg()[0]
    n_blocks = big // BLOCK_ROWS
    per_block = f["t_dask"] * f["workers"] / n_blocks
    blocks_1e9 = 10**9 // BLOCK_ROWS
    paper = per_block * blocks_1e9 / 50
    eff = efficiency(quick)
    n_mem = 200_000 if quick else 1_000_000
    mem_rows = worker_memory(n_mem)
    peaks = ", ".join(f"{v:.0f}" for v in f["peaks"].values())
    out = [
        "## Dask pools: a margin query where the data lives",
        "",
        f"Pool generated block by block on the workers ({BLOCK_ROWS:,} rows × {D} float32 per "
        "block), 10-class LogisticRegression, margin top-100, LocalCluster of 2 worker "
        "processes × 1 thread, 1.5 GiB limit each. Floor: one process, one BLAS thread, "
        "the same blocks generated and scored sequentially (predict_proba + margin + "
        "running top-k). Best of 2 interleaved rounds per size (floor first, then Dask "
        "first), in the same run. The machine is shared: 1-minute load average "
        f"{load0:.1f} at the start and {load1:.1f} at the end of this part (2 cores), so "
        "absolute times are inflated and noisy; the ratios are what to compare. Two plain "
        f"processes generating blocks did {spare:.2f}× the work of one in the same run "
        f"(the machine's parallel headroom), so {1 / spare:.2f}× the floor is the best any "
        "two-worker cluster could reach here.",
        "",
        md_table(SCALE_COLUMNS, rows),
        "",
        "Dask starts workers with `MALLOC_TRIM_THRESHOLD_=65536` (memory back to the OS "
        "sooner, but every large numpy temporary becomes a fresh `mmap` with page faults); "
        "the floor's process runs glibc's default. The same comparison with the workers on "
        "glibc's default too:",
        "",
        md_table(SCALE_COLUMNS, plain),
        "",
        md_table(
            ["at " + f"{big:,}" + " rows", "measured", "target"],
            [
                ["query time / floor", f"{f['t_dask'] / f['t_floor']:.2f}×", "≤ 0.9×"],
                ["same 100 picks as the floor", f["same"], "exactly"],
                ["kernel RSS growth during the query", f"{f['rss']:.0f} MB", "≤ 150 MB"],
                ["workers' peak RSS", f"{peaks} MB", "< 1,536 MB (limit)"],
                ["a worker restarted", f["restarted"], "no"],
                ["rows counted in score_histogram_", f"{f['hist']:,}", f"{big:,}"],
                [
                    "two-stage cluster_margin (100) / margin (100)",
                    f"{f['t_cm'] / f['t_dask']:.2f}× ({f['t_cm']:.1f} s)",
                    "≤ 2×",
                ],
                ["cluster_margin batch: 100 unique rows", f["cm_ok"], "yes"],
            ],
        ),
        "",
        f"**On paper, 1,000,000,000 rows on 50 workers.** One block of {BLOCK_ROWS:,} rows costs "
        f"{per_block:.2f} s of one worker thread here (Dask time × 2 workers / {n_blocks} "
        f"blocks, generation included). 10⁹ rows are {blocks_1e9:,} blocks, {blocks_1e9 // 50} per "
        f"worker: ≈ {paper:.0f} s of scoring, plus the scheduler's per-task overhead "
        f"(~{blocks_1e9 * 8 // 7:,} tasks with the fan-in-8 reduction, about 1 ms each on "
        "the scheduler: a few seconds) and one model broadcast. The kernel receives "
        "only the merged top-100 and the 50 histogram counts, whatever the pool size.",
        "",
        "### An in-memory pool and the retrain worker process",
        "",
        f'`ActiveLabeler` on a {n_mem:,} × 50 float32 pool with `retrain_in="process"`, '
        "three oracle batches (fresh interpreter per row, `/proc/<pid>/status`). Before, the "
        "worker process was sent the pool pickled: a private copy. Now it gets the path of a "
        "file written once and maps it read-only: the pool's pages there are clean page cache "
        "(file-backed: shared by every process that maps it, and the OS can drop and re-read "
        "them under memory pressure) instead of anonymous memory.",
        "",
        md_table(
            [
                "worker gets",
                "pool MB",
                "kernel RSS MB",
                "worker RSS MB",
                "worker anonymous MB",
                "worker file-backed MB",
                "kernel + worker anonymous MB",
            ],
            mem_rows,
        ),
        "",
        "### Label efficiency: two-stage on Dask vs in memory",
        "",
        "AULC (normalised area under the test-accuracy curve) of the alwidgets oracle loop, "
        "mean ± std over seeds; Δ = Dask − memory, paired by seed (same split, initial "
        "labels and learner seed). digits: pixels/255, initial 20, batch 10, budget 200; "
        "MNIST 5k: PCA-50 + scaling, initial 20, batch 20, budget 400; LogisticRegression; "
        "25 % stratified test split. `margin` is the control (exact: Δ = 0).",
        "",
        md_table(
            ["data", "strategy", "AULC memory", "AULC Dask", "Δ mean ± std", "Δ min … max"], eff
        ),
    ]
    return "\n".join(out)


# -- the in-memory pool in a retrain worker process: shared read-only, not copied -------------


def _worker_memory_child(mode: str, n: int = 1_000_000, d: int = 50) -> None:
    """Runs in a fresh interpreter: an app on an n × d float32 pool, fits in a process."""
    import json

    import psutil
    from sklearn.linear_model import LogisticRegression

    import alwidgets.app._worker as worker
    from alwidgets import ActiveLabeler

    if mode == "copy":  # what the worker got before: the pool pickled into it
        worker.SHARE_MIN_BYTES = 1 << 62
    X = np.random.default_rng(0).standard_normal((n, d), dtype=np.float32)
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    app = ActiveLabeler(
        X,
        classes=[0, 1],
        estimator=LogisticRegression(max_iter=200),
        oracle=y,
        compare_with=[],
        retrain_in="process",
        batch_size=8,
        random_state=0,
    )
    for _ in range(3):
        app.step()
    me = psutil.Process()
    kid = me.children(recursive=True)[-1]

    def mb(p: Any) -> dict[str, float]:
        out = {}
        with open(f"/proc/{p.pid}/status") as fh:
            for line in fh:
                key = line.split(":")[0]
                if key in ("VmRSS", "RssAnon", "RssFile", "RssShmem"):
                    out[key] = int(line.split()[1]) / 1024
        return out

    print(json.dumps({"kernel": mb(me), "worker": mb(kid), "pool": X.nbytes / 2**20}))
    app.close()


def worker_memory(n: int) -> list[list[Any]]:
    import json
    import subprocess
    import sys

    rows = []
    for mode in ("copy", "shared"):
        code = f"from benchmarks.bench_dask import _worker_memory_child as f; f({mode!r}, {n})"
        out = subprocess.run(
            [sys.executable, "-c", code], capture_output=True, text=True, check=True
        ).stdout
        got = json.loads(out.strip().splitlines()[-1])
        k, w = got["kernel"], got["worker"]
        rows.append(
            [
                "pickled copy (before)" if mode == "copy" else "read-only map (now)",
                f"{got['pool']:.0f}",
                f"{k['VmRSS']:.0f}",
                f"{w['VmRSS']:.0f}",
                f"{w['RssAnon']:.0f}",
                f"{w['RssFile']:.0f}",
                f"{k['RssAnon'] + w['RssAnon']:.0f}",
            ]
        )
        print(f"  worker memory ({mode}): {k} / {w}", flush=True)
    return rows

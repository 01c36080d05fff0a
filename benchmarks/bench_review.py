"""Review queue: how many planted wrong labels ``suspect_labels`` puts at the top.

For each data set and seed, a labeled set (500 random items; breast cancer: all 569)
gets 5 % or 10 % of its labels flipped to another class at random. Each method ranks
the labeled items; with ``k`` = the number flipped, precision@k is the share of
flipped items among the top ``k`` and recall@k the share of flipped items found
there (equal for a full ranking; cleanlab's ``find_label_issues`` may flag fewer
than ``k``, then precision counts only what it flagged).

Methods, all on the same model and data:

* **self-confidence** (the plain baseline): ``1 - p(given)`` from one 5-fold
  out-of-fold split.
* **cleanlab**: ``cleanlab.filter.find_label_issues`` on the same out-of-fold
  probabilities, ranked by self-confidence (its default pruning).
* **suspect_labels**: alwidgets' default (3 repeats of 5-fold, class-normalised
  margin), and ablations of its two parts.

cleanlab is AGPL: a benchmark-only dependency (``[bench]`` extra), never imported by
alwidgets.
"""

from __future__ import annotations

import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.utils import _safe_indexing

from alwidgets.review import label_scores, out_of_fold_proba, suspect_labels
from benchmarks import _textdata
from benchmarks._common import md_table
from benchmarks.bench_label_efficiency import _cancer, _digits, _mnist

SIZE = 500
RATES = (0.05, 0.10)


@dataclass
class ReviewSet:
    name: str
    load: Callable[[], tuple[Any, np.ndarray]]
    model: str


def _text(name: str) -> Callable[[], tuple[Any, np.ndarray]]:
    return lambda: (_textdata.text_features(name), _textdata.TEXT_SETS[name]().y)


SETS = [
    ReviewSet("digits", _digits, "LogisticRegression, pixels/255"),
    ReviewSet("MNIST 5k", _mnist, "PCA-50 + scaling + LogisticRegression"),
    ReviewSet(
        "spam subjects",
        _text("spam subjects"),
        "TextFeatures (TF-IDF + MiniLM) + LogisticRegression",
    ),
    ReviewSet(
        "food reviews", _text("food reviews"), "TextFeatures (TF-IDF + MiniLM) + LogisticRegression"
    ),
    ReviewSet("breast cancer", _cancer, "StandardScaler + LogisticRegression"),
]

#: Ablations: suspect_labels with one of its parts switched off.
ABLATIONS = {
    "ablation: no set-aside round": dict(set_aside=False),
    "ablation: 1 split (no repeats)": dict(n_repeats=1),
    "ablation: self-confidence score": dict(score="self_confidence"),
}
METHODS = [
    "suspect_labels",
    "self-confidence (baseline)",
    "cleanlab find_label_issues",
    *ABLATIONS,
]


def flip(y: np.ndarray, rate: float, rng: np.random.Generator) -> tuple[np.ndarray, np.ndarray]:
    """Flip ``rate`` of the labels to another class (uniform); return (noisy, flipped mask)."""
    classes = np.unique(y)
    k = max(1, round(rate * len(y)))
    idx = rng.choice(len(y), size=k, replace=False)
    noisy = y.copy()
    for i in idx:
        noisy[i] = rng.choice(classes[classes != y[i]])
    mask = np.zeros(len(y), dtype=bool)
    mask[idx] = True
    return noisy, mask


def at_k(ranked: np.ndarray, flipped: np.ndarray) -> tuple[float, float]:
    """(precision@k, recall@k), k = number flipped; ``ranked`` may be shorter than k."""
    k = int(flipped.sum())
    top = ranked[:k]
    hits = int(flipped[top].sum())
    return (hits / len(top) if len(top) else 0.0), hits / k


def rank_all(model: Any, X: Any, noisy: np.ndarray, seed: int) -> dict[str, np.ndarray]:
    from cleanlab.filter import find_label_issues

    out: dict[str, np.ndarray] = {}
    out["suspect_labels"] = suspect_labels(model, X, noisy, random_state=seed).index.to_numpy()
    one, classes = out_of_fold_proba(model, X, noisy, cv=5, n_repeats=1, seed=seed)
    given = np.searchsorted(classes, noisy)
    out["self-confidence (baseline)"] = np.argsort(
        -label_scores(one, given, "self_confidence"), kind="stable"
    )
    out["cleanlab find_label_issues"] = np.asarray(
        find_label_issues(given, one, return_indices_ranked_by="self_confidence")
    )
    for name, change in ABLATIONS.items():
        out[name] = suspect_labels(model, X, noisy, random_state=seed, **change).index.to_numpy()
    return out


def run(quick: bool) -> pd.DataFrame:
    seeds = [0, 1] if quick else [0, 1, 2, 3, 4]
    sets = [SETS[0], SETS[4]] if quick else SETS
    rows = []
    for rs in sets:
        X_all, y_all = rs.load()
        for seed in seeds:
            rng = np.random.default_rng(seed)
            n = len(y_all)
            pick = np.sort(rng.choice(n, size=min(SIZE, n), replace=False))
            X, y = _safe_indexing(X_all, pick), y_all[pick]
            for rate in RATES:
                noisy, flipped = flip(y, rate, rng)
                t0 = time.perf_counter()
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    ranks = rank_all(LogisticRegression(max_iter=1000), X, noisy, seed)
                for method, ranked in ranks.items():
                    p, r = at_k(ranked, flipped)
                    rows.append(
                        dict(
                            dataset=rs.name,
                            seed=seed,
                            rate=rate,
                            method=method,
                            k=int(flipped.sum()),
                            precision=p,
                            recall=r,
                            seconds=time.perf_counter() - t0,
                        )
                    )
    return pd.DataFrame(rows)


def _pm(v: pd.Series) -> str:
    a = v.to_numpy(dtype=float)
    if len(a) < 2:
        return f"{a.mean():.3f}"
    return f"{a.mean():.3f} ± {a.std(ddof=1):.3f} ({a.min():.2f} – {a.max():.2f})"


def report(df: pd.DataFrame, quick: bool) -> str:
    n_seeds = df["seed"].nunique()
    lines = [
        "## Review queue: finding planted wrong labels",
        "",
        f"Labeled set of {SIZE} random items per seed (breast cancer: all 569), {n_seeds} seeds; "
        "5 % or 10 % of the labels flipped to another class at random; k = the number flipped. "
        "Mean ± std (min – max) over seeds. LogisticRegression(max_iter=1000) everywhere; "
        "cleanlab gets the baseline's out-of-fold probabilities.",
        "",
        md_table(
            ["dataset", "model"], [[s.name, s.model] for s in SETS if s.name in set(df.dataset)]
        ),
        "",
        "### precision@k per data set (10 % and 5 % flipped)",
        "",
    ]
    table = []
    for (name, rate), part in df.groupby(["dataset", "rate"], sort=False):
        base = part[part.method == "self-confidence (baseline)"].set_index("seed")["precision"]
        for method in METHODS:
            m = part[part.method == method].set_index("seed")
            gain = m["precision"] - base.reindex(m.index)
            table.append(
                [
                    name,
                    f"{rate:.0%}",
                    int(m["k"].iloc[0]),
                    method,
                    _pm(m["precision"]),
                    _pm(m["recall"]),
                    "—" if method.startswith("self") else f"{gain.mean():+.3f}",
                    f"{int((gain >= 0).sum())}/{len(gain)}",
                ]
            )
    lines.append(
        md_table(
            [
                "dataset",
                "flipped",
                "k",
                "method",
                "precision@k",
                "recall@k",
                "Δ vs baseline",
                "≥ baseline (seeds)",
            ],
            table,
        )
    )
    means = df.groupby("method")[["precision", "recall"]].mean().reindex(METHODS)
    lines += [
        "",
        "### Mean over data sets, rates and seeds",
        "",
        md_table(
            ["method", "precision@k", "recall@k"],
            [[m, float(r.precision), float(r.recall)] for m, r in means.iterrows()],
        ),
    ]
    return "\n".join(lines)


def main(quick: bool) -> str:
    return report(run(quick), quick)

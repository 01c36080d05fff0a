"""Review queue: how many planted wrong labels ``suspect_labels`` puts at the top.

For each data set and seed, a labeled set (500 random items; UCLA course titles: all
1,483) gets 5 % or 10 % of its labels flipped to another class at random (uniform), or
10 % flipped to a *plausible* class (drawn from a model's out-of-fold probabilities
of the other classes, fit on the true labels: the mistakes a person is likely to
make, which are harder to find). Each method
ranks the labeled items; with ``k`` = the number flipped, precision@k is the share of
flipped items among the top ``k`` and recall@k the share of flipped items found
there (equal for a full ranking; cleanlab's ``find_label_issues`` may flag fewer
than ``k``, then precision counts only what it flagged).

Methods, all on the same model and data:

* **self-confidence** (the plain baseline): ``1 - p(given)`` from one 5-fold
  out-of-fold split.
* **cleanlab**: ``cleanlab.filter.find_label_issues`` on the same out-of-fold
  probabilities, ranked by self-confidence (its default pruning).
* **suspect_labels**: alwidgets' default (3 repeats of 5-fold, a second round
  without the confident joint's likely-wrong items, the score chosen by the check on
  made-up wrong labels), ablations (each candidate score on the same probabilities;
  no set-aside round), and the **previous default** (the
  same repeats, a set-aside rule "best class after per-class normalisation is not
  the label", always the class-normalised score), rebuilt here from public parts
  with its seeds.

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
#: (share flipped, how the wrong class is drawn)
NOISE = ((0.05, "uniform"), (0.10, "uniform"), (0.10, "plausible"))


@dataclass
class ReviewSet:
    name: str
    load: Callable[[], tuple[Any, np.ndarray]]
    model: str
    size: int | None = SIZE  # labeled items per seed (None: all)


def _text(name: str) -> Callable[[], tuple[Any, np.ndarray]]:
    return lambda: (_textdata.text_features(name), _textdata.TEXT_SETS[name]().y)


def _ucla() -> tuple[Any, np.ndarray]:
    return _textdata.ucla_tfidf(), _textdata.ucla_courses().y


UCLA = "UCLA course titles (16 subjects)"
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
    ReviewSet(
        UCLA,
        _ucla,
        "TF-IDF (fit on all titles) + LogisticRegression; 16 classes of 60 to 136 titles, "
        "all 1,483 labeled",
        size=None,
    ),
]

NEW = "suspect_labels (default)"
OLD = "previous default"
BASE = "self-confidence (baseline)"
CLEANLAB = "cleanlab find_label_issues"
#: The default's probabilities with the score fixed (from ``frame.attrs["candidates"]``).
FIXED = {
    f"score fixed: {c}": c for c in ("self_confidence", "class_normalized", "confidence_margin")
}
#: suspect_labels run with one part changed.
CHANGED = {"no set-aside round": dict(set_aside=False)}
ABLATIONS = [*FIXED, *CHANGED]
MAIN = [NEW, OLD, BASE, CLEANLAB]


def flip(
    y: np.ndarray, rate: float, rng: np.random.Generator, proba: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Flip ``rate`` of the labels to another class; return (noisy, flipped mask).

    The new class is uniform among the others, or, given ``proba`` (rows: items,
    columns: the sorted classes), drawn in proportion to the other classes' probabilities.
    """
    classes = np.unique(y)
    k = max(1, round(rate * len(y)))
    idx = rng.choice(len(y), size=k, replace=False)
    noisy = y.copy()
    for i in idx:
        others = classes != y[i]
        if proba is None:
            noisy[i] = rng.choice(classes[others])
        else:
            w = proba[i, others] + 1e-9
            noisy[i] = rng.choice(classes[others], p=w / w.sum())
    mask = np.zeros(len(y), dtype=bool)
    mask[idx] = True
    return noisy, mask


def at_k(ranked: np.ndarray, flipped: np.ndarray) -> tuple[float, float]:
    """(precision@k, recall@k), k = number flipped; ``ranked`` may be shorter than k."""
    k = int(flipped.sum())
    top = ranked[:k]
    hits = int(flipped[top].sum())
    return (hits / len(top) if len(top) else 0.0), hits / k


def previous_default(model: Any, X: Any, y: np.ndarray, seed: int) -> np.ndarray:
    """The ranking of the previous default, rebuilt from public parts with its seeds."""
    s = int(np.random.SeedSequence(seed).generate_state(1)[0])
    folds = int(min(5, np.unique(y, return_counts=True)[1].min()))
    proba, classes = out_of_fold_proba(model, X, y, cv=folds, n_repeats=3, seed=s)
    given = np.searchsorted(classes, y)
    t = np.array([proba[given == j, j].mean() for j in range(len(classes))])
    aside = (proba / t).argmax(axis=1) != given
    cap = int(0.3 * len(y))
    if aside.sum() > cap:
        top = np.argsort(-label_scores(proba, given, "class_normalized"), kind="stable")[:cap]
        aside = np.zeros(len(y), dtype=bool)
        aside[top] = True
    if np.bincount(given[~aside], minlength=len(classes)).min() >= folds:
        proba, _ = out_of_fold_proba(
            model, X, y, cv=folds, n_repeats=3, seed=s + 1, train_mask=~aside
        )
    return np.argsort(-label_scores(proba, given, "class_normalized"), kind="stable")


def rank_all(model: Any, X: Any, noisy: np.ndarray, seed: int) -> dict[str, Any]:
    """Every method's ranking (positions, most suspect first), its seconds, the score chosen."""
    from cleanlab.filter import find_label_issues

    out: dict[str, Any] = {}

    def timed(name: str, fn: Callable[[], Any]) -> Any:
        t0 = time.perf_counter()
        result = fn()
        out[name] = (result, time.perf_counter() - t0)
        return result

    frame = timed(NEW, lambda: suspect_labels(model, X, noisy, random_state=seed))
    out[NEW] = (frame.index.to_numpy(), out[NEW][1])
    out["chosen"] = frame.attrs["score"]
    for name, c in FIXED.items():  # same probabilities, no extra fit
        ranked = frame.attrs["candidates"][c].sort_values(ascending=False, kind="stable")
        out[name] = (ranked.index.to_numpy(), 0.0)
    timed(OLD, lambda: previous_default(model, X, noisy, seed))

    def baseline() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        one, classes = out_of_fold_proba(model, X, noisy, cv=5, n_repeats=1, seed=seed)
        given = np.searchsorted(classes, noisy)
        order = np.argsort(-label_scores(one, given, "self_confidence"), kind="stable")
        return order, one, given

    order, one, given = timed(BASE, baseline)
    out[BASE] = (order, out[BASE][1])
    timed(
        CLEANLAB,
        lambda: np.asarray(
            find_label_issues(given, one, return_indices_ranked_by="self_confidence")
        ),
    )
    for name, change in CHANGED.items():
        timed(
            name,
            lambda change=change: suspect_labels(
                model, X, noisy, random_state=seed, **change
            ).index.to_numpy(),
        )
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
            if rs.size is None or rs.size >= n:
                X, y = X_all, y_all
            else:
                pick = np.sort(rng.choice(n, size=rs.size, replace=False))
                X, y = _safe_indexing(X_all, pick), y_all[pick]
            plausible = None
            for rate, how in NOISE:
                if how == "plausible" and plausible is None:
                    with warnings.catch_warnings():
                        warnings.simplefilter("ignore", ConvergenceWarning)
                        plausible, _ = out_of_fold_proba(
                            LogisticRegression(max_iter=1000), X, y, cv=5, n_repeats=1, seed=seed
                        )
                noisy, flipped = flip(y, rate, rng, plausible if how == "plausible" else None)
                with warnings.catch_warnings():
                    warnings.simplefilter("ignore", ConvergenceWarning)
                    ranks = rank_all(LogisticRegression(max_iter=1000), X, noisy, seed)
                chosen = ranks.pop("chosen")
                for method, (ranked, seconds) in ranks.items():
                    p, r = at_k(ranked, flipped)
                    rows.append(
                        dict(
                            dataset=rs.name,
                            seed=seed,
                            rate=rate,
                            noise=f"{rate:.0%}" + (" plausible" if how == "plausible" else ""),
                            method=method,
                            k=int(flipped.sum()),
                            n=len(y),
                            precision=p,
                            recall=r,
                            seconds=seconds,
                            chosen=chosen,
                        )
                    )
    return pd.DataFrame(rows)


def _pm(v: pd.Series, fmt: str = ".3f") -> str:
    a = v.to_numpy(dtype=float)
    if len(a) < 2:
        return f"{a.mean():{fmt}}"
    plain = fmt.lstrip("+")
    return f"{a.mean():{fmt}} ± {a.std(ddof=1):{plain}} ({a.min():{fmt}} – {a.max():{fmt}})"


def method_table(df: pd.DataFrame, methods: list[str]) -> str:
    """precision@k, recall@k and the paired difference to the baseline, per set and rate."""
    table = []
    for (name, noise), part in df.groupby(["dataset", "noise"], sort=False):
        base = part[part.method == BASE].set_index("seed")["precision"]
        for method in methods:
            m = part[part.method == method].set_index("seed")
            gain = m["precision"] - base.reindex(m.index)
            table.append(
                [
                    name,
                    noise,
                    int(m["k"].iloc[0]),
                    method,
                    _pm(m["precision"]),
                    _pm(m["recall"]),
                    "—" if method == BASE else _pm(gain, "+.3f"),
                    f"{int((gain >= 0).sum())}/{len(gain)}",
                ]
            )
    headers = [
        "dataset",
        "flipped",
        "k",
        "method",
        "precision@k",
        "recall@k",
        "Δ precision vs baseline (paired)",
        "≥ baseline (seeds)",
    ]
    return md_table(headers, table)


def report(df: pd.DataFrame, quick: bool) -> str:
    n_seeds = df["seed"].nunique()
    methods = [*MAIN, *ABLATIONS]
    sets = [s for s in SETS if s.name in set(df.dataset)]
    new = df[df.method == NEW]
    chosen = (
        new.groupby("dataset", sort=False)["chosen"]
        .value_counts()
        .unstack(fill_value=0)
        .reindex([s.name for s in sets])
    )
    lines = [
        "## Review queue: finding planted wrong labels",
        "",
        f"Labeled set of {SIZE} random items per seed ({UCLA}: all 1,483), {n_seeds} seeds; "
        "5 % or 10 % of the labels flipped to another class at random, or 10 % flipped to a "
        "plausible class (drawn from a clean model's out-of-fold probabilities of the other "
        "classes); k = the number flipped. Mean ± std (min – max) over seeds; the Δ column is the paired "
        "difference to the baseline on the same seed and flips. "
        "LogisticRegression(max_iter=1000) everywhere; cleanlab gets the baseline's "
        "out-of-fold probabilities.",
        "",
        md_table(["dataset", "model"], [[s.name, s.model] for s in sets]),
        "",
        "### The default against the plain baseline, cleanlab and the previous default",
        "",
        method_table(df, MAIN),
        "",
        "### Mean over data sets, noise kinds and seeds",
        "",
        md_table(
            ["method", "precision@k", "recall@k", "worst set: mean Δ vs baseline", "seconds"],
            [
                [
                    m,
                    float(part.precision.mean()),
                    float(part.recall.mean()),
                    _worst(df, m),
                    "in the default's run" if m in FIXED else float(part.seconds.mean()),
                ]
                for m in methods
                for part in [df[df.method == m]]
            ],
        ),
        "",
        "### Which score the check chose (runs per data set, all noise kinds)",
        "",
        md_table(
            ["dataset", *chosen.columns],
            [[name, *map(int, row)] for name, row in chosen.iterrows()],
        ),
        "",
        "### Ablations: the default with one part changed",
        "",
        method_table(df, [NEW, *ABLATIONS]),
    ]
    return "\n".join(lines)


def _worst(df: pd.DataFrame, method: str) -> str:
    """The lowest mean paired Δ precision over (data set, rate) cells, and where."""
    if method == BASE:
        return "—"
    cells = []
    for (name, noise), part in df.groupby(["dataset", "noise"], sort=False):
        base = part[part.method == BASE].set_index("seed")["precision"]
        m = part[part.method == method].set_index("seed")["precision"]
        cells.append((float((m - base.reindex(m.index)).mean()), f"{name} {noise}"))
    value, where = min(cells)
    return f"{value:+.3f} ({where})"


def main(quick: bool) -> str:
    return report(run(quick), quick)

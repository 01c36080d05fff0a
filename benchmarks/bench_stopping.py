"""When to stop: stabilizing predictions with an oracle, against the accuracy a full budget buys.

For each data set and seed: a stratified 25 % test split; the rest is the pool. An
oracle labels batches of 10 chosen by margin sampling (10 random labels first) up to
a budget well past the learning curve's plateau. After every batch the model
predicts a fixed **stop set** (2,000 random pool items, or the whole pool if smaller;
no labels used) and the test set. From the stop-set predictions alone,
:func:`alwidgets.stopping.stability_report` replays the published rule (Bloodgood &
Vijay-Shanker 2009: mean Cohen's κ of the last 3 successive pairs > 0.99) and says
where it first held. Reported:

1. labels used when the signal first holds, test accuracy then, and test accuracy at
   the full budget (paired by seed), for the paper's threshold and two others (the
   paper's point: users should be able to move it);
2. Bloodgood & Grothendieck's bound at the stop, ``4(1 - κ)/κ`` at the window's lowest
   κ, against the F1 changes that actually happened: between the successive models
   of the window (what the bound is about) and from the stop to the end of the budget
   (what a user hopes it says). Binary sets: F1 of the positive class; digits: macro-F1,
   where the bound is a guide, not a theorem;
3. prequential accuracy (the model's suggestion against the oracle's answer on the
   next batch, the last 50 items) at the stop against test accuracy then: the figure
   an app can show without held-out labels.
"""

from __future__ import annotations

import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.exceptions import ConvergenceWarning
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import f1_score
from sklearn.model_selection import train_test_split
from sklearn.utils import _safe_indexing

from alwidgets.simulation import OracleRound, run_oracle_loop
from alwidgets.stopping import stability_report
from benchmarks._common import md_table
from benchmarks.bench_label_efficiency import _cancer, _digits, _spam

BATCH = 10
INITIAL = 10
STOP_SET = 2000
THRESHOLDS = (0.95, 0.99, 0.995)  # 0.99 is the paper's
WINDOW = 3
PREQUENTIAL_ITEMS = 50


@dataclass
class StopSet:
    name: str
    load: Callable[[], tuple[Any, np.ndarray]]
    model: Callable[[], Any]
    model_text: str
    budget: int
    f1: str = "binary"  # or "macro"
    runs: list[dict[str, Any]] = field(default_factory=list, repr=False)


def _lr(C: float = 1.0) -> Callable[[], LogisticRegression]:
    return lambda: LogisticRegression(C=C, max_iter=1000)


def sets(quick: bool) -> list[StopSet]:
    digits = StopSet("digits", _digits, _lr(), "LogisticRegression, pixels/255", 500, "macro")
    cancer = StopSet("breast cancer", _cancer, _lr(), "StandardScaler + LogisticRegression", 300)
    spam = StopSet(
        "spam subjects",
        _spam,
        _lr(C=10),
        "TF-IDF (fit on all 3,600 texts) + LogisticRegression(C=10)",
        1000,
    )
    if quick:
        digits.budget, cancer.budget = 150, 120
        return [digits, cancer]
    return [digits, cancer, spam]


def one_run(s: StopSet, X: Any, y: np.ndarray, seed: int) -> dict[str, Any]:
    """One oracle run: per model, labels, test accuracy and F1, stop-set predictions, prequential hits."""
    X_pool, X_test, y_pool, y_test = train_test_split(
        X, y, test_size=0.25, stratify=y, random_state=seed
    )
    rng = np.random.default_rng(seed)
    n_pool = len(y_pool)
    stop = np.sort(rng.choice(n_pool, size=min(STOP_SET, n_pool), replace=False))
    X_stop = _safe_indexing(X_pool, stop)
    start = rng.choice(n_pool, size=INITIAL, replace=False)
    rows: list[dict[str, Any]] = []
    history: list[np.ndarray] = []
    hits: list[bool] = []  # prequential: suggestion == answer, in labeling order
    last: dict[str, Any] = {}

    def on_round(r: OracleRound) -> None:
        if "pool" in last:  # the previous model's suggestions for the batch just answered
            new = r.positions[last["n"] :]
            hits.extend((last["pool"][new] == y_pool[new]).tolist())
        if not r.fitted:
            last.clear()
            return
        pred = r.learner.predict(X_test)
        rows.append(
            dict(
                n_labels=len(r.positions),
                accuracy=float(np.mean(pred == y_test)),
                f1=float(f1_score(y_test, pred, average=s.f1)),
                prequential=float(np.mean(hits[-PREQUENTIAL_ITEMS:])) if hits else np.nan,
            )
        )
        history.append(r.learner.predict(X_stop))
        last.update(n=len(r.positions), pool=r.learner.predict(X_pool))

    with warnings.catch_warnings():
        warnings.simplefilter("ignore", ConvergenceWarning)
        run_oracle_loop(
            s.model(),
            X_pool,
            y_pool,
            "margin",
            start=start,
            target=s.budget,
            batch_size=BATCH,
            random_state=seed,
            on_round=on_round,
        )
    return {"curve": pd.DataFrame(rows), "history": history, "seed": seed, "pool": n_pool}


def stop_row(run: dict[str, Any], threshold: float) -> dict[str, Any]:
    """Where the rule first held in one run, and what the curve did from there."""
    curve = run["curve"]
    report = stability_report(
        run["history"], window=WINDOW, threshold=threshold, n_labels=curve["n_labels"].tolist()
    )
    final = curve.iloc[-1]
    i = report["first_held"]
    if i is None:
        return dict(held=False, final_accuracy=final.accuracy, budget=int(final.n_labels))
    at = curve.iloc[i]
    prefix = stability_report(run["history"][: i + 1], window=WINDOW, threshold=threshold)
    window_f1 = curve["f1"].iloc[i - WINDOW : i + 1].to_numpy()
    return dict(
        held=True,
        labels=int(at.n_labels),
        accuracy=float(at.accuracy),
        final_accuracy=float(final.accuracy),
        budget=int(final.n_labels),
        kappa=prefix["kappa"],
        bound=prefix["bound"],
        window_df1=float(np.abs(np.diff(window_f1)).max()),
        rest_df1=float(abs(final.f1 - at.f1)),
        rest_max_df1=float(np.abs(curve["f1"].iloc[i:] - at.f1).max()),
        prequential=float(at.prequential),
        changed=prefix["changed_last"],
    )


def run(quick: bool) -> list[StopSet]:
    seeds = [0, 1] if quick else [0, 1, 2, 3, 4]
    done = sets(quick)
    for s in done:
        X, y = s.load()
        s.runs = [one_run(s, X, y, seed) for seed in seeds]
    return done


def _pm(v: Any, fmt: str = ".3f", unit: str = "") -> str:
    a = pd.Series(v, dtype=float).dropna().to_numpy()
    if len(a) == 0:
        return "n/a"
    if len(a) == 1:
        return f"{a[0]:{fmt}}{unit}"
    plain = fmt.lstrip("+")
    return f"{a.mean():{fmt}} ± {a.std(ddof=1):{plain}}{unit} ({a.min():{fmt}} – {a.max():{fmt}})"


def report(done: list[StopSet], quick: bool) -> str:
    n_seeds = len(done[0].runs)
    lines = [
        "## When to stop: stabilizing predictions with an oracle",
        "",
        f"Margin sampling from {INITIAL} random labels in batches of {BATCH} up to the budget, "
        f"{n_seeds} seeds (split, stop set and start drawn per seed); stop set = "
        f"{STOP_SET:,} random pool items (the whole pool when smaller), no labels used. The "
        f"rule (Bloodgood & Vijay-Shanker 2009): mean κ of the last {WINDOW} successive "
        "pairs of models on the stop set > threshold; 0.99 is the paper's. Mean ± std "
        "(min – max) over the seeds where it held.",
        "",
        md_table(
            ["dataset", "model", "pool (test: 25 % more)", "stop set", "budget"],
            [
                [
                    s.name,
                    s.model_text,
                    f"{s.runs[0]['pool']:,}",
                    f"{len(s.runs[0]['history'][0]):,}",
                    s.budget,
                ]
                for s in done
            ],
        ),
        "",
        "### Labels used when the signal first holds, and the accuracy they bought",
        "",
    ]
    table = []
    for s in done:
        for t in THRESHOLDS:
            rows = pd.DataFrame([stop_row(r, t) for r in s.runs])
            held = rows[rows.held]
            gap = held.accuracy - held.final_accuracy if len(held) else pd.Series(dtype=float)
            saved = 1 - held.labels / held.budget if len(held) else pd.Series(dtype=float)
            table.append(
                [
                    s.name,
                    f"{t:g}" + (" (paper)" if t == 0.99 else ""),
                    f"{len(held)}/{len(rows)}",
                    _pm(held.get("labels", []), ".0f"),
                    _pm(saved * 100, ".0f", " %"),
                    _pm(held.get("accuracy", [])),
                    _pm(rows.final_accuracy),
                    _pm(gap, "+.3f"),
                ]
            )
    lines.append(
        md_table(
            [
                "dataset",
                "threshold",
                "held (seeds)",
                "labels at stop",
                "labels saved vs budget",
                "accuracy at stop",
                "accuracy at full budget",
                "Δ accuracy (stop − full, paired)",
            ],
            table,
        )
    )
    lines += [
        "",
        "### The F1 bound at the stop (threshold 0.99) against what happened",
        "",
        "`bound` = 4(1 − κ)/κ at the lowest κ of the window when the rule first held; "
        "`largest ΔF1 in the window` = the largest F1 change (absolute) between successive "
        "models of that window (what the bound bounds); then the F1 change from the stop to "
        "the full budget, and the largest change to any later model.",
        "",
    ]
    bound_rows = []
    for s in done:
        held = pd.DataFrame([stop_row(r, 0.99) for r in s.runs])
        held = held[held.held]
        if not len(held):
            bound_rows.append([s.name, "never held", "", "", "", "", ""])
            continue
        bound_rows.append(
            [
                s.name + (" (macro-F1)" if s.f1 == "macro" else " (F1)"),
                _pm(held.kappa, ".4f"),
                _pm(held.bound),
                _pm(held.window_df1),
                f"{int((held.window_df1 <= held.bound + 1e-12).sum())}/{len(held)}",
                _pm(held.rest_df1),
                _pm(held.rest_max_df1),
            ]
        )
    lines.append(
        md_table(
            [
                "dataset",
                "mean κ at stop",
                "bound",
                "largest ΔF1 in the window",
                "within the bound (seeds)",
                "ΔF1 stop → end",
                "largest ΔF1 after the stop",
            ],
            bound_rows,
        )
    )
    lines += [
        "",
        "### Prequential accuracy (no held-out labels) against test accuracy, at the stop",
        "",
        f"The model's suggestion against the oracle's answer on the next batch, over the "
        f"last {PREQUENTIAL_ITEMS} labeled items, when the 0.99 rule first held. The items "
        "were picked by margin sampling (where the model is least sure), so this is a floor, "
        "not an estimate of test accuracy.",
        "",
    ]
    pre = []
    for s in done:
        held = pd.DataFrame([stop_row(r, 0.99) for r in s.runs])
        held = held[held.held]
        if len(held):
            pre.append(
                [
                    s.name,
                    _pm(held.prequential),
                    _pm(held.accuracy),
                    _pm(held.prequential - held.accuracy, "+.3f"),
                ]
            )
    lines.append(
        md_table(["dataset", "prequential accuracy", "test accuracy", "prequential − test"], pre)
    )
    return "\n".join(lines)


def main(quick: bool) -> str:
    return report(run(quick), quick)

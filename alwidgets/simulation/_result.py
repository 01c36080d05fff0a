"""ComparisonResult: what :func:`alwidgets.compare` measured, summarised and displayable.

Public through :mod:`alwidgets.simulation`; built by :func:`summarise` from the
long DataFrame of learning curves.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from alwidgets.simulation._metrics import area_under_curve, cost_reduction, labels_to_target

if TYPE_CHECKING:  # pragma: no cover
    import plotly.graph_objects as go

__all__ = ["ComparisonResult", "summarise"]


def _fmt_pm(mean: float, std: float, fmt: str) -> str:
    if math.isnan(mean):
        return "not reached"
    spread_fmt = fmt.lstrip("+")
    return f"{mean:{fmt}}" if math.isnan(std) else f"{mean:{fmt}} ± {std:{spread_fmt}}"


def _fmt_saving(is_baseline: bool, mean: float, std: float, pairs: int, seeds: int) -> str:
    """Cost reduction cell; says on how many seeds it is defined when not on all."""
    if is_baseline:
        return "baseline"
    if pairs == 0:
        return "n/a (target not reached)"
    text = _fmt_pm(100 * mean, 100 * std, "+.0f") + " %"
    return text if pairs == seeds else f"{text} ({pairs}/{seeds} seeds)"


@dataclass
class ComparisonResult:
    """What :func:`compare` measured: every curve, per-seed measures and a summary.

    Attributes
    ----------
    curves : DataFrame
        Every learning curve, long format (columns of :func:`simulate`).
    per_seed : DataFrame
        One row per strategy and seed: ``full_score``, ``target``, ``aulc``,
        ``n_to_target`` (NaN = not reached), ``reached``, ``cost_reduction``
        against the baseline on the same seed (NaN unless both reached).
    summary : DataFrame
        One row per strategy: ``aulc_mean``/``aulc_std``, ``aulc_gain_mean``
        (paired AULC difference to the baseline), ``n_to_target_mean``/``_std``
        (over the seeds that reached it), ``reached`` (seeds that reached the
        target), ``n_seeds``, ``cost_reduction_mean``/``_std``/``_min``/``_max``
        and ``n_pairs`` (seeds where both strategy and baseline reached the
        target — the only seeds where a saving is defined).
    metric : str
        Score used for targets and areas.
    target : float
        The ``target`` argument; relative to the full-data score when ``relative``.
    relative : bool
    baseline : str
        Name of the baseline strategy (``"random"``).
    n_range : (int, int)
        Label range every run covers; the AULC is taken over it.
    interrupted : bool
        True when a ``KeyboardInterrupt`` stopped the comparison early.
    """

    curves: pd.DataFrame
    per_seed: pd.DataFrame
    summary: pd.DataFrame
    metric: str
    target: float
    relative: bool
    baseline: str
    n_range: tuple[int, int]
    interrupted: bool = False
    _meta: dict[str, Any] = field(default_factory=dict, repr=False)

    @property
    def strategies(self) -> list[str]:
        """Strategy names, baseline first."""
        return self.summary["strategy"].tolist()

    def describe_target(self) -> str:
        """One line saying what the target is, e.g. ``95% of full-data accuracy (≈ 0.919)``."""
        if self.per_seed.empty:
            return "no finished runs"
        mean_target = float(self.per_seed["target"].mean())
        if self.relative:
            full = float(self.per_seed["full_score"].mean())
            return (
                f"{self.target:.0%} of full-data {self.metric} ({full:.3f}, mean over seeds) "
                f"= {mean_target:.3f}"
            )
        return f"{self.metric} {mean_target:.3f}"

    def table(self) -> pd.DataFrame:
        """The summary as readable strings (what ``repr`` and the notebook display show)."""
        s = self.summary
        out = pd.DataFrame(
            {
                "strategy": s["strategy"],
                "AULC": [
                    _fmt_pm(m, sd, ".3f")
                    for m, sd in zip(s["aulc_mean"], s["aulc_std"], strict=True)
                ],
                "labels to target": [
                    _fmt_pm(m, sd, ".0f")
                    for m, sd in zip(s["n_to_target_mean"], s["n_to_target_std"], strict=True)
                ],
                "reached": [f"{r}/{n}" for r, n in zip(s["reached"], s["n_seeds"], strict=True)],
                "cost reduction": [
                    _fmt_saving(name == self.baseline, m, sd, k, n)
                    for name, m, sd, k, n in zip(
                        s["strategy"],
                        s["cost_reduction_mean"],
                        s["cost_reduction_std"],
                        s["n_pairs"],
                        s["n_seeds"],
                        strict=True,
                    )
                ],
            }
        )
        return out.set_index("strategy")

    def _header(self) -> str:
        seeds = self.per_seed["seed"].nunique() if not self.per_seed.empty else 0
        head = (
            f"ComparisonResult: {len(self.summary)} strategies × {seeds} seeds, "
            f"{self._meta.get('n_pool', '?')} pool / {self._meta.get('n_test', '?')} test items; "
            f"target: {self.describe_target()}; AULC over {self.n_range[0]}–{self.n_range[1]} labels"
        )
        return head + (" (INTERRUPTED: partial results)" if self.interrupted else "")

    def __repr__(self) -> str:
        return f"{self._header()}\n{self.table().to_string()}"

    def _repr_html_(self) -> str:
        note = (
            "<p style='font-size:smaller'>mean ± std over seeds; labels to target over the "
            "seeds that reached it; cost reduction = (n<sub>random</sub> − n)/n<sub>random</sub> "
            "over the seeds where both reached the target.</p>"
        )
        return f"<p><b>{self._header()}</b></p>{self.table().to_html()}{note}"

    def plot(self) -> go.Figure:
        """Mean learning curve per strategy with a ± 1 std band and the target line.

        Returns a plotly ``Figure`` (plotly is imported only here).
        """
        import plotly.graph_objects as go

        fig = go.Figure()
        palette = [
            "#636efa", "#ef553b", "#00cc96", "#ab63fa", "#ffa15a",
            "#19d3f3", "#ff6692", "#b6e880", "#ff97ff", "#fecb52",
        ]  # fmt: skip
        for i, name in enumerate(self.strategies):
            g = self.curves[self.curves["strategy"] == name].groupby("n_labels")[self.metric]
            mean, std = g.mean(), g.std().fillna(0.0)
            x = mean.index.to_numpy()
            color = "#7f7f7f" if name == self.baseline else palette[i % len(palette)]
            fig.add_trace(
                go.Scatter(
                    x=np.concatenate([x, x[::-1]]),
                    y=np.concatenate([(mean + std).to_numpy(), (mean - std).to_numpy()[::-1]]),
                    fill="toself",
                    line={"width": 0},
                    fillcolor=color,
                    opacity=0.15,
                    hoverinfo="skip",
                    showlegend=False,
                    legendgroup=name,
                )
            )
            fig.add_trace(
                go.Scatter(
                    x=x,
                    y=mean.to_numpy(),
                    name=name,
                    legendgroup=name,
                    line={"color": color, "dash": "dash" if name == self.baseline else "solid"},
                )
            )
        if not self.per_seed.empty:
            fig.add_hline(
                y=float(self.per_seed["target"].mean()),
                line={"dash": "dot", "color": "black", "width": 1},
                annotation_text=f"target ({self.describe_target()})",
                annotation_position="bottom right",
            )
        fig.update_layout(
            xaxis_title="labels",
            yaxis_title=self.metric,
            template="plotly_white",
            legend_title="strategy",
            margin={"l": 50, "r": 20, "t": 30, "b": 40},
        )
        return fig


def summarise(
    curves: pd.DataFrame,
    full: dict[int, tuple[float, float]],
    names: list[str],
    baseline: str,
    metric: str,
) -> tuple[pd.DataFrame, pd.DataFrame, tuple[int, int]]:
    runs: dict[tuple[str, int], pd.DataFrame] = {
        (str(name), int(seed)): g  # type: ignore[call-overload]
        for (name, seed), g in curves.groupby(["strategy", "seed"], sort=False)
    }
    if runs:
        lo = max(int(g["n_labels"].min()) for g in runs.values())
        hi = min(int(g["n_labels"].max()) for g in runs.values())
    else:
        lo = hi = 0
    records = []
    for (name, seed), g in runs.items():
        full_score, target = full[seed]
        n_hit = labels_to_target(g, target, metric=metric)
        base = runs.get((baseline, seed))
        records.append(
            {
                "strategy": name,
                "seed": seed,
                "full_score": full_score,
                "target": target,
                "aulc": area_under_curve(g, metric=metric, n_range=(lo, hi))
                if hi >= lo
                else math.nan,
                "n_to_target": n_hit,
                "reached": not math.isnan(n_hit),
                "cost_reduction": (
                    cost_reduction(g, base, target, metric=metric) if base is not None else math.nan
                ),
            }
        )
    per_seed = pd.DataFrame(
        records,
        columns=[
            "strategy", "seed", "full_score", "target", "aulc",
            "n_to_target", "reached", "cost_reduction",
        ],
    )  # fmt: skip
    base_aulc = per_seed[per_seed["strategy"] == baseline].set_index("seed")["aulc"]
    rows = []
    for name in names:
        p = per_seed[per_seed["strategy"] == name]
        if p.empty:
            continue
        gain = p["aulc"].to_numpy() - base_aulc.reindex(p["seed"]).to_numpy()
        cr = p["cost_reduction"].dropna()
        rows.append(
            {
                "strategy": name,
                "aulc_mean": p["aulc"].mean(),
                "aulc_std": p["aulc"].std(),
                "aulc_gain_mean": float(np.nanmean(gain)) if np.isfinite(gain).any() else math.nan,
                "n_to_target_mean": p["n_to_target"].mean(),
                "n_to_target_std": p["n_to_target"].std(),
                "reached": int(p["reached"].sum()),
                "n_seeds": len(p),
                "cost_reduction_mean": cr.mean() if len(cr) else math.nan,
                "cost_reduction_std": cr.std() if len(cr) > 1 else math.nan,
                "cost_reduction_min": cr.min() if len(cr) else math.nan,
                "cost_reduction_max": cr.max() if len(cr) else math.nan,
                "n_pairs": len(cr),
            }
        )
    return per_seed, pd.DataFrame(rows), (lo, hi)

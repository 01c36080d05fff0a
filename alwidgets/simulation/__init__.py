"""Oracle simulations: how many labels does a query strategy save over random sampling?

A simulation replays labeling with the true labels as the oracle: start from a
few labeled items, let an :class:`~alwidgets.ActiveLearner` pick the next
batch, reveal its labels, refit, score on a held-out test set, repeat until the
budget is spent. The result is a **learning curve** (score against number of
labels).

* :func:`simulate` — one strategy, one seed: a learning-curve DataFrame.
* :func:`compare` — several strategies × seeds against random sampling, paired
  by seed (every strategy gets the same test split and the same initial
  labels), summarised as a :class:`ComparisonResult`.
* :func:`cost_reduction` — the honest measure of the saving,
  ``(n_random - n_strategy) / n_random``, where ``n`` is the number of labels
  needed to *first* reach a target score; :func:`labels_to_target` gives ``n``.
* :func:`area_under_curve` — normalised area under a learning curve.
* :func:`run_oracle_loop` — the one oracle loop under all of them (and under the
  app's teaching mode, which races strategies one batch at a time).

Modules: ``_loop`` (the oracle loop), ``_task`` (seeds, split, one run, curve rows),
``_simulate``, ``_compare``, ``_result`` (:class:`ComparisonResult`), ``_metrics``
(labels to target, cost reduction, area under the curve).

Examples
--------
>>> from sklearn.datasets import load_iris
>>> from sklearn.linear_model import LogisticRegression
>>> from alwidgets.simulation import area_under_curve, simulate
>>> X, y = load_iris(return_X_y=True)
>>> curve = simulate(LogisticRegression(max_iter=500), X, y, strategy="random", initial=6,
...                  batch_size=6, budget=30, random_state=0, progress=False)
>>> curve["n_labels"].tolist()
[6, 12, 18, 24, 30]
>>> 0 < area_under_curve(curve) <= 1
True
"""

from __future__ import annotations

from alwidgets.simulation._compare import compare
from alwidgets.simulation._loop import OracleRound, run_oracle_loop
from alwidgets.simulation._metrics import area_under_curve, cost_reduction, labels_to_target
from alwidgets.simulation._result import ComparisonResult
from alwidgets.simulation._simulate import simulate
from alwidgets.simulation._task import CURVE_COLUMNS

__all__ = [
    "CURVE_COLUMNS",
    "ComparisonResult",
    "OracleRound",
    "area_under_curve",
    "compare",
    "cost_reduction",
    "labels_to_target",
    "run_oracle_loop",
    "simulate",
]

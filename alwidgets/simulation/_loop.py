"""The one oracle loop: label with the true labels, fit, query, record — repeat.

:func:`run_oracle_loop` grows a labeled set from ``start`` to ``target`` positions of a
pool, revealing the true label (the *oracle*) of every item the strategy picks. It is
the only such loop in alwidgets: :func:`~alwidgets.simulate` and
:func:`~alwidgets.compare` run it from a seeded random start to the budget, and the
app's teaching mode runs it one step at a time (from a raced strategy's own labeled
positions up to the number of labels the person has given), so a strategy is measured
the same way everywhere.

Each round fits an :class:`~alwidgets.ActiveLearner` on the labeled rows (while they
hold fewer than two classes the learner stays unfitted and its cold-start selector
picks) and hands an :class:`OracleRound` to ``on_round`` — that is where a caller
records a curve point. Without ``on_round`` the loop skips the fit after the last
batch, since nothing would use it.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> from alwidgets.simulation import run_oracle_loop
>>> rng = np.random.default_rng(0)
>>> X = rng.normal(size=(100, 2))
>>> y = (X[:, 0] > 0).astype(int)
>>> seen = []
>>> labeled = run_oracle_loop(LogisticRegression(), X, y, "margin", start=[0, 1, 2, 3],
...                           target=10, batch_size=3, random_state=0,
...                           on_round=lambda r: seen.append((len(r.positions), r.fitted)))
>>> len(labeled), len(set(labeled.tolist())), labeled[:4].tolist()
(10, 10, [0, 1, 2, 3])
>>> seen
[(4, True), (7, True), (10, True)]
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np

from alwidgets._utils import n_rows, strategy_name, take_rows
from alwidgets.exceptions import InvalidInputError

__all__ = ["OracleRound", "run_oracle_loop"]


@dataclass(frozen=True)
class OracleRound:
    """One round of the oracle loop, after the fit on the labels revealed so far.

    Attributes
    ----------
    positions : ndarray of int64
        Labeled pool positions, in the order they were labeled.
    labels : ndarray
        Their true labels (multi-label: indicator rows, shape (n, n_classes)).
    learner : ActiveLearner
        Fitted on them when :attr:`fitted`; unfitted while they hold fewer than two
        classes (then the only sensible prediction is the one class seen, if any).
        Multi-label: fitted from the first labeled row on (constant classes get a prior).
        The loop goes on using (and refitting) this object: use it inside the
        callback, do not keep it.
    fitted : bool
    seconds : float
        Fit time of this round plus query time of the batch that led to it.
    """

    positions: np.ndarray
    labels: np.ndarray
    learner: Any
    fitted: bool
    seconds: float


def run_oracle_loop(
    estimator: Any,
    X: Any,
    oracle: np.ndarray,
    strategy: Any,
    *,
    start: Any,
    target: int,
    batch_size: int,
    random_state: Any,
    on_round: Callable[[OracleRound], None] | None = None,
    descriptions: Any = None,
    fit_unlabeled: bool = True,
    describe_per_class: int | None = None,
) -> np.ndarray:
    """Grow the labeled set from ``start`` to ``target`` positions with the true labels.

    Parameters
    ----------
    estimator : classifier with ``predict_proba``
        Cloned by the learner on every fit.
    X : array-like, sparse matrix, DataFrame or sequence of str
        The pool.
    oracle : ndarray of shape (n_pool,) or (n_pool, n_classes)
        True label of every pool row (multi-label: its 0/1 indicator row); only those
        of picked rows are used.
    strategy : str, Strategy or callable
        Anything :class:`~alwidgets.ActiveLearner` accepts.
    start : array-like of int
        Positions already labeled (may be empty: the cold-start selector picks first).
    target : int
        Stop once this many positions are labeled (capped at the pool size). When
        ``start`` already has as many, no query is made.
    batch_size : int
        Positions labeled per round (the last batch may be smaller).
    random_state : int, numpy Generator or None
        Seeds the learner (tie-breaking, committees, sampling).
    on_round : callable, optional
        Called with an :class:`OracleRound` after every fit, the one at ``target``
        included (a learning-curve point). Not called while nothing is labeled.
    descriptions : dict, optional
        ``{class: description}`` for the learner (``ActiveLearner(descriptions=...)``):
        queries before the first fit pick items close to each description.
    describe_per_class : int, optional
        With ``descriptions``: labels per class chosen by the descriptions before
        ``strategy`` takes over (``ActiveLearner(describe_per_class=...)``; None: the
        learner's default, 0: at the first fit).
    fit_unlabeled : bool, default True
        Fit the Pipeline's label-free leading steps (scalers, PCA, ...; see
        :meth:`~alwidgets.ActiveLearner.fit`) once on the whole pool ``X`` (``fit(..., X_unlabeled=X)``; not for a
        Dask pool). False fits them on the labeled rows only (to measure the difference).

    Returns
    -------
    ndarray of int64
        The labeled positions in labeling order: ``start`` first, then every batch.

    Raises
    ------
    InvalidInputError
        The strategy returned nothing while unlabeled rows remain, or returned a
        position that is already labeled (a broken strategy; the loop would not end).
    """
    from alwidgets.learner import ActiveLearner

    positions = np.asarray(start, dtype=np.int64).ravel()
    oracle = np.asarray(oracle)
    target = min(int(target), n_rows(X))
    name = strategy_name(strategy)

    options: dict[str, Any] = (
        {} if describe_per_class is None else {"describe_per_class": describe_per_class}
    )

    def fresh() -> Any:
        return ActiveLearner(
            estimator,
            strategy=strategy,
            random_state=random_state,
            descriptions=descriptions,
            **options,
        )

    from alwidgets.pools import is_dask_collection

    # a Dask pool is not in memory: its label-free steps stay fit on the labeled rows
    unlabeled = X if fit_unlabeled and not is_dask_collection(X) else None

    learner = fresh()
    query_seconds = 0.0
    while True:
        done = positions.size >= target
        if done and on_round is None:
            return positions
        t0 = time.perf_counter()
        labels = oracle[positions]
        # single-label: two classes needed; multi-label (0/1 rows): any labeled row
        fitted = positions.size > 0 if oracle.ndim == 2 else len(np.unique(labels)) >= 2
        if fitted:
            learner.fit(take_rows(X, positions), labels, X_unlabeled=unlabeled)
        elif learner.is_fitted or positions.size:  # fewer than two classes: no model yet
            learner = fresh()
        if on_round is not None and positions.size:
            seconds = time.perf_counter() - t0 + query_seconds
            on_round(OracleRound(positions, labels, learner, fitted, seconds))
        if done:
            return positions
        n = min(batch_size, target - positions.size)
        t0 = time.perf_counter()
        picked = np.asarray(
            learner.query(X, n, exclude=positions if positions.size else None), dtype=np.int64
        )
        query_seconds = time.perf_counter() - t0
        if len(picked) == 0 or np.isin(picked, positions).any():
            raise InvalidInputError(
                f"strategy {name!r} returned {len(picked)} items, some already labeled; "
                "a strategy must return new, unlabeled positions."
            )
        positions = np.concatenate([positions, picked])

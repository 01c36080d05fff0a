"""The Strategy protocol, and the simplest strategies: a utility + top-k, random, user callables.

A strategy answers one question: given a :class:`QueryContext` (the pool and the
fitted model), which ``n`` positions should be labeled next, best first?

``select(ctx, n, rng) -> (indices, scores)`` where ``indices`` are unique,
non-excluded positions (at most ``n``; fewer only when fewer remain) and
``scores`` holds one float per pool row (NaN for excluded or unscored rows).

Examples
--------
>>> import numpy as np
>>> from alwidgets.strategies import QueryContext, UtilityStrategy, margin
>>> from sklearn.linear_model import LogisticRegression
>>> X = np.random.default_rng(0).normal(size=(30, 2))
>>> ctx = QueryContext(X, estimator=LogisticRegression().fit(X, X[:, 0] > 0))
>>> idx, scores = UtilityStrategy(margin).select(ctx, 4, np.random.default_rng(0))
>>> len(idx), bool(scores[idx[0]] == np.nanmax(scores))
(4, True)
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from typing import Any

import numpy as np

from alwidgets.exceptions import InvalidInputError, UnknownStrategyError
from alwidgets.strategies._context import QueryContext

__all__ = ["CallableStrategy", "RandomStrategy", "Strategy", "UtilityStrategy", "candidate_budget"]

Selection = tuple[np.ndarray, np.ndarray]


def candidate_budget(n: int, n_remaining: int, candidates: int | None = None) -> int:
    """How many rows a diversity strategy looks at: ``10·n`` within [1,000, 20,000] by default.

    Examples
    --------
    >>> candidate_budget(10, 1_000_000), candidate_budget(100, 1_000_000), candidate_budget(5, 40)
    (1000, 1000, 40)
    """
    m = min(max(10 * n, 1000), 20_000) if candidates is None else int(candidates)
    return min(n_remaining, max(m, n))


class Strategy:
    """Base class of query strategies.

    Attributes
    ----------
    name : str
        Registry name.
    needs : frozenset of str
        What ``select`` uses from the context: any of ``"proba"``, ``"committee"``,
        ``"features"``, ``"estimator"``; ``"descriptions"``: the similarity of the
        pool to class descriptions (``ActiveLearner(descriptions=...)``). A strategy that needs nothing (``random``)
        also runs before the first fit; any other falls back to ``cold_start`` then.
    bounds : tuple of float
        Range of the scores it reports (checked by the conformance suite).
    works_unfitted : bool
        True if it can run before the first fit (``random``, ``cold_start``); the
        learner replaces any other strategy by ``cold_start`` until it is fitted.
    tasks : frozenset of str
        The tasks it is meant for: ``"single"`` (one class per item: ``proba`` rows sum
        to 1) and/or ``"multi"`` (multi-label: ``proba[:, j]`` is the probability that
        class ``j`` applies). The learner refuses a strategy on a task it does not list.
        ``needs`` may also hold ``"labels"``: the labeled rows' classes
        (``ctx.y_labeled``, e.g. their label cardinality).
    """

    name: str = "strategy"
    needs: frozenset[str] = frozenset({"proba"})
    bounds: tuple[float, float] = (-np.inf, np.inf)
    works_unfitted: bool = False
    tasks: frozenset[str] = frozenset({"single"})

    def select(self, ctx: QueryContext, n: int, rng: np.random.Generator) -> Selection:
        """Return ``(indices, scores)``; see the module docstring."""
        raise NotImplementedError

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class UtilityStrategy(Strategy):
    """Score every row with ``utility(predict_proba(rows))`` and take the top ``n``.

    The pool is scored chunk by chunk with a running top-k.

    Parameters
    ----------
    utility : callable
        ``utility(proba: ndarray (rows, classes)) -> ndarray (rows,)``, higher = label first.
    name : str, optional
        Defaults to the function's name.
    bounds : tuple of float, default=(-inf, inf)
        Range of the utility (for the conformance suite).
    tasks : iterable of str, default ("single",)
        ``"single"`` and/or ``"multi"`` (see :class:`Strategy`).
    """

    def __init__(
        self,
        utility: Callable[[np.ndarray], Any],
        name: str | None = None,
        bounds: tuple[float, float] = (-np.inf, np.inf),
        tasks: Any = ("single",),
    ) -> None:
        self.utility = utility
        self.name = str(name or getattr(utility, "__name__", "utility"))
        self.bounds = bounds
        self.tasks = frozenset(tasks)

    def select(self, ctx: QueryContext, n: int, rng: np.random.Generator) -> Selection:
        return ctx.stream(lambda rows: self.utility(ctx.predict_proba(rows)), n, rng)


class RandomStrategy(Strategy):
    """Uniformly random batch (the baseline every other strategy must beat).

    Each row gets a seeded ``U(0, 1)`` score and the top ``n`` are returned, so
    ``scores_`` still explains the order. Needs no model: runs before the first fit.
    """

    name = "random"
    needs: frozenset[str] = frozenset()
    works_unfitted = True
    tasks: frozenset[str] = frozenset({"single", "multi"})
    bounds = (0.0, 1.0)

    def select(self, ctx: QueryContext, n: int, rng: np.random.Generator) -> Selection:
        return ctx.stream(lambda rows: rng.random(rows.stop - rows.start), n, rng)


def _n_required_positional(fn: Callable[..., Any]) -> int:
    try:
        params = inspect.signature(fn).parameters.values()
    except (TypeError, ValueError):  # builtins without a signature: assume a utility
        return 1
    kinds = (inspect.Parameter.POSITIONAL_ONLY, inspect.Parameter.POSITIONAL_OR_KEYWORD)
    return sum(1 for p in params if p.kind in kinds and p.default is inspect.Parameter.empty)


class CallableStrategy(Strategy):
    """A user function as a strategy; two signatures are accepted.

    * **utility** — one required argument: ``fn(proba) -> scores``, where ``proba``
      is ``predict_proba`` of a block of rows (shape ``(rows, classes)``) and
      ``scores`` one float per row, higher = label first. Scored in chunks.
    * **selector** — three required arguments: ``fn(ctx, n, rng)`` returning
      ``indices`` or ``(indices, scores)``; ``ctx`` is a :class:`QueryContext`,
      ``rng`` a seeded ``numpy.random.Generator``. The indices are checked: unique,
      in range, not excluded, at most ``n``.

    Either runs on both tasks: on a multi-label task ``proba[:, j]`` is the probability
    that class ``j`` applies (rows do not sum to 1), and ``ctx.multi_label`` is True.

    Examples
    --------
    >>> def smallest_max(proba):
    ...     return -proba.max(axis=1)
    >>> CallableStrategy(smallest_max).name
    'smallest_max'
    """

    def __init__(self, fn: Callable[..., Any], name: str | None = None) -> None:
        n_args = _n_required_positional(fn)
        if n_args not in (1, 3):
            raise UnknownStrategyError(
                f"a strategy function takes 1 argument (proba -> scores) or 3 (ctx, n, rng -> "
                f"indices); {getattr(fn, '__name__', fn)!r} takes {n_args}."
            )
        self.fn = fn
        self.kind = "utility" if n_args == 1 else "selector"
        self.name = str(name or getattr(fn, "__name__", type(fn).__name__))
        self.needs = frozenset({"proba"}) if self.kind == "utility" else frozenset({"estimator"})
        self.tasks = frozenset({"single", "multi"})

    def select(self, ctx: QueryContext, n: int, rng: np.random.Generator) -> Selection:
        if self.kind == "utility":
            return ctx.stream(lambda rows: self.fn(ctx.predict_proba(rows)), n, rng)
        out = self.fn(ctx, n, rng)
        idx, scores = out if isinstance(out, tuple) else (out, None)
        idx = np.asarray(idx)
        where = f"strategy {self.name!r}"
        if idx.ndim != 1 or (idx.size and idx.dtype.kind not in "iu"):
            raise InvalidInputError(f"{where} must return a 1-D array of integer positions.")
        idx = idx.astype(np.int64)
        if idx.size and (idx.min() < 0 or idx.max() >= ctx.n_pool):
            raise InvalidInputError(f"{where} returned positions outside [0, {ctx.n_pool}).")
        if len(np.unique(idx)) != len(idx) or len(idx) > n:
            raise InvalidInputError(f"{where} must return at most n={n} unique positions.")
        if ctx.exclude is not None and ctx.exclude[idx].any():
            raise InvalidInputError(f"{where} returned excluded positions; skip ctx.exclude.")
        if scores is None:
            scores = np.full(ctx.n_pool, np.nan)
        scores = np.asarray(scores, dtype=np.float64)
        if scores.shape != (ctx.n_pool,):
            raise InvalidInputError(f"{where} must return one score per pool row.")
        return idx, scores

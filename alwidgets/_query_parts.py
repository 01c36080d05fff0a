"""What :meth:`ActiveLearner.query <alwidgets.ActiveLearner.query>` hands a strategy, and its Dask path.

Layer 3, beside ``learner.py``: :func:`query_parts` reads (never writes) a learner's
fitted state into the keyword arguments of :class:`~alwidgets.strategies.QueryContext`
and :func:`~alwidgets.pools.query_blockwise`; :func:`query_dask` runs a query on a
Dask array and returns what the learner records.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
from sklearn.base import clone

__all__ = ["DaskQuery", "has_preprocessing", "query_dask", "query_parts"]


def has_preprocessing(estimator: Any) -> bool:
    """True for a Pipeline with steps before the classifier."""
    return hasattr(estimator, "steps") and len(estimator.steps) > 1


def query_parts(learner: Any) -> dict[str, Any]:
    """What a query context needs of the model (before the first fit: nothing but features)."""
    fitted, pre = learner.is_fitted, has_preprocessing(learner.estimator)
    return {
        "estimator": learner.estimator_ if fitted else None,
        "classes": learner.classes_ if fitted else None,
        "committee": getattr(learner, "committee_", None) if fitted else None,
        "X_labeled": getattr(learner, "_X_fit", None) if fitted else None,
        "transform": learner.estimator_[:-1].transform if fitted and pre else None,
        "preprocessor": clone(learner.estimator[:-1]) if not fitted and pre else None,
        "multi_label": bool(getattr(learner, "multi_label_", False)) and fitted,
        "y_labeled": getattr(learner, "_y_fit", None) if fitted else None,
    }


@dataclass(frozen=True)
class DaskQuery:
    """A Dask query's batch and what the learner keeps of it (nothing pool-sized)."""

    indices: np.ndarray
    candidate_scores: Any  # pandas.Series indexed by position
    rows: Any  # the candidates' pool rows, aligned with candidate_scores
    histogram: tuple[np.ndarray, np.ndarray]


def query_dask(
    X_pool: Any, n: int, *, strategy: Any, rng: Any, exclude: Any, allow_nan: bool, learner: Any
) -> DaskQuery:
    """Run ``strategy`` blockwise on a Dask array (``alwidgets.pools``)."""
    import pandas as pd

    from alwidgets.pools import check_dask_pool, query_blockwise

    X = check_dask_pool(X_pool, n_features=getattr(learner, "n_features_in_", None))
    got = query_blockwise(
        X,
        n,
        strategy=strategy,
        rng=rng,
        exclude=exclude,
        allow_nan=allow_nan,
        **query_parts(learner),
    )
    scores = pd.Series(got.scores, index=got.positions, name="score")
    return DaskQuery(got.indices, scores, got.rows, got.histogram)

"""Shared by the Dask pool tests: the dask import rule, pools, and a pickling counter."""

from __future__ import annotations

import time
from typing import Any

import numpy as np
from helpers import skip_or_fail_in_ci
from sklearn.linear_model import LogisticRegression


def require_dask() -> Any:
    """Import dask.array, or skip (fail under ``CI=true``, where the [dask] extra is installed)."""
    try:
        import dask.array as da
        import distributed  # noqa: F401
    except ImportError as err:  # pragma: no cover - only without the [dask] extra
        skip_or_fail_in_ci(f"needs alwidgets[dask] ({err})", module=True)
    return da


UNCERTAINTY = ["margin", "least_confidence", "entropy", "qbc", "qbc_kl"]


def strategy_for(name: str) -> Any:
    """A registered name, or the committee's max-KL form (no longer registered by name)."""
    from alwidgets.strategies import QueryByCommittee

    return QueryByCommittee("kl_max") if name == "qbc_kl" else name


DIVERSITY = ["cluster_margin", "badge", "coreset", "density", "cold_start"]


def make_pool(n: int = 2000, d: int = 6, classes: int = 3, seed: int = 0) -> tuple[Any, Any]:
    from sklearn.datasets import make_classification

    X, y = make_classification(
        n_samples=n, n_features=d, n_informative=4, n_classes=classes, random_state=seed
    )
    return X.astype(np.float32), y


def first_labels(y: np.ndarray, per_class: int = 4) -> np.ndarray:
    return np.concatenate([np.flatnonzero(y == c)[:per_class] for c in np.unique(y)])


class CountingLR(LogisticRegression):
    """A logistic regression that counts how often the kernel pickles it."""

    pickled = 0

    def __getstate__(self) -> dict[str, Any]:
        type(self).pickled += 1
        return dict(super().__getstate__())


def slow_block(block_id: Any = None, rows: int = 100, d: int = 6, pause: float = 0.2) -> Any:
    """One generated block that takes ``pause`` seconds (for mid-query faults)."""
    time.sleep(pause)
    return np.random.default_rng(block_id[0]).normal(size=(rows, d)).astype(np.float32)


def slow_pool(n_blocks: int, rows: int = 100, d: int = 6, pause: float = 0.2) -> Any:
    da = require_dask()
    return da.map_blocks(
        slow_block,
        rows=rows,
        d=d,
        pause=pause,
        dtype=np.float32,
        chunks=((rows,) * n_blocks, (d,)),
        meta=np.empty((0, d), np.float32),
    )

"""Small fitted models and pools shared by the strategy tests."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np
import pytest
from sklearn.datasets import make_classification, make_multilabel_classification
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from threadpoolctl import threadpool_limits

from alwidgets import ActiveLearner
from alwidgets.features import PrecomputedEmbeddings
from alwidgets.strategies import get_strategy

#: Class descriptions for strategies that need them (``describe``), with fixed vectors
DESCRIPTIONS = {0: "class zero", 1: "class one", 2: "class two"}
_VECTORS = {
    "class zero": [1.0, 0.2, 0.0, 0.0, 0.0],
    "class one": [0.0, 1.0, 0.3, 0.0, 0.0],
    "class two": [0.0, 0.0, 1.0, 0.5, 0.1],
}


def embed_descriptions(texts: list[str]) -> np.ndarray:
    return np.array([_VECTORS[t] for t in texts])


@dataclass
class Problem:
    X: np.ndarray
    y: np.ndarray
    labeled: np.ndarray

    def learner(self, strategy: Any, random_state: Any = 0, **kw: Any) -> ActiveLearner:
        return self.unfitted(strategy, random_state, **kw).fit(
            self.X[self.labeled], self.y[self.labeled]
        )

    def unfitted(self, strategy: Any, random_state: Any = 0, **kw: Any) -> ActiveLearner:
        est: Any = LogisticRegression(max_iter=300)
        if "descriptions" in get_strategy(strategy).needs:
            # the pool's features are its embeddings; the descriptions get fixed vectors
            est = make_pipeline(PrecomputedEmbeddings(embed_descriptions), est)
            kw.setdefault("descriptions", DESCRIPTIONS)
        return ActiveLearner(est, strategy=strategy, random_state=random_state, **kw)


@pytest.fixture(scope="session")
def problem() -> Problem:
    X, y = make_classification(
        n_samples=150, n_features=5, n_informative=3, n_classes=3, random_state=0
    )
    labeled = np.r_[
        np.flatnonzero(y == 0)[:4], np.flatnonzero(y == 1)[:4], np.flatnonzero(y == 2)[:4]
    ]
    return Problem(X, y, labeled)


@pytest.fixture(scope="session")
def multi_problem() -> Problem:
    """Multi-label: 4 classes, 12 labeled rows with a positive and a negative of each."""
    X, Y = make_multilabel_classification(
        n_samples=150, n_features=5, n_classes=4, n_labels=2, random_state=0
    )
    labeled = np.arange(12)
    assert (Y[labeled].sum(axis=0) > 0).all() and (Y[labeled].sum(axis=0) < 12).all()
    return Problem(X.astype(np.float64), Y, labeled)


@pytest.fixture
def task_problem(request, problem, multi_problem) -> Problem:
    """The problem of the task a conformance case names (``"single"`` or ``"multi"``)."""
    return multi_problem if request.param == "multi" else problem


@pytest.fixture(autouse=True)
def _one_blas_thread() -> Iterator[None]:
    """Tiny fits are slower with several BLAS threads on a shared 2-core machine."""
    with threadpool_limits(1):
        yield

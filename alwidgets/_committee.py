"""Query by committee's members: clones of the estimator fit on bootstrap resamples.

Examples
--------
>>> import numpy as np
>>> from sklearn.linear_model import LogisticRegression
>>> X = np.arange(12.0).reshape(6, 2)
>>> members = build_committee(LogisticRegression(), X, np.array([0, 0, 0, 1, 1, 1]), 3,
...                           np.random.default_rng(0))
>>> len(members), members[0].classes_.tolist()
(3, [0, 1])
"""

from __future__ import annotations

from typing import Any

import numpy as np
from sklearn.base import clone

from alwidgets._multilabel import as_multilabel
from alwidgets._utils import take_rows

__all__ = ["build_committee"]


def build_committee(
    estimator: Any, X: Any, y: np.ndarray, n_members: int, rng: np.random.Generator
) -> list[Any]:
    """Clones fit on bootstrap resamples of the labeled rows, seeded (query by committee).

    Single-label: stratified (every class in every member). Multi-label (``y`` 2-D):
    plain bootstrap rows (a class missing from a member gets its constant prior).
    """
    multi = y.ndim == 2
    by_class = [np.arange(len(y))] if multi else [np.flatnonzero(y == c) for c in np.unique(y)]
    members = []
    for _ in range(n_members):
        idx = np.concatenate([rng.choice(pos, size=len(pos), replace=True) for pos in by_class])
        member = clone(as_multilabel(estimator) if multi else estimator)
        params = member.get_params()
        seeded = {k: int(rng.integers(2**31 - 1)) for k in params if k.endswith("random_state")}
        member.set_params(**seeded)
        members.append(member.fit(take_rows(X, idx), y[idx]))
    return members

"""Shared fixtures for the app tests: a small real pool (digits) and message helpers."""

from __future__ import annotations

from typing import Any

import numpy as np
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from alwidgets.app import ActiveLabeler

N_POOL = 240


@pytest.fixture(scope="session")
def digits() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    d = load_digits()
    return d.data[:N_POOL], d.target[:N_POOL], d.images[:N_POOL]


@pytest.fixture
def make_labeler(tmp_path, digits):
    """Build labelers on the digits pool; all are closed after the test."""
    X, _, images = digits
    made: list[ActiveLabeler] = []

    def make(**kwargs: Any) -> ActiveLabeler:
        kwargs.setdefault("classes", list(range(10)))
        kwargs.setdefault("estimator", LogisticRegression(max_iter=200))
        kwargs.setdefault("items", images)
        kwargs.setdefault("display", "image")
        kwargs.setdefault("store", tmp_path / "session.alw")
        kwargs.setdefault("batch_size", 4)
        kwargs.setdefault("random_state", 0)
        kwargs.setdefault("retrain_in", "thread")
        labeler = ActiveLabeler(kwargs.pop("X", X), **kwargs)
        made.append(labeler)
        return labeler

    yield make
    for labeler in made:
        labeler.close()  # closing twice is harmless

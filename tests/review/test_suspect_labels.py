"""suspect_labels: planted wrong labels come first; ids; out-of-fold; folds; bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression
from sklearn.neighbors import KNeighborsClassifier
from sklearn.pipeline import make_pipeline
from sklearn.svm import LinearSVC

from alwidgets import EstimatorError, InvalidInputError
from alwidgets.features import TextFeatures
from alwidgets.review import suspect_labels


def _planted(
    n: int = 400, n_flip: int = 20, seed: int = 0
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    X, y = load_digits(return_X_y=True)
    rng = np.random.default_rng(seed)
    pick = rng.choice(len(y), size=n, replace=False)
    X, y = X[pick] / 16.0, y[pick].copy()
    flipped = rng.choice(n, size=n_flip, replace=False)
    y[flipped] = (y[flipped] + rng.integers(1, 10, size=n_flip)) % 10
    return X, y, flipped


def test_planted_flips_rank_first() -> None:
    X, y, flipped = _planted()
    ranked = suspect_labels(LogisticRegression(max_iter=1000), X, y, random_state=0)
    assert len(ranked) == len(y) and ranked.index.is_unique
    assert list(ranked.columns) == ["label", "guess", "score", "p_label", "p_guess"]
    assert ranked["score"].is_monotonic_decreasing
    precision = np.isin(ranked.index[: len(flipped)], flipped).mean()
    assert precision >= 0.7  # chance is 20 / 400 = 0.05
    top = ranked.iloc[0]
    assert top["label"] != top["guess"] and top["p_guess"] > top["p_label"]
    np.testing.assert_array_equal(ranked.sort_index()["label"].to_numpy(), y)


def test_same_seed_same_ranking() -> None:
    X, y, _ = _planted(n=200, n_flip=10)
    a = suspect_labels(LogisticRegression(max_iter=500), X, y, random_state=3)
    b = suspect_labels(LogisticRegression(max_iter=500), X, y, random_state=3)
    pd.testing.assert_frame_equal(a, b)


def test_never_judged_by_a_model_that_saw_the_label() -> None:
    # A 1-nearest-neighbour model trained on an item gives its label probability 1;
    # out of fold, on random labels, it cannot.
    rng = np.random.default_rng(0)
    X, y = rng.normal(size=(60, 5)), rng.integers(0, 2, size=60)
    ranked = suspect_labels(KNeighborsClassifier(n_neighbors=1), X, y, random_state=0, n_repeats=1)
    assert (ranked["p_label"] < 1).sum() > 15


def test_index_is_the_ids_of_a_frame_or_series() -> None:
    X, y, _ = _planted(n=150, n_flip=8)
    ids = [f"item-{i}" for i in range(150)]
    frame = pd.DataFrame(X, index=ids)
    ranked = suspect_labels(LogisticRegression(max_iter=500), frame, y, random_state=0)
    assert set(ranked.index) == set(ids)
    # labels as a Series with ids, X as an array: the ids come from the labels
    by_labels = suspect_labels(
        LogisticRegression(max_iter=500), X, pd.Series(y, index=ids), random_state=0
    )
    assert list(by_labels.index) == list(ranked.index)


def test_raw_texts_through_a_pipeline() -> None:
    texts = pd.Series(
        [
            "free prize now",
            "claim your free cash",
            "win a prize",
            "cheap pills offer",
            "meeting at noon",
            "slides for the meeting",
            "lunch at noon?",
            "notes from the call",
            "free cash prize",
        ],
        index=[f"m{i}" for i in range(9)],
    )
    labels = ["spam"] * 4 + ["ham"] * 4 + ["ham"]  # the last one is wrong
    model = make_pipeline(TextFeatures(embeddings=None), LogisticRegression(C=10))
    ranked = suspect_labels(model, texts, labels, cv=4, random_state=0)
    assert ranked.index[0] == "m8" and ranked.iloc[0]["guess"] == "spam"


def test_fewer_labels_than_folds_uses_fewer_folds() -> None:
    X, y, _ = _planted(n=200, n_flip=5)
    keep = np.r_[np.flatnonzero(y != 0), np.flatnonzero(y == 0)[:3]]
    ranked = suspect_labels(
        LogisticRegression(max_iter=500), X[keep], y[keep], cv=5, random_state=0
    )
    assert ranked.attrs["folds"] == 3 and len(ranked) == len(keep)


def test_bad_input() -> None:
    X, y, _ = _planted(n=60, n_flip=2)
    lr = LogisticRegression(max_iter=500)
    one_of_a_kind = y.copy()
    one_of_a_kind[0] = 42
    with pytest.raises(InvalidInputError, match="class 42 has only 1 label"):
        suspect_labels(lr, X, one_of_a_kind)
    with pytest.raises(InvalidInputError, match="at least two classes"):
        suspect_labels(lr, X, np.zeros(60, dtype=int))
    with pytest.raises(InvalidInputError, match="60 rows"):
        suspect_labels(lr, X, y[:-1])
    missing = y.astype(object)
    missing[5] = None
    with pytest.raises(InvalidInputError, match=r"missing at rows \[5\]"):
        suspect_labels(lr, X, missing)
    with pytest.raises(InvalidInputError, match="cv must be"):
        suspect_labels(lr, X, y, cv=1)
    with pytest.raises(InvalidInputError, match="unknown score"):
        suspect_labels(lr, X, y, score="vibes")
    with pytest.raises(EstimatorError, match="predict_proba"):
        suspect_labels(LinearSVC(), X, y)

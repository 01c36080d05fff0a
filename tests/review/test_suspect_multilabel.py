"""suspect_labels on a multi-label indicator: planted wrong bits rise to the top."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd
import pytest
from sklearn.linear_model import LogisticRegression
from threadpoolctl import threadpool_limits

from alwidgets import InvalidInputError
from alwidgets.review import suspect_labels


@pytest.fixture(autouse=True)
def _one_blas_thread() -> Iterator[None]:
    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def planted() -> tuple[np.ndarray, np.ndarray, np.ndarray, set[tuple[int, int]]]:
    # four learnable tags: each a noisy linear rule of the features
    rng = np.random.default_rng(7)
    X = rng.normal(size=(300, 6))
    W = rng.normal(size=(6, 4))
    Y = (X @ W + rng.normal(scale=0.3, size=(300, 4)) > 0.3).astype(np.int64)
    noisy = Y.copy()
    items = rng.choice(len(Y), 15, replace=False)
    classes = rng.integers(0, 4, size=15)
    noisy[items, classes] = 1 - noisy[items, classes]
    return X.astype(float), Y, noisy, set(zip(items.tolist(), classes.tolist(), strict=True))


def test_planted_bits_are_found_far_above_chance(planted) -> None:
    X, _, noisy, flipped = planted
    table = suspect_labels(LogisticRegression(max_iter=500), X, noisy, random_state=0)
    assert list(table.columns) == ["label", "guess", "class", "given", "score", "p"]
    top = {(int(i), int(c)) for i, c in zip(table.index[:15], table["class"][:15], strict=True)}
    precision = len(top & flipped) / 15
    chance = 15 / noisy.size
    assert precision >= 0.5, precision  # chance is 1.25 %
    assert precision > 30 * chance
    assert table["score"].is_monotonic_decreasing


def test_rows_describe_the_bit_and_the_sets(planted) -> None:
    X, _, noisy, _ = planted
    frame = pd.DataFrame(noisy, columns=["w", "x", "y", "z"], index=[f"doc{i}" for i in range(300)])
    table = suspect_labels(LogisticRegression(max_iter=500), X, frame, random_state=0, n_repeats=1)
    first = table.iloc[0]
    item = table.index[0]
    assert item.startswith("doc")
    given = frame.loc[item]
    assert first["label"] == tuple(c for c in frame.columns if given[c] == 1)
    assert first["class"] in frame.columns and first["given"] == given[first["class"]]
    assert (first["class"] in first["guess"]) != bool(first["given"])  # the guess disagrees
    assert (first["p"] >= 0.5) != bool(first["given"])
    assert table.attrs["folds"] == 5


def test_self_confidence_score_and_bad_input(planted) -> None:
    X, Y, noisy, _ = planted
    plain = suspect_labels(
        LogisticRegression(), X, noisy, random_state=0, n_repeats=1, score="self_confidence"
    )
    given_p = np.where(plain["given"] == 1, plain["p"], 1 - plain["p"])
    assert np.allclose(plain["score"], 1 - given_p)
    lonely = Y.copy()
    lonely[:, 1] = 0
    lonely[0, 1] = 1
    with pytest.raises(InvalidInputError, match="class 1 has only 1 positive"):
        suspect_labels(LogisticRegression(), X, lonely)
    none = Y.copy()
    none[:, 2] = 0
    with pytest.raises(InvalidInputError, match="class 2 never occurs"):
        suspect_labels(LogisticRegression(), X, none)
    with pytest.raises(InvalidInputError, match="X has 300 rows"):
        suspect_labels(LogisticRegression(), X, Y[:-2])

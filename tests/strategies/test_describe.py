"""DescriptionColdStart on hand-made similarities: balance, diversity, exclusions, bad input."""

from __future__ import annotations

import numpy as np
import pytest

from alwidgets import InvalidInputError
from alwidgets.strategies import DescriptionColdStart, QueryContext, class_margins


def _pool(seed: int = 0, n: int = 90, k: int = 3) -> tuple[np.ndarray, np.ndarray]:
    """Features and similarities: item i belongs to class i % k, similarity noisy but right."""
    rng = np.random.default_rng(seed)
    y = np.arange(n) % k
    X = rng.normal(size=(n, 8)) + 3 * np.eye(k, 8)[y]
    S = 0.2 + 0.3 * np.eye(k)[y] + rng.normal(scale=0.05, size=(n, k))
    return X, S


def _select(S: np.ndarray, X: np.ndarray, n: int, exclude=None, seed: int = 0) -> np.ndarray:
    mask = None
    if exclude is not None:
        mask = np.zeros(len(X), dtype=bool)
        mask[np.asarray(exclude)] = True
    ctx = QueryContext(X, exclude=mask)
    idx, scores = DescriptionColdStart(similarity=S).select(ctx, n, np.random.default_rng(seed))
    assert len(set(idx.tolist())) == len(idx)
    if mask is not None:
        assert not mask[idx].any() and np.isnan(scores[mask]).all()
    return idx


@pytest.mark.parametrize(("n", "expected"), [(6, [2, 2, 2]), (9, [3, 3, 3]), (3, [1, 1, 1])])
def test_first_batch_is_balanced_over_classes(n: int, expected: list[int]) -> None:
    X, S = _pool()
    idx = _select(S, X, n)
    assert np.bincount(idx % 3, minlength=3).tolist() == expected


def test_uneven_batch_gives_the_extra_picks_to_different_classes() -> None:
    X, S = _pool()
    counts = np.bincount(_select(S, X, 7) % 3, minlength=3)
    assert sorted(counts.tolist()) == [2, 2, 3]


def test_fewer_picks_than_classes_cover_classes_the_handled_items_do_not() -> None:
    X, S = _pool(k=5, n=100)
    handled = [0, 5, 10, 1, 6]  # classes 0 and 1 already have handled items
    idx = _select(S, X, 3, exclude=handled)
    assert set((idx % 5).tolist()) == {2, 3, 4}


def test_picks_are_diverse_not_near_duplicates() -> None:
    X, S = _pool()
    best = int(np.argmax(class_margins(S)[:, 0]))
    # ten copies of class 0's best item, a little more typical than the original
    X = np.vstack([X, np.repeat(X[[best]], 10, axis=0)])
    S = np.vstack([S, np.repeat(S[[best]] + [0.01, 0, 0], 10, axis=0)])
    idx = _select(S, X, 9)
    copies = set(range(90, 100)) | {best}
    assert len(copies & set(idx.tolist())) == 1, "one of the identical items, not several"
    assert np.bincount(np.where(idx >= 90, 0, idx % 3), minlength=3).tolist() == [3, 3, 3]


def test_the_best_fitting_item_of_each_class_comes_first() -> None:
    X, S = _pool()
    idx = _select(S, X, 3)
    margins = class_margins(S)
    for c in range(3):
        assert margins[idx[idx % 3 == c][0], c] == margins[:, c].max()


def test_small_pool_returns_everything_left() -> None:
    X, S = _pool(n=9)
    idx = _select(S, X, 20, exclude=[0, 1])
    assert sorted(idx.tolist()) == list(range(2, 9))


def test_deterministic_for_a_seed() -> None:
    X, S = _pool(k=4, n=80)
    assert np.array_equal(_select(S, X, 6, seed=3), _select(S, X, 6, seed=3))


def test_class_margins() -> None:
    S = np.array([[0.5, 0.2, 0.1], [0.3, 0.3, 0.0]])
    np.testing.assert_allclose(class_margins(S), [[0.3, -0.3, -0.4], [0.0, 0.0, -0.3]])


@pytest.mark.parametrize(
    ("similarity", "match"),
    [
        (None, "needs class descriptions"),
        (np.zeros((5, 3)), r"shape \(n_pool, n_classes\) = \(90"),
        (np.zeros((90, 1)), r"k >= 2"),
        (np.full((90, 3), np.nan), "NaN or inf"),
    ],
)
def test_bad_similarity_is_a_clear_error(similarity: object, match: str) -> None:
    X, _ = _pool()
    with pytest.raises(InvalidInputError, match=match):
        DescriptionColdStart(similarity=similarity).select(
            QueryContext(X), 3, np.random.default_rng(0)
        )

"""UncertaintyHistogram.update_counts: counts binned elsewhere (a Dask pool's blocks)."""

from __future__ import annotations

import numpy as np
import pytest

from alwidgets import ActiveLearner
from alwidgets.exceptions import InvalidInputError
from alwidgets.widgets import UncertaintyHistogram


def test_counts_and_edges_are_drawn_as_given() -> None:
    h = UncertaintyHistogram(bins=4)
    h.update_counts(np.array([3, 0, 1]), np.array([0.0, 0.2, 0.6, 1.0]), highlight=[0.7])
    bars, batch = h.widget.data
    assert bars.y.tolist() == [3, 0, 1] and h.n_scores == 4
    np.testing.assert_allclose(bars.width, [0.2, 0.4, 0.4])
    assert batch.y.tolist() == [1.0]  # the marker sits on the bar 0.7 falls in
    np.testing.assert_array_equal(h.edges, [0.0, 0.2, 0.6, 1.0])


def test_same_picture_as_from_the_scores() -> None:
    scores = np.random.default_rng(0).uniform(size=500)
    a, b = UncertaintyHistogram(bins=10), UncertaintyHistogram(bins=10)
    a.update(scores)
    counts, edges = np.histogram(scores, bins=10, range=(0, 1))
    b.update_counts(counts, edges)
    assert a.widget.data[0].y.tolist() == b.widget.data[0].y.tolist()
    assert a.widget.layout.title.text == b.widget.layout.title.text


def test_learner_histogram_feeds_the_widget() -> None:
    from sklearn.linear_model import LogisticRegression

    X = np.random.default_rng(1).normal(size=(300, 2))
    y = (X[:, 0] > 0).astype(int)
    lrn = ActiveLearner(LogisticRegression(), random_state=0).fit(X[:20], y[:20])
    lrn.query(X, 5, exclude=np.arange(20))
    h = UncertaintyHistogram()
    h.update_counts(*lrn.score_histogram_)
    assert h.n_scores == 280


@pytest.mark.parametrize(
    "edges", [np.array([0.0, 1.0]), np.array([0.0, 0.5, 0.5])], ids=["length", "order"]
)
def test_bad_edges(edges: np.ndarray) -> None:
    with pytest.raises(InvalidInputError, match="increasing values"):
        UncertaintyHistogram().update_counts(np.array([1, 2]), edges)

"""UncertaintyHistogram: pre-binned pool scores with the batch marked."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pytest

from alwidgets import InvalidInputError
from alwidgets.widgets import UncertaintyHistogram


def test_counts_fall_in_the_right_bins_over_unit_range() -> None:
    h = UncertaintyHistogram(bins=10)
    h.update(np.array([0.01, 0.02, 0.05, 0.55, 0.95, 1.0]))
    pool = h.widget.data[0]
    assert pool.type == "bar"
    assert pool.y.tolist() == [3, 0, 0, 0, 0, 1, 0, 0, 0, 2]
    np.testing.assert_allclose(pool.x, np.arange(10) / 10 + 0.05)
    np.testing.assert_allclose(pool.width, np.full(10, 0.1))
    np.testing.assert_allclose(h.edges, np.linspace(0, 1, 11))


def test_nan_scores_are_ignored_and_counted_out() -> None:
    h = UncertaintyHistogram(bins=4)
    h.update(np.array([0.1, np.nan, 0.9, np.inf]))
    assert int(h.widget.data[0].y.sum()) == 2 and h.n_scores == 2
    assert "2 unlabeled items" in h.widget.layout.title.text


def test_scores_outside_unit_interval_use_the_data_range() -> None:
    h = UncertaintyHistogram(bins=4)
    h.update(np.array([-2.0, 0.0, 2.0, 6.0]))
    np.testing.assert_allclose(h.edges, [-2, 0, 2, 4, 6])
    assert h.widget.data[0].y.tolist() == [1, 1, 1, 1]


def test_constant_scores_outside_unit_interval() -> None:
    h = UncertaintyHistogram(bins=2)
    h.update(np.full(5, 3.0))
    assert int(h.widget.data[0].y.sum()) == 5
    assert h.edges[0] < 3.0 < h.edges[-1]


def test_what_is_sent_is_o_bins_not_o_pool() -> None:
    rng = np.random.default_rng(0)
    h = UncertaintyHistogram(bins=25)
    scores = rng.beta(0.5, 3.0, size=1_000_000)
    h.update(scores, highlight=np.sort(scores)[-8:])
    pool, batch = h.widget.data
    assert len(pool.x) == len(pool.y) == 25 and len(batch.x) == 8
    assert int(pool.y.sum()) == 1_000_000
    assert isinstance(pool.y, np.ndarray) and pool.y.dtype == np.int32


def test_batch_markers_sit_on_their_bars() -> None:
    h = UncertaintyHistogram(bins=10)
    scores = np.array([0.05, 0.05, 0.05, 0.92, 0.97, 1.0])
    h.update(scores, highlight=np.array([0.97, 1.0, 0.05, np.nan]))
    batch = h.widget.data[1]
    assert batch.x.tolist() == [0.97, 1.0, 0.05]
    assert batch.y.tolist() == [3.0, 3.0, 3.0]  # last bin holds 0.92, 0.97 and 1.0


def test_updates_keep_two_traces_and_clear_highlight() -> None:
    h = UncertaintyHistogram()
    pool = h.widget.data[0]
    h.update(np.linspace(0, 1, 50), highlight=np.array([0.5]))
    h.update(np.linspace(0, 1, 60))
    assert len(h.widget.data) == 2 and h.widget.data[0] is pool
    assert len(h.widget.data[1].x) == 0
    assert int(pool.y.sum()) == 60


def test_empty_pool_shows_empty_bins() -> None:
    h = UncertaintyHistogram(bins=5)
    h.update(np.array([np.nan]))
    assert h.widget.data[0].y.tolist() == [0] * 5
    assert h.widget.layout.title.text == "no scores yet"


def test_titles() -> None:
    h = UncertaintyHistogram(title="margin scores")
    h.update(np.array([0.3]))
    assert h.widget.layout.title.text == "margin scores"
    h.update(np.array([0.3]), title="after retrain 3")
    assert h.widget.layout.title.text == "after retrain 3"


def test_log_axis_option() -> None:
    assert UncertaintyHistogram(log_y=True).widget.layout.yaxis.type == "log"


@pytest.mark.parametrize("bins", [0, -1, 2.5, True])
def test_bad_bins_rejected(bins: Any) -> None:
    with pytest.raises(InvalidInputError, match="bins must be a positive int"):
        UncertaintyHistogram(bins=bins)


@pytest.mark.parametrize(
    ("scores", "highlight", "match"),
    [
        (np.zeros((3, 2)), None, "scores must be a 1-D array"),
        (["a", "b"], None, "scores must be numbers"),
        (np.zeros(3), np.zeros((1, 1)), "highlight must be a 1-D array"),
    ],
)
def test_bad_scores_rejected(scores: Any, highlight: Any, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        UncertaintyHistogram().update(scores, highlight=highlight)


def test_input_scores_not_mutated() -> None:
    scores = np.array([0.2, np.nan, 0.7])
    UncertaintyHistogram().update(scores, highlight=scores[:1])
    assert np.isnan(scores[1]) and scores[0] == 0.2


def sent_bytes(widget: Any, update: Any) -> int:
    """Bytes the widget would send (JSON + binary buffers) while ``update()`` runs."""
    sizes: list[int] = []

    def publish_msg(
        msg_type: str, data: Any = None, metadata: Any = None, buffers: Any = None, **kwargs: Any
    ) -> None:
        buf = sum(memoryview(b).nbytes for b in buffers or [])
        sizes.append(len(json.dumps(data, default=str)) + buf)

    widget.comm.publish_msg = publish_msg
    update()
    return sum(sizes)


def test_payload_does_not_grow_with_the_pool() -> None:
    rng = np.random.default_rng(1)
    h = UncertaintyHistogram(bins=30)
    h.update(rng.uniform(size=100))  # first update sends bin geometry too
    small = sent_bytes(h.widget, lambda: h.update(rng.uniform(size=1_000)))
    large = sent_bytes(h.widget, lambda: h.update(rng.uniform(size=1_000_000)))
    assert large < small + 100  # only the title's digits differ
    # the update message (~1.5 KB) and the synced state a later view renders from (data
    # and layout with its template, ~10 KB): bounded, whatever the pool's size
    assert large < 16_000


def test_title_names_the_batch_markers_only_when_there_are_some() -> None:
    h = UncertaintyHistogram()
    h.update(np.array([0.2, 0.8]), highlight=np.array([0.8]))
    assert h.widget.layout.title.text.endswith("▼</span> this batch")
    h.update(np.array([0.2, 0.8]))
    assert "this batch" not in h.widget.layout.title.text


@pytest.mark.parametrize("dist", ["uniform", "normal", "beta"])
def test_fast_binning_matches_numpy_histogram(dist: str) -> None:
    rng = np.random.default_rng(7)
    scores = {
        "uniform": rng.uniform(size=50_000),
        "normal": rng.normal(size=50_000),
        "beta": rng.beta(0.5, 3.0, size=50_000),
    }[dist]
    h = UncertaintyHistogram(bins=23)
    h.update(scores)
    expected, _ = np.histogram(scores, bins=h.edges)
    np.testing.assert_array_equal(h.widget.data[0].y, expected)


def test_log_axis_markers_never_sit_at_zero() -> None:
    h = UncertaintyHistogram(bins=4, log_y=True)
    h.update(np.array([0.1, 0.2]), highlight=np.array([0.9]))  # an empty bin
    assert h.widget.data[1].y.tolist() == [1.0]

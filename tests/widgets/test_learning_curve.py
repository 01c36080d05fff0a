"""LearningCurve: a plotly FigureWidget driven headless (no kernel, no browser)."""

from __future__ import annotations

import threading
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import pytest

from alwidgets import InvalidInputError
from alwidgets.widgets import LearningCurve


def curve(n: list[int], score: list[float | None], **extra: Any) -> pd.DataFrame:
    return pd.DataFrame({"n_labels": n, "score": score, **extra})


def test_starts_with_one_empty_series_and_axis_titles() -> None:
    lc = LearningCurve(metric_label="accuracy (CV)")
    fig = lc.widget
    assert isinstance(fig, go.FigureWidget)
    assert len(fig.data) == 1 and fig.data[0].type == "scatter"  # SVG, not scattergl
    assert len(fig.data[0].x) == 0
    assert fig.layout.xaxis.title.text == "labels"
    assert fig.layout.yaxis.title.text == "accuracy (CV)"
    assert lc.series == ["active learning"]


def test_update_replaces_data_in_place_without_adding_traces() -> None:
    lc = LearningCurve()
    trace = lc.widget.data[0]
    lc.update(curve([10, 20], [0.5, 0.6]))
    lc.update(curve([10, 20, 30], [0.5, 0.6, 0.72]))
    assert len(lc.widget.data) == 1
    assert lc.widget.data[0] is trace  # same trace object: updated, not recreated
    assert isinstance(trace.x, np.ndarray) and isinstance(trace.y, np.ndarray)
    assert trace.x.tolist() == [10, 20, 30]
    assert trace.y.tolist() == [0.5, 0.6, 0.72]


def test_rows_are_sorted_and_missing_scores_dropped() -> None:
    lc = LearningCurve()
    lc.update(curve([30, 10, 20, 40], [0.8, np.nan, 0.7, None]))
    assert lc.widget.data[0].x.tolist() == [20, 30]
    assert lc.widget.data[0].y.tolist() == [0.7, 0.8]


def test_accepts_store_models_columns_and_shows_version_on_hover() -> None:
    models = pd.DataFrame({"version": [1, 2], "n_labels": [20, 30], "accuracy": [0.71, 0.78]})
    lc = LearningCurve()
    lc.update(models)
    trace = lc.widget.data[0]
    assert trace.y.tolist() == [0.71, 0.78]
    assert list(trace.text) == ["<br>model v1", "<br>model v2"]
    assert "%{text}" in trace.hovertemplate


def test_other_metric_column_via_y() -> None:
    lc = LearningCurve(metric_label="macro F1")
    lc.update({"n_labels": [5, 10], "f1": [0.4, 0.5], "f1_std": [0.01, 0.02]}, y="f1")
    assert lc.widget.data[0].y.tolist() == [0.4, 0.5]
    assert lc.widget.data[0].error_y.array.tolist() == [0.01, 0.02]
    with pytest.raises(InvalidInputError, match="no column 'auc'"):
        lc.update({"n_labels": [5], "f1": [0.4]}, y="auc")


def test_std_is_drawn_as_error_bars_and_can_be_removed() -> None:
    lc = LearningCurve()
    lc.update(curve([10, 20], [0.5, 0.6], score_std=[0.05, np.nan]))
    err = lc.widget.data[0].error_y
    assert err.visible is True and err.array.tolist() == [0.05, 0.0]
    lc.update(curve([10, 20], [0.5, 0.6]))
    assert lc.widget.data[0].error_y.visible is False


def test_empty_curve_clears_the_series() -> None:
    lc = LearningCurve()
    lc.update(curve([10], [0.5]))
    lc.update(pd.DataFrame({"n_labels": [], "score": []}))
    assert len(lc.widget.data[0].x) == 0


def test_baseline_and_racing_series_get_one_trace_each() -> None:
    lc = LearningCurve()
    lc.set_baseline(curve([10, 20], [0.4, 0.5]))
    lc.set_baseline(curve([10, 20, 30], [0.4, 0.5, 0.55]))
    lc.update_series("entropy", curve([10], [0.6]))
    lc.update_series("entropy", curve([10, 20], [0.6, 0.7]))
    assert lc.series == ["active learning", "random", "entropy"]
    assert len(lc.widget.data) == 3
    random_trace = lc.widget.data[1]
    assert random_trace.name == "random" and random_trace.line.dash == "dot"
    assert random_trace.y.tolist() == [0.4, 0.5, 0.55]
    colors = {t.line.color for t in lc.widget.data}
    assert len(colors) == 3


def test_remove_series_keeps_the_others_addressable() -> None:
    lc = LearningCurve()
    lc.update_series("a", curve([1], [0.1]))
    lc.update_series("b", curve([1], [0.2]))
    lc.remove_series("a")
    assert lc.series == ["active learning", "b"]
    lc.update_series("b", curve([1, 2], [0.2, 0.3]))
    assert lc.widget.data[1].name == "b" and lc.widget.data[1].y.tolist() == [0.2, 0.3]
    with pytest.raises(InvalidInputError, match="main series"):
        lc.remove_series("active learning")
    with pytest.raises(InvalidInputError, match="no series named 'zzz'"):
        lc.remove_series("zzz")


def test_target_line_set_moved_and_removed() -> None:
    lc = LearningCurve(target=0.9)
    assert lc.target == 0.9
    assert lc.widget.layout.shapes[0].y0 == 0.9
    assert lc.widget.layout.annotations[0].text == "target 0.9"
    lc.set_target(0.95, label="goal")
    assert len(lc.widget.layout.shapes) == 1 and lc.widget.layout.shapes[0].y1 == 0.95
    assert lc.widget.layout.annotations[0].text == "goal"
    lc.set_target(None)
    assert lc.target is None and len(lc.widget.layout.shapes) == 0


@pytest.mark.parametrize("bad", [float("nan"), "high", True])
def test_bad_target_is_rejected(bad: Any) -> None:
    with pytest.raises(InvalidInputError, match="target must be"):
        LearningCurve().set_target(bad)


@pytest.mark.parametrize(
    ("data", "match"),
    [
        ([0.5, 0.6], "pandas DataFrame"),
        (pd.DataFrame({"labels": [1], "score": [0.5]}), "needs columns 'n_labels' and 'score'"),
        (pd.DataFrame({"n_labels": [1], "loss": [0.5]}), "needs columns 'n_labels' and 'score'"),
    ],
)
def test_bad_curves_are_rejected(data: Any, match: str) -> None:
    with pytest.raises(InvalidInputError, match=match):
        LearningCurve().update(data)


def test_bad_series_name_is_rejected() -> None:
    with pytest.raises(InvalidInputError, match="non-empty str"):
        LearningCurve().update_series("", curve([1], [0.5]))


def test_displays_as_the_figure_widget() -> None:
    lc = LearningCurve(height=300)
    bundle = lc._repr_mimebundle_()
    assert bundle["application/vnd.jupyter.widget-view+json"]["model_id"] == lc.widget.model_id
    assert lc.widget.layout.height == 300


def record_comm(widget: Any) -> list[dict[str, Any]]:
    """Record what the widget would send to the browser (the kernel-less dummy comm drops it)."""
    sent: list[dict[str, Any]] = []

    def publish_msg(msg_type: str, data: Any = None, *args: Any, **kwargs: Any) -> None:
        sent.append(data or {})

    widget.comm.publish_msg = publish_msg
    return sent


def test_one_update_is_one_batched_message_with_binary_arrays() -> None:
    lc = LearningCurve()
    sent = record_comm(lc.widget)
    lc.update(curve([10, 20, 30], [0.5, 0.6, 0.7], version=[1, 2, 3]))
    edits = [m for m in sent if m.get("state", {}).get("_py2js_update")]
    assert len(edits) == 1  # x, y and text together, not one restyle message each
    assert not [m for m in sent if "_py2js_restyle" in m.get("state", {})]
    assert {"x", "y", "text"} <= set(edits[0]["state"]["_py2js_update"]["style_data"])
    binary = {tuple(path[:3]) for path in edits[0]["buffer_paths"]}
    assert ("_py2js_update", "style_data", "x") in binary
    assert ("_py2js_update", "style_data", "y") in binary


def test_quiet_mode_bar_and_legend_away_from_it() -> None:
    fig = LearningCurve().widget
    assert "lasso2d" in fig.layout.modebar.remove and "select2d" in fig.layout.modebar.remove
    assert fig.layout.legend.xanchor == "left"
    assert fig._config.get("displaylogo") is False
    assert fig.layout.paper_bgcolor == "rgba(0,0,0,0)"  # the notebook theme shows through


def test_concurrent_updates_never_add_traces() -> None:
    lc = LearningCurve()

    def work(k: int) -> None:
        for i in range(30):
            lc.update(curve([10, 20 + i], [0.5, 0.6]))
            lc.update_series(f"s{k}", curve([10], [0.1 * k]))

    threads = [threading.Thread(target=work, args=(k,)) for k in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(lc.widget.data) == 5
    assert sorted(lc.series) == sorted(["active learning", "s0", "s1", "s2", "s3"])
    assert lc.widget.data[0].x.tolist() == [10, 49]


def test_rows_with_the_same_n_labels_become_one_point() -> None:
    lc = LearningCurve()
    lc.update(
        curve(
            [48, 20, 48, 48],
            [0.7, 0.5, 0.8, np.nan],
            score_std=[0.1, 0.2, 0.3, 0.4],
            version=[6, 1, 7, 8],
        )
    )
    trace = lc.widget.data[0]
    assert trace.x.tolist() == [20, 48]
    np.testing.assert_allclose(trace.y, [0.5, 0.75])
    assert trace.error_y.array.tolist() == [0.2, 0.3]
    assert list(trace.text) == ["<br>model v1", "<br>model v7"]


def test_metric_label_can_change_later() -> None:
    lc = LearningCurve()
    lc.metric_label = "accuracy (CV)"
    assert lc.widget.layout.yaxis.title.text == "accuracy (CV)" == lc.metric_label
    with pytest.raises(InvalidInputError, match="metric_label must be a str"):
        lc.metric_label = 3  # type: ignore[assignment]


def test_nested_figure_state_is_complete_before_display() -> None:
    """A figure nested in a Box is not asked for its mimebundle, so plotly does not sync
    its traces; persist_figure_state must put traces and layout in the synced state."""
    import plotly.graph_objects as go

    from alwidgets.widgets._common import persist_figure_state

    fig = go.FigureWidget()
    fig.add_scatter(x=[10, 20, 30], y=[0.5, 0.7, 0.8])
    fig.update_layout(yaxis_title="accuracy (eval set)")
    assert fig._widget_data == []  # what a nested view would render: nothing
    persist_figure_state(fig)
    synced = fig._widget_data
    assert len(synced) == len(fig.data) == 1
    assert list(synced[0]["y"]) == [0.5, 0.7, 0.8]
    assert fig._widget_layout["yaxis"]["title"]["text"] == "accuracy (eval set)"


def test_a_view_created_after_updates_renders_the_current_state() -> None:
    """Run All can update the plots before the plotly front end has a view (its module
    loads lazily): every update also refreshes the synced state a later view renders
    from, so a late view, or one after a page reload, is never stale or empty."""
    import pandas as pd

    from alwidgets.widgets import LearningCurve, UncertaintyHistogram

    curve = LearningCurve()
    curve.update(pd.DataFrame({"n_labels": [10, 20, 30], "score": [0.5, 0.7, 0.8]}))
    curve.update_series("random", pd.DataFrame({"n_labels": [10, 20], "score": [0.4, 0.5]}))
    synced = {t["name"]: list(t["y"]) for t in curve.widget._widget_data}
    assert synced[curve.name] == [0.5, 0.7, 0.8] and synced["random"] == [0.4, 0.5]
    curve.remove_series("random")
    assert [t["name"] for t in curve.widget._widget_data] == [curve.name]
    curve.set_target(0.9)
    curve.set_mark(40, "predictions stable")
    assert [s["x0"] for s in curve.widget._widget_layout["shapes"]] == [0, 40]
    hist = UncertaintyHistogram(bins=4)
    hist.update(np.array([0.1, 0.2, 0.9]))
    assert list(hist.widget._widget_data[0]["y"]) == [2, 0, 0, 1]
    assert "3 unlabeled" in hist.widget._widget_layout["title"]["text"]


def test_note_target_and_mark_live_side_by_side() -> None:
    """An empty chart says why (axes hidden); the target line and the stop mark keep
    their own shapes and labels whatever is set or removed in between."""
    lc = LearningCurve()
    lc.set_note("the curve starts with the first model")
    lc.set_target(0.9)
    lc.set_mark(40, "predictions stable")
    layout = lc.widget.layout
    assert [a.text for a in layout.annotations] == [
        "target 0.9",
        "predictions stable",
        "the curve starts with the first model",
    ]
    assert [(s.xref, s.x0) for s in layout.shapes] == [("paper", 0), ("x", 40)]
    assert layout.xaxis.visible is False and layout.yaxis.visible is False
    lc.set_note(None)  # a point arrived: the axes come back, the rest stays
    assert layout.xaxis.visible is True and layout.yaxis.visible is True
    assert [a.text for a in layout.annotations] == ["target 0.9", "predictions stable"]
    lc.set_target(None)
    assert [a.text for a in layout.annotations] == ["predictions stable"]
    assert lc.mark == 40 and lc.target is None and lc.note is None
    lc.set_mark(None)
    assert len(layout.shapes) == 0 and len(layout.annotations) == 0


@pytest.mark.parametrize(("call", "bad"), [("set_mark", "40"), ("set_mark", True), ("set_note", 3)])
def test_bad_note_or_mark_is_rejected(call: str, bad: Any) -> None:
    with pytest.raises(InvalidInputError, match="must be"):
        getattr(LearningCurve(), call)(bad)


def test_the_first_view_gets_the_whole_state_once_it_has_drawn() -> None:
    """Updates sent while plotly's front-end module loads reach no model (Run All right
    after the app is shown), so such a view is born empty. When the first view reports
    its traces and layout, the figure sends its whole state, once: one update message
    if the view has the figure's traces, else the traces themselves and the layout."""
    import pandas as pd

    from alwidgets.widgets import UncertaintyHistogram

    def capture(fig: Any) -> dict[str, list[Any]]:
        sent: dict[str, list[Any]] = {"update": [], "addTraces": [], "relayout": []}
        for kind, got in sent.items():
            fig.observe(
                lambda c, got=got: c["new"] and got.append(c["new"]), names=f"_py2js_{kind}"
            )
        return sent

    def view_draws(fig: Any, n_traces: int) -> None:  # what a view sends after its first draw
        fig._js2py_traceDeltas = {"trace_deltas": [{}] * n_traces, "trace_edit_id": -1}
        fig._js2py_layoutDelta = {"layout_delta": {}, "layout_edit_id": -1}

    curve = LearningCurve()
    curve.update(pd.DataFrame({"n_labels": [10, 20], "score": [0.5, 0.7]}))
    sent = capture(curve.widget)
    view_draws(curve.widget, len(curve.widget.data))  # a view that got everything
    assert len(sent["update"]) == 1 and list(sent["update"][0]["style_data"]["y"][0]) == [0.5, 0.7]
    assert "title" in sent["update"][0]["layout_data"]
    view_draws(curve.widget, 0)  # later reports: nothing more is sent
    assert len(sent["update"]) == 1 and not sent["addTraces"]

    hist = UncertaintyHistogram(bins=4)
    hist.update(np.array([0.1, 0.2, 0.9]))
    sent = capture(hist.widget)
    view_draws(hist.widget, 0)  # a view born empty: the traces and layout are sent
    assert not sent["update"] and len(sent["addTraces"]) == 1
    added = sent["addTraces"][0]["trace_data"]
    assert len(added) == len(hist.widget.data) and list(added[0]["y"]) == [2, 0, 0, 1]
    assert "3 unlabeled" in sent["relayout"][0]["relayout_data"]["title"]["text"]

"""Shared pieces of the plot widgets: a neutral theme and display delegation."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

# Mid-gray text and faint grid lines read on both light and dark notebook themes;
# transparent backgrounds let the notebook's own background show through.
FONT_COLOR = "#8a8a8a"
GRID_COLOR = "rgba(128, 128, 128, 0.22)"
PALETTE = ("#3b82f6", "#f97316", "#10b981", "#a855f7", "#ef4444", "#14b8a6", "#eab308")
BASELINE_COLOR = "#9ca3af"
HIGHLIGHT_COLOR = "#f97316"
# Keep zoom, pan, reset and "download PNG"; drop the selection tools a learning curve
# has no use for.
MODEBAR_REMOVE = ("select2d", "lasso2d", "zoomIn2d", "zoomOut2d", "autoScale2d")


def new_figure(layout: dict[str, Any]) -> Any:
    """A FigureWidget with our layout and a quiet mode bar (no plotly logo)."""
    import plotly.graph_objects as go

    fig = go.FigureWidget(layout=layout)
    if "_config" in fig.trait_names():  # plotly's synced plot config (plotly >= 5)
        fig._config = {**fig._config, "displaylogo": False}
    if "_js2py_layoutDelta" in fig.trait_names():
        _resync_once(fig)
    return fig


def _resync_once(fig: Any) -> None:
    """Send ``fig``'s whole state once its first view has drawn.

    A view reports its traces and then its layout after its first draw
    (``_js2py_traceDeltas``, ``_js2py_layoutDelta``), so its model exists by then.
    Messages sent while the plotly front-end module was still loading (Run All right
    after the app is shown) reached no model and are lost, synced state included: such a
    view is born empty (no traces, default layout). :func:`resync_views` then redraws
    it from the kernel's state. Later views render from the synced state
    (:func:`updating`).
    """
    seen = {"traces": 0}

    def traces(change: dict[str, Any]) -> None:
        if change.get("new"):
            seen["traces"] = len(change["new"].get("trace_deltas") or [])

    def layout(change: dict[str, Any]) -> None:
        if not change.get("new"):
            return
        fig.unobserve(traces, names="_js2py_traceDeltas")
        fig.unobserve(layout, names="_js2py_layoutDelta")
        resync_views(fig, view_traces=seen["traces"])

    fig.observe(traces, names="_js2py_traceDeltas")
    fig.observe(layout, names="_js2py_layoutDelta")


def resync_views(fig: Any, view_traces: int | None = None) -> None:
    """Send every trace and the whole layout to ``fig``'s views.

    ``view_traces``: how many traces the view reported (``None``: as many as ``fig``).
    With as many as ``fig`` has, one update message restyles them; otherwise the view's
    traces are replaced by ``fig``'s (a view born without the state it missed).

    Examples
    --------
    >>> import plotly.graph_objects as go
    >>> fig = go.FigureWidget()
    >>> _ = fig.add_bar(x=[1, 2], y=[3, 4])
    >>> sent = []
    >>> fig.observe(lambda c: c["new"] and sent.append(c["new"]), names="_py2js_update")
    >>> resync_views(fig)
    >>> [list(y) for y in sent[0]["style_data"]["y"]], sent[0]["style_traces"]
    ([[3, 4]], [0])
    """
    traces = [t.to_plotly_json() for t in fig.data]
    layout = fig.layout.to_plotly_json()
    if view_traces is None or view_traces == len(traces):
        keys = sorted({k for t in traces for k in t} - {"type", "uid"})
        restyle = {k: [t.get(k) for t in traces] for k in keys}
        fig._send_update_msg(restyle, layout, list(range(len(traces))))
        return
    if view_traces:
        fig._send_deleteTraces_msg(list(range(view_traces)))
    if traces:
        fig._send_addTraces_msg(traces)
    fig._send_relayout_msg(layout)


def base_layout(*, height: int, title: str | None, x_title: str, y_title: str) -> dict[str, Any]:
    """Layout shared by the plot widgets: compact, transparent, theme-neutral."""
    axis = {
        "gridcolor": GRID_COLOR,
        "zerolinecolor": GRID_COLOR,
        "linecolor": GRID_COLOR,
        "automargin": True,
        "title": {"font": {"size": 12}},
    }
    return {
        "template": "plotly_white",
        "height": height,
        "autosize": True,
        "margin": {"l": 50, "r": 16, "t": 36 if title else 12, "b": 40},
        "title": {"text": title or "", "x": 0.01, "font": {"size": 13}},
        "paper_bgcolor": "rgba(0,0,0,0)",
        "plot_bgcolor": "rgba(0,0,0,0)",
        "font": {"color": FONT_COLOR, "size": 11},
        "xaxis": {**axis, "title": {"text": x_title, "font": {"size": 12}}},
        "yaxis": {**axis, "title": {"text": y_title, "font": {"size": 12}}},
        # legend top-left, so it never sits under the mode bar (top-right, on hover)
        "legend": {
            "orientation": "h",
            "yanchor": "bottom",
            "y": 1.0,
            "xanchor": "left",
            "x": 0.0,
            "bgcolor": "rgba(0,0,0,0)",
        },
        "modebar": {
            "remove": list(MODEBAR_REMOVE),
            "bgcolor": "rgba(0,0,0,0)",
            "color": FONT_COLOR,
        },
        "hoverlabel": {"font": {"size": 11}},
    }


def persist_figure_state(fig: Any) -> None:
    """Copy a FigureWidget's traces and layout into its synced state.

    ``add_scatter``/``update_layout`` reach the browser only as one-off messages, which
    the plotly front end can miss while its module is still loading (the model exists,
    its handlers do not yet): the figure then renders empty, intermittently (seen in
    Notebook 7 and JupyterLab; cf. plotly.py#4998). The synced ``_widget_data`` /
    ``_widget_layout`` traits are what a view reads when it renders, so filling them
    makes the first render complete whatever the timing. Later updates are fine: they
    come after the view exists. Displaying a FigureWidget on its own already does this
    (plotly's ``_repr_mimebundle_``); a figure nested in a Box is never asked, so a
    composition (the app's panels) calls this before it is shown.
    """
    names = fig.trait_names()
    if "_widget_data" in names and "_widget_layout" in names:
        fig._widget_data = [trace.to_plotly_json() for trace in fig.data]
        fig._widget_layout = fig.layout.to_plotly_json()


@contextlib.contextmanager
def updating(fig: Any) -> Iterator[None]:
    """``fig.batch_update()``, then :func:`persist_figure_state`: one message to the views
    that exist, and the synced state a view created later renders from.

    A notebook's "Run All" can display the app and retrain before the plotly front end has
    a view (its module loads lazily): the one-off update then reaches no view, and the
    figure rendered later would show the state of its first display. The synced traits are
    not read by a view after it rendered (plotly's ``do_data`` is a no-op), so existing
    views draw once, from the update message.

    Examples
    --------
    >>> import plotly.graph_objects as go
    >>> fig = go.FigureWidget()
    >>> fig.add_scatter(x=[1], y=[2])
    FigureWidget(...)
    >>> with updating(fig):
    ...     fig.data[0].y = [3]
    >>> [list(t["y"]) for t in fig._widget_data]
    [[3]]
    """
    with fig.batch_update():
        yield
    persist_figure_state(fig)


class DisplaysWidget:
    """Mixin: an object that shows its ``.widget`` when displayed in a notebook."""

    widget: Any

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

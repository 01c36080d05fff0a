"""Shared pieces of the plot widgets: a neutral theme and display delegation."""

from __future__ import annotations

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
    return fig


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


class DisplaysWidget:
    """Mixin: an object that shows its ``.widget`` when displayed in a notebook."""

    widget: Any

    def _repr_mimebundle_(self, **kwargs: Any) -> Any:
        return self.widget._repr_mimebundle_(**kwargs)

    def _ipython_display_(self) -> None:
        from IPython.display import display

        display(self.widget)

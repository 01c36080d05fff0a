"""Self-test of the browser harness on a tiny notebook it writes itself.

A minimal anywidget with the keyboard recipe the batch widget uses (focusable element,
``data-lm-suppress-shortcuts``, ``preventDefault`` + ``stopPropagation``) and a
plotly ``FigureWidget``. This proves, independently of the app, that the harness
can start and stop a server, wait for a wired kernel, run cells, deliver real key
presses to a widget without Jupyter acting on them (a widget without the recipe
fails it: the first ``a`` inserts a cell), see SVG plots grow, and measure
key → DOM latency. When the app's browser test fails, this one tells whether the
harness or the app is at fault.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import nbformat
import pytest
from jupyter_harness import (
    ConsoleLog,
    JupyterServer,
    Kind,
    NotebookPage,
    cell_sources,
    first_change_after,
    install_latency_probe,
    latency_records,
    percentiles,
    wait_until,
    write_notebook,
)

PROBE_WIDGET = '''\
import pathlib
import anywidget
import traitlets

class KeyProbe(anywidget.AnyWidget):
    _esm = """
    function render({ model, el }) {
      const box = document.createElement("div");
      box.className = "key-probe";
      box.tabIndex = 0;
      box.dataset.lmSuppressShortcuts = "true";
      box.dataset.count = String(model.get("count"));
      box.textContent = "keys: 0";
      box.addEventListener("keydown", (e) => {
        e.preventDefault();
        e.stopPropagation();
        box.dataset.pressed = e.key;  // front-end feedback, no kernel round trip
        model.send({ key: e.key });
      });
      model.on("change:count", () => {
        box.dataset.count = String(model.get("count"));
        box.textContent = "keys: " + model.get("count");
      });
      el.appendChild(box);
    }
    export default { render };
    """
    count = traitlets.Int(0).tag(sync=True)

    def __init__(self, path):
        super().__init__()
        self._path = pathlib.Path(path)
        self.on_msg(self._on_msg)

    def _on_msg(self, _widget, content, _buffers):
        with self._path.open("a") as fh:
            fh.write(content["key"] + "\\n")
        self.count += 1

probe = KeyProbe("keys.txt")
probe
'''

FIGURE = """\
import plotly.graph_objects as go
fig = go.FigureWidget(go.Scatter(x=[0, 1, 2], y=[0.2, 0.5, 0.6], mode="lines+markers"))
fig
"""

GROW = """\
with fig.batch_update():
    fig.data[0].x = list(range(6))
    fig.data[0].y = [0.2, 0.5, 0.6, 0.7, 0.75, 0.8]
"""

POINTS = "svg.main-svg .scatterlayer path.point"


def _write_probe_notebook(root: Path) -> Path:
    cells = [
        nbformat.v4.new_markdown_cell("# Harness probe"),
        nbformat.v4.new_code_cell(PROBE_WIDGET),
        nbformat.v4.new_code_cell(FIGURE),
        nbformat.v4.new_code_cell(GROW),
    ]
    return write_notebook(root / "probe.ipynb", cells)


@pytest.mark.browser
@pytest.mark.parametrize("kind", ["lab"])  # the app test covers Notebook 7 with the real widget
def test_harness_keys_reach_widget_not_jupyter(
    kind: Kind,
    tmp_path: Path,
    jupyter: Callable[[Kind, Path], JupyterServer],
    page: tuple[Any, ConsoleLog],
    browser_report: Callable[[str], None],
) -> None:
    tab, console = page
    root = tmp_path / "root"
    root.mkdir()
    original = cell_sources(nbformat.read(_write_probe_notebook(root), as_version=4))
    server = jupyter(kind, root)
    nb = NotebookPage(tab, server, "probe.ipynb")
    nb.open()
    n_cells = nb.cell_count()

    # Run the widget and the figure, but not yet the cell that grows the figure.
    nb.run_cell(0)
    nb.run_cell(1)
    widget = tab.locator(".key-probe")
    widget.wait_for(timeout=30_000)
    tab.locator(POINTS).first.wait_for(timeout=30_000)
    assert tab.locator(POINTS).count() == 3

    # Real key presses; "a", "b", "m", "d" are command-mode shortcuts that would
    # insert cells or change a cell type if they leaked to Jupyter.
    install_latency_probe(tab, ["data-pressed", "data-count"])
    widget.click()
    keys = ["a", "b", "m", "d", "1", "2", "3", "4", "5", "6"]
    for key in keys:
        tab.keyboard.press(key)
        time.sleep(0.05)
    with contextlib.suppress(TimeoutError):
        wait_until(lambda: widget.get_attribute("data-count") == str(len(keys)), 15, "all keys")
    assert nb.cell_count() == n_cells, "a key press reached Jupyter and changed the notebook"
    assert (root / "keys.txt").read_text().split() == keys

    records = latency_records(tab)
    assert [k["key"] for k in records["keys"]] == keys
    local, roundtrip = [], []
    for k in records["keys"]:
        pressed = first_change_after(records, k["t"], lambda i: i["attr"] == "data-pressed")
        counted = first_change_after(records, k["t"], lambda i: i["attr"] == "data-count")
        assert pressed is not None and counted is not None
        local.append(pressed["t"] - k["t"])
        roundtrip.append(counted["t"] - k["t"])
    p50, p95 = percentiles(local)
    r50, r95 = percentiles(roundtrip)
    browser_report(
        f"[{kind}] probe widget: key -> front-end mark: p50 {p50:.1f} ms, p95 {p95:.1f} ms"
    )
    browser_report(
        f"[{kind}] probe widget: key -> kernel round trip: p50 {r50:.1f} ms, p95 {r95:.1f} ms"
    )

    # The figure gains points when Python updates it.
    nb.run_cell(2)
    wait_until(lambda: tab.locator(POINTS).count() == 6, 15, "the figure to gain points")

    nb.save()
    assert cell_sources(nb.model_from_disk()) == original
    # the fallback the harness uses when Ctrl+S does not take: the toolbar's button
    saved = nb.model_from_disk()
    nb.run_cell(2)  # again: a new execution count to save
    cell = nb.code_cells().nth(2)
    wait_until(lambda: "*" not in nb.prompt(cell), 15, "the cell to run again")
    nb.save(first="button")
    counts = [c.get("execution_count") for c in nb.model_from_disk()["cells"]]
    assert counts != [c.get("execution_count") for c in saved["cells"]]
    tab.screenshot(path=str(tmp_path / f"probe-{kind}.png"))
    assert console.unexpected() == []

"""The quickstart notebook in a real JupyterLab 4 and Notebook 7, driven like a person.

For each front end: copy ``notebooks/`` into a temporary root, start the server
there, open ``quickstart.ipynb`` in headless Chromium, run its code cells, then
label three batches with the keyboard and one card with the mouse, label one
card wrongly and undo it with Backspace. Checks:

* the session store *file* in the temporary root holds exactly those labels, and
  the undo is in its event log;
* no notebook cell was inserted or changed by the key presses (DOM and saved file);
* the learning curve and the uncertainty histogram are drawn as SVG, and the
  curve gains points (the histogram redraws) after the retrains the full batches
  trigger;
* the finished batch never comes back on screen once the next one shows (the front
  end runs ahead to the prefetched batch, the kernel ends the batch and follows);
* no console error or uncaught page error outside the documented allow-list.

It also measures, in the page, key press → card marked and key press → next
batch visible, and prints p50/p95 (informational; neither should wait for the
kernel). A screenshot is saved in the test's temporary directory
(``scripts/screenshot.py`` makes the README picture with the same harness).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from jupyter_harness import (
    ConsoleLog,
    JupyterServer,
    Kind,
    NotebookPage,
    cell_sources,
    copy_notebooks,
    first_change_after,
    install_latency_probe,
    latency_records,
    percentiles,
    wait_until,
)

from alwidgets import SessionStore

REPO = Path(__file__).resolve().parents[2]
NOTEBOOK = "quickstart.ipynb"
STORE = "digits.alw"
BATCH = 8  # batch_size in the quickstart
N_BATCHES = 3  # batches labeled in the browser

APP = ".alw-app"
GRID = f"{APP} .alw-batch"
CARD = f"{GRID} .alw-card"
PLOTS = f"{APP} .js-plotly-plot"


def _true_digits() -> np.ndarray:
    """The quickstart's pool answers, recomputed the way the notebook splits them.

    Only used to press the *right* keys (so the screenshot and curve look sensible);
    the assertions compare the store with the keys actually pressed.
    """
    from sklearn.model_selection import train_test_split

    from alwidgets.datasets import load_digits

    images, digits = load_digits()
    X = images.reshape(len(images), -1) / 255
    parts = train_test_split(X, images, digits, test_size=300, random_state=0)
    return np.asarray(parts[4])


def _store_labels(path: Path) -> dict[Any, Any]:
    with SessionStore(path) as store:
        return {k: v for k, v in store.labels["label"].items()}


def _store_undos(path: Path) -> list[Any]:
    """Item ids whose action an undo event reverted, oldest first."""
    with SessionStore(path) as store:
        events = store.events
        return events.loc[events["action"] == "undo", "item_id"].tolist()


def _cards(tab: Any) -> list[dict[str, str]]:
    return list(
        tab.evaluate(
            """(sel) => [...document.querySelectorAll(sel)].map((c) => ({
                key: c.dataset.key, item: c.dataset.itemId, status: c.dataset.status,
                focused: c.dataset.focused, saved: c.dataset.saved}))""",
            CARD,
        )
    )


def _batch_id(tab: Any) -> str | None:
    return tab.get_attribute(GRID, "data-batch")


def _plot_state(tab: Any) -> list[dict[str, Any]]:
    """Per plotly figure of the app: has SVG, marker points, bar shapes (as strings)."""
    return list(
        tab.evaluate(
            """(sel) => [...document.querySelectorAll(sel)].map((p) => ({
                svg: p.querySelectorAll('svg.main-svg').length,
                points: p.querySelectorAll('.scatterlayer .trace path.point').length,
                bars: [...p.querySelectorAll('.barlayer path')].map((b) => b.getAttribute('d')),
                text: p.textContent}))""",
            PLOTS,
        )
    )


def _focus_is_on_grid(tab: Any) -> bool:
    return bool(
        tab.evaluate(
            "(sel) => !!document.activeElement && document.activeElement.matches(sel)", GRID
        )
    )


def _key_for(digit: int) -> str:
    # A single-character class is its own key: digit 7 is key "7".
    return str(int(digit))


@pytest.mark.browser
@pytest.mark.parametrize("kind", ["lab", "notebook"])
def test_quickstart_label_with_keys_and_mouse(
    kind: Kind,
    tmp_path: Path,
    jupyter: Callable[[Kind, Path], JupyterServer],
    page: tuple[Any, ConsoleLog],
    browser_report: Callable[[str], None],
) -> None:
    tab, console = page
    root = copy_notebooks(REPO / "notebooks", tmp_path / "notebooks")
    store_path = root / STORE
    original = cell_sources(__import__("json").loads((root / NOTEBOOK).read_text(encoding="utf-8")))
    truth = _true_digits()

    phases: dict[str, float] = {}
    t0 = time.monotonic()
    server = jupyter(kind, root)
    phases["server up"] = time.monotonic() - t0
    nb = NotebookPage(tab, server, NOTEBOOK)
    nb.open()
    phases["notebook open, kernel ready"] = time.monotonic() - t0
    n_cells = nb.cell_count()
    nb.run_all(timeout=180)
    phases["cells run"] = time.monotonic() - t0

    # --- the app is there, with a full batch and both plots drawn ---------------------
    tab.locator(CARD).first.wait_for(timeout=30_000)
    wait_until(lambda: len(_cards(tab)) == BATCH, 20, f"{BATCH} cards")
    tab.locator(APP).scroll_into_view_if_needed()

    def plots_drawn() -> bool:
        # SVG for both figures, the point of the notebook's first model on the curve,
        # and bars in the histogram (updates arrive after the first, empty, render).
        state = _plot_state(tab)
        return (
            len(state) == 2
            and all(p["svg"] for p in state)
            and state[0]["points"] >= 1
            and len(state[1]["bars"]) > 0
        )

    try:
        wait_until(plots_drawn, 30, "the learning curve (with a point) and histogram (with bars)")
    except TimeoutError as err:
        brief = [
            {k: (len(v) if k == "bars" else v) for k, v in p.items()} for p in _plot_state(tab)
        ]
        raise AssertionError(f"{err}; plots: {brief}") from None
    curve0, hist0 = _plot_state(tab)
    baseline = _store_labels(store_path)  # the notebook's own shortcut cell labeled a batch
    undos_before = _store_undos(store_path)
    undone_item = None

    # --- label with keys and the mouse ----------------------------------------------
    install_latency_probe(tab, ["data-status", "data-batch"])
    tab.locator(f"{GRID} .alw-legend").click()  # focus the grid, like a person would
    assert _focus_is_on_grid(tab), "clicking the app did not give it keyboard focus"
    # Shift+Enter ("run cell" to a notebook user) must never label a card.
    tab.keyboard.press("Shift+Enter")
    assert not _focus_is_on_grid(tab), "Shift+Enter should hand the keyboard back"
    assert all(c["status"] == "pending" for c in _cards(tab))
    tab.locator(f"{GRID} .alw-legend").click()
    assert _focus_is_on_grid(tab)
    latency_records(tab)  # drop the Shift+Enter from the latency samples

    expected = dict(baseline)
    mark_ms: list[float] = []
    batch_ms: list[float] = []
    for b in range(N_BATCHES):
        cards = _cards(tab)
        assert len(cards) == BATCH and all(c["status"] == "pending" for c in cards), cards
        batch_before = _batch_id(tab)
        for i, card in enumerate(cards):
            item = int(card["item"])
            digit = int(truth[item])
            focused = [c["key"] for c in _cards(tab) if c["focused"] == "true"]
            assert focused == [card["key"]], (
                f"focus should be on card {card['key']} (a re-opened earlier card means the "
                f"kernel undid another action than Backspace meant): {_cards(tab)}"
            )
            sel = f'{CARD}[data-key="{card["key"]}"]'
            if b == 0 and i == 2:
                # a wrong answer, taken back with Backspace, then the right one
                undone_item = item
                tab.keyboard.press(_key_for((digit + 1) % 10))
                wait_until(
                    lambda s=sel: tab.get_attribute(s, "data-status") == "labeled",
                    5,
                    "the wrong label to show",
                )
                tab.keyboard.press("Backspace")
                wait_until(
                    lambda s=sel: tab.get_attribute(s, "data-status") == "pending",
                    5,
                    "the undo to re-open the card",
                )
            if b == 0 and i == 5:
                tab.locator(f'{sel} .alw-btn[data-label="{digit}"]').click()
                assert _focus_is_on_grid(tab), "a click on a label button took the focus away"
            else:
                tab.keyboard.press(_key_for(digit))
            expected[item] = digit
            if i < BATCH - 1:
                wait_until(
                    lambda s=sel: tab.get_attribute(s, "data-status") == "labeled",
                    5,
                    f"card {card['key']} to be marked",
                )
        wait_until(lambda bb=batch_before: _batch_id(tab) != bb, 10, "the next batch")
        # measure from the page's own clock
        records = latency_records(tab)
        keys = [k for k in records["keys"] if k["key"] not in ("Backspace",)]
        for k in keys:
            change = first_change_after(
                records,
                k["t"],
                lambda it: (
                    it["attr"] == "data-status"
                    and it["old"] == "pending"
                    and it["value"] != "pending"
                ),
            )
            if change is not None:
                mark_ms.append(change["frame"] - k["t"])
        last = keys[-1]
        swap = first_change_after(
            records,
            last["t"],
            lambda it, bb=batch_before: it["attr"] == "data-batch" and it["value"] != bb,
        )
        assert swap is not None
        batch_ms.append(swap["frame"] - last["t"])
        # the front end runs ahead to the prefetched batch and the kernel, which ends
        # batches, follows: the finished batch never flickers back on screen
        shown = [
            it["value"]
            for change in records["changes"]
            if change["t"] >= last["t"]
            for it in change["items"]
            if it["attr"] == "data-batch"  # also rewrites of the same value
        ]
        moved = next(i for i, v in enumerate(shown) if v != batch_before)
        assert batch_before not in shown[moved:], f"batch {batch_before} came back: {shown}"
        time.sleep(0.3)  # let the kernel prefetch the following batch, as a person's pause would

    phases["3 batches labeled"] = time.monotonic() - t0

    # --- the store file on disk has exactly these labels, and the undo -----------------
    with contextlib.suppress(TimeoutError):
        wait_until(lambda: _store_labels(store_path) == expected, 20, "labels on disk", 0.2)
    undos = _store_undos(store_path)[len(undos_before) :]
    assert undos == [undone_item], (
        f"Backspace after labeling item {undone_item} undid {undos} in the store: the kernel "
        "handled the front end's messages in another order than they were sent"
    )
    assert _store_labels(store_path) == expected

    # --- the notebook itself is untouched --------------------------------------------
    assert nb.cell_count() == n_cells, "a key press inserted or deleted a notebook cell"
    nb.save()
    assert cell_sources(nb.model_from_disk()) == original, "a key press changed a cell"

    # --- plots: the curve gains points, the histogram redraws after retraining ---------
    wait_until(
        lambda: _plot_state(tab)[0]["points"] > curve0["points"],
        60,
        "the learning curve to gain points",
    )
    wait_until(lambda: _plot_state(tab)[1]["bars"] != hist0["bars"], 30, "the histogram to redraw")

    phases["plots updated"] = time.monotonic() - t0

    # --- latency (informational) -------------------------------------------------------
    m50, m95 = percentiles(mark_ms)
    n50, n95 = percentiles(batch_ms)
    browser_report(
        f"[{kind}] key -> card marked (painted): p50 {m50:.1f} ms, p95 {m95:.1f} ms, "
        f"n={len(mark_ms)}"
    )
    browser_report(
        f"[{kind}] key -> next batch visible (painted): p50 {n50:.1f} ms, p95 {n95:.1f} ms, "
        f"n={len(batch_ms)}"
    )

    browser_report(f"[{kind}] elapsed: " + ", ".join(f"{k} {v:.1f} s" for k, v in phases.items()))
    shot = tmp_path / f"quickstart-{kind}.png"
    tab.locator(APP).scroll_into_view_if_needed()
    tab.screenshot(path=str(shot))
    browser_report(f"[{kind}] console errors: {len(console.allowed)} allowed (known noise)")
    assert console.unexpected() == [], "unexpected console errors:\n" + "\n".join(
        console.unexpected()
    )

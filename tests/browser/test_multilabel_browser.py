"""Multi-label chips in a real JupyterLab, driven with the keyboard like a person.

A notebook makes a multi-label labeler (4 classes, each a chip with its digit key) on a
small text pool and a store file in the server's root. In headless Chromium:

* a key toggles a chip of the focused card and sends nothing (the card stays open,
  ``aria-pressed`` says which chips are on, the group has a label for screen readers);
* ``Enter`` commits the pressed set (also the empty set: "none of these"), and the
  focus moves on; ``Backspace`` undoes the last answer (the card opens again);
* once a model is trained, a card's predicted set is pre-toggled and ``Enter`` accepts
  it as is; ``a`` accepts the model's set on another card;
* the store *file* holds exactly the sets given, and the undo is in its log;
* no console error.
"""

from __future__ import annotations

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
    wait_until,
    write_notebook,
)

from alwidgets import SessionStore

GRID = ".alw-app .alw-batch"
CARD = f"{GRID} .alw-card"
CLASSES = ["politics", "economy", "sport", "science"]

CELL = """\
from sklearn.datasets import make_multilabel_classification
from sklearn.linear_model import LogisticRegression

from alwidgets import ActiveLabeler

X, Y = make_multilabel_classification(n_samples=200, n_classes=4, random_state=0)
texts = [f"news item {{i}}" for i in range(len(X))]
labeler = ActiveLabeler(
    X, classes={classes!r}, multi_label=True, items=texts, display="text",
    estimator=LogisticRegression(max_iter=300), store="tags.alw", batch_size=4,
    retrain_in="thread", random_state=0,
)
labeler
"""


def _cards(tab: Any) -> list[dict[str, Any]]:
    return list(
        tab.evaluate(
            """(sel) => [...document.querySelectorAll(sel)].map((c) => ({
                key: c.dataset.key, item: Number(c.dataset.itemId), status: c.dataset.status,
                focused: c.dataset.focused, edited: c.dataset.edited,
                suggestion: c.querySelector('.alw-suggest').dataset.suggestion ?? null,
                pressed: [...c.querySelectorAll('.alw-chip')]
                  .filter((b) => b.getAttribute('aria-pressed') === 'true')
                  .map((b) => Number(b.dataset.chipIndex)),
                suggested: [...c.querySelectorAll('.alw-chip[data-suggested="true"]')]
                  .map((b) => Number(b.dataset.chipIndex)),
                group: c.querySelector('.alw-chips')?.getAttribute('role') + '|' +
                       c.querySelector('.alw-chips')?.getAttribute('aria-label')}))""",
            CARD,
        )
    )


def _focused(tab: Any) -> dict[str, Any]:
    return wait_until(
        lambda: next((c for c in _cards(tab) if c["focused"] == "true"), None), 30, "a focused card"
    )


def _card(tab: Any, item: int) -> dict[str, Any] | None:
    return next((c for c in _cards(tab) if c["item"] == item), None)


def _press(tab: Any, *keys: str) -> None:
    for key in keys:
        tab.keyboard.press(key)
        time.sleep(0.15)


def _stored(path: Path) -> tuple[dict[int, tuple[str, ...]], list[int]]:
    with SessionStore(path) as store:
        assert store.multi_label
        events = store.events
        undone = events.loc[events["action"] == "undo", "item_id"].tolist()
        return {int(k): tuple(v) for k, v in store.labels["label"].items()}, undone


@pytest.mark.browser
def test_chips_toggle_with_keys_enter_commits_backspace_undoes(
    tmp_path: Path,
    jupyter: Callable[[Kind, Path], JupyterServer],
    page: tuple[Any, ConsoleLog],
    browser_report: Callable[[str], None],
) -> None:
    tab, log = page
    root = tmp_path / "root"
    root.mkdir()
    write_notebook(root / "tags.ipynb", [nbformat.v4.new_code_cell(CELL.format(classes=CLASSES))])
    server = jupyter("lab", root)
    notebook = NotebookPage(tab, server, "tags.ipynb")
    notebook.open()
    notebook.run_cell(0)
    wait_until(lambda: len(_cards(tab)) == 4, 180, "4 cards with chips")
    tab.locator(f"{GRID} .alw-legend").click()  # the keyboard goes to the cards
    expected: dict[int, tuple[str, ...]] = {}

    first = _focused(tab)
    assert first["group"].startswith("group|Classes that apply")  # screen readers
    assert first["pressed"] == [] and first["suggestion"] is None  # no model yet
    # --- keys toggle chips; nothing is sent before Enter --------------------------
    _press(tab, "1", "3")
    now = _card(tab, first["item"])
    assert now["pressed"] == [0, 2] and now["edited"] == "true" and now["status"] == "pending"
    _press(tab, "3", "2")
    assert _card(tab, first["item"])["pressed"] == [0, 1]
    time.sleep(0.5)
    assert _stored(root / "tags.alw")[0] == {}  # toggles are a draft: nothing stored
    _press(tab, "Enter")
    wait_until(lambda: _card(tab, first["item"])["status"] == "labeled", 10, "first card saved")
    expected[first["item"]] = ("politics", "economy")
    # --- the focus moved on; a set, then Backspace undoes it -------------------------
    second = _focused(tab)
    assert second["item"] != first["item"]
    _press(tab, "4", "Enter")
    wait_until(lambda: _card(tab, second["item"])["status"] == "labeled", 10, "second saved")
    _press(tab, "Backspace")
    wait_until(lambda: _card(tab, second["item"])["status"] == "pending", 10, "second undone")
    assert _focused(tab)["item"] == second["item"]
    _press(tab, "2", "Enter")
    expected[second["item"]] = ("economy",)
    # --- Enter with nothing pressed: none of these; then one more set ---------------
    third = _focused(tab)
    _press(tab, "Enter")
    expected[third["item"]] = ()
    fourth = _focused(tab)
    _press(tab, "1", "4", "Enter")
    expected[fourth["item"]] = ("politics", "science")
    wait_until(lambda: _stored(root / "tags.alw")[0] == expected, 30, f"the store holds {expected}")
    # --- a model: its predicted set is pre-toggled; Enter accepts it as is ------------
    card = wait_until(
        lambda: (c := _focused(tab))["suggestion"] is not None and c["status"] == "pending" and c,
        120,
        "a focused card with the model's predicted set",
    )
    assert card["pressed"] == card["suggested"]  # pre-toggled
    _press(tab, "Enter")
    expected[card["item"]] = tuple(CLASSES[i] for i in card["suggested"])
    nxt = wait_until(
        lambda: (c := _focused(tab))["item"] != card["item"] and c["suggestion"] is not None and c,
        60,
        "the next card with a suggestion",
    )
    _press(tab, "2", "a")  # `a` accepts the model's set, whatever was toggled
    expected[nxt["item"]] = tuple(CLASSES[i] for i in nxt["suggested"])
    wait_until(lambda: _stored(root / "tags.alw")[0] == expected, 30, f"the store holds {expected}")
    labels, undone = _stored(root / "tags.alw")
    assert undone == [second["item"]]
    browser_report(f"[lab] multi-label chips: {len(labels)} sets stored as given, one undo")
    tab.screenshot(path=str(tmp_path / "multilabel.png"))
    assert log.unexpected() == [], log.unexpected()

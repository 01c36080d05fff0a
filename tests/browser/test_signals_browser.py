"""The first and the last labels in a real JupyterLab, driven with the keyboard.

A notebook builds an app on raw texts with class descriptions (the installed
all-MiniLM-L6-v2 model embeds them). Checks, in the page:

* before any label, every card shows a zero-shot suggestion with its similarity, and
  the status line says it is a zero-shot guess; ``Enter`` accepts the focused card's
  suggestion and the store records exactly that label;
* after the oracle has answered enough batches of this small, easy pool (a second
  cell, ``labeler.run``), the stats panel shows the stop signal holding ("predictions
  stable", κ of the last retrains) and the learning curve draws its mark;
* no console error.
"""

from __future__ import annotations

import re
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
STATS = ".alw-app .alw-stats"

BUILD = """\
import itertools

from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from alwidgets import ActiveLabeler
from alwidgets.features import TextFeatures

SUBJECTS = {{
    "pets": ["my cat", "our dog", "the kitten", "the puppy", "her parrot", "his hamster"],
    "money": ["the bank", "stock prices", "his salary", "the mortgage", "our savings", "the rent"],
}}
ENDINGS = ["came back this morning", "was all we talked about", "surprised everyone",
           "made the news again"]
texts = [f"{{s}} {{e}}" for c in SUBJECTS for s, e in itertools.product(SUBJECTS[c], ENDINGS)]
truth = [c for c in SUBJECTS for _ in range(len(SUBJECTS[c]) * len(ENDINGS))]
labeler = ActiveLabeler(
    texts,
    classes={{"pets": "a sentence about pets: cats, dogs and other animals at home",
              "money": "a sentence about money: banks, prices, salaries and stocks"}},
    estimator=make_pipeline(TextFeatures(progress=False, cache_dir={cache!r}),
                            LogisticRegression(C=10, max_iter=1000)),
    oracle=truth, compare_with=[], store="signals.alw", batch_size=4, random_state=0,
    retrain_in="thread", display="text",
)
labeler
"""

RUN = "labeler.run(n_batches=8, delay=0.2)"


def _cards(tab: Any) -> list[dict[str, Any]]:
    return list(
        tab.evaluate(
            """(sel) => [...document.querySelectorAll(sel)].map((c) => {
                const s = c.querySelector('.alw-suggest');
                return {key: c.dataset.key, item: c.dataset.itemId, status: c.dataset.status,
                        focused: c.dataset.focused, answer: c.dataset.answer || null,
                        by: s.dataset.by || null, suggestion: s.textContent};
            })""",
            CARD,
        )
    )


def _text(tab: Any, selector: str) -> str:
    return str(tab.evaluate("(s) => document.querySelector(s)?.textContent || ''", selector))


@pytest.mark.browser
def test_zero_shot_cards_and_the_stop_signal_in_jupyterlab(
    tmp_path: Path,
    jupyter: Callable[[Kind, Path], JupyterServer],
    page: tuple[Any, ConsoleLog],
    browser_report: Callable[[str], None],
) -> None:
    tab, log = page
    root = tmp_path / "root"
    root.mkdir()
    cells = [
        nbformat.v4.new_code_cell(BUILD.format(cache=str(tmp_path / "embeddings"))),
        nbformat.v4.new_code_cell(RUN),
    ]
    write_notebook(root / "signals.ipynb", cells)
    server = jupyter("lab", root)
    notebook = NotebookPage(tab, server, "signals.ipynb")
    notebook.open()
    notebook.run_cell(0)
    cards = wait_until(lambda: len(c := _cards(tab)) == 4 and c, 240, "4 cards")
    try:
        # --- before any label: zero-shot guesses, said so ------------------------------
        pattern = re.compile(r"^zero-shot: (pets|money) similarity 0\.\d\d$")
        assert all(c["by"] == "zero-shot" and pattern.match(c["suggestion"]) for c in cards), cards
        status = _text(tab, f"{GRID} .alw-status")
        assert "zero-shot guess from the class descriptions · no model yet" in status
        tab.screenshot(path=str(tmp_path / "zero-shot.png"), full_page=True)
        first = next(c for c in cards if c["focused"] == "true")
        guess = pattern.match(first["suggestion"]).group(1)  # type: ignore[union-attr]
        tab.locator(f"{GRID} .alw-legend").click()  # the keys go to the cards
        tab.keyboard.press("Enter")  # accept the zero-shot suggestion
        wait_until(
            lambda: next(c for c in _cards(tab) if c["key"] == first["key"])["answer"] == guess,
            10,
            "the accepted suggestion marked on its card",
        )
        with SessionStore(root / "signals.alw") as store:
            wait_until(lambda: len(store.labels) == 1, 30, "the label in the store")
            assert store.labels["label"].to_dict() == {int(first["item"]): guess}
            assert store.events["strategy"].tolist() == ["describe"]
        # --- the oracle answers batches until the stop signal holds ------------------
        notebook.run_cell(1)
        stop = f"{STATS} .alw-stop[data-holds='true']"
        wait_until(lambda: tab.query_selector(stop) is not None, 300, "the stop signal to hold")
        text = _text(tab, stop)
        assert text.startswith("predictions stable: the last 4 models agree on"), text
        assert re.search(r"κ 1\.000 · 1\.000 · 1\.000", text), text
        assert "prequential" not in text and "matched your answer" in _text(tab, STATS)
        wait_until(
            lambda: "predictions stable (mean κ > 0.99)" in _text(tab, ".alw-app .js-plotly-plot"),
            30,
            "the stop mark on the learning curve",
        )
        browser_report(f"[lab] zero-shot cards, Enter accepted {guess!r}; stop signal: {text}")
    finally:
        tab.screenshot(path=str(tmp_path / "signals.png"), full_page=True)
    assert log.unexpected() == [], log.unexpected()

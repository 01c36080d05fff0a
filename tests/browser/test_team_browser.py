"""Two annotators in two real browser pages on one PostgreSQL session, through a server
outage and a restart, labeling with the keyboard in JupyterLab.

Checks: answers given while the server is away are tagged "not saved" on their cards
and saved once it is back; no item carries labels from both annotators; retraining
goes on after the outage (a model version above any before it); each page's team line
ends with the counts the store has; no console error.
"""

from __future__ import annotations

import re
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import nbformat
import numpy as np
import pytest
from helpers import skip_or_fail_in_ci
from jupyter_harness import ConsoleLog, JupyterServer, Kind, NotebookPage, wait_until

from alwidgets import SessionStore

REPO = Path(__file__).resolve().parents[2]
PG_CLUSTER = REPO / "scripts" / "pg_cluster.py"
GRID = ".alw-app .alw-batch"
CARD = f"{GRID} .alw-card"
N_POOL = 400

CELL = """\
from sklearn.datasets import load_digits
from sklearn.linear_model import LogisticRegression

from alwidgets import ActiveLabeler

digits = load_digits()
labeler = ActiveLabeler(
    digits.data[:{n}], classes=list(range(10)), estimator=LogisticRegression(max_iter=300),
    items=digits.images[:{n}], display="image", store={url!r}, session={session!r},
    annotator={name!r}, batch_size=4, lease_seconds=6, retrain_in="thread", random_state=0,
)
labeler
"""


def _needs(variable: str) -> str:
    """The test server's setting ``variable``; a skip without it, a failure in CI."""
    import os

    value = os.environ.get(variable)
    if not value:
        skip_or_fail_in_ci(
            f"needs the test PostgreSQL server ({variable} is not set; `make test` sets it)"
        )
    return value


@pytest.fixture
def session() -> Iterator[dict[str, str]]:
    url, data = _needs("ALW_DATABASE_URL"), _needs("ALW_PGDATA")
    name = f"browser{uuid.uuid4().hex[:10]}"
    state = {"url": url, "data": data, "session": name, "down": ""}
    yield state
    if state["down"]:
        _server("resume", data)
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f'DROP SCHEMA IF EXISTS "alw_{name}" CASCADE')


def _server(command: str, data: str) -> None:
    subprocess.run([sys.executable, str(PG_CLUSTER), command, data], check=True, timeout=120)


def _cards(tab: Any) -> list[dict[str, str]]:
    return list(
        tab.evaluate(
            """(sel) => [...document.querySelectorAll(sel)].map((c) => ({
                key: c.dataset.key, item: c.dataset.itemId, status: c.dataset.status,
                focused: c.dataset.focused, saved: c.dataset.saved, unsaved: c.dataset.unsaved}))""",
            CARD,
        )
    )


def _text(tab: Any, selector: str) -> str:
    return str(tab.evaluate("(s) => document.querySelector(s)?.textContent || ''", selector))


class Annotator:
    """One person in one page: presses the right digit on the focused card."""

    def __init__(self, name: str, tab: Any, truth: np.ndarray) -> None:
        self.name, self.tab, self.truth = name, tab, truth
        self.pressed: list[int] = []

    def focus(self) -> None:
        self.tab.bring_to_front()
        self.tab.locator(f"{GRID} .alw-legend").click()

    def press(self, n: int, *, wait_mark: bool = True) -> list[int]:
        """Answer ``n`` cards, one after the other; the items answered."""
        done = []
        for _ in range(n):
            card = wait_until(
                lambda: next(
                    (
                        c
                        for c in _cards(self.tab)
                        if c["focused"] == "true" and c["status"] == "pending"
                    ),
                    None,
                ),
                30,
                f"{self.name}: a focused open card",
            )
            item = int(card["item"])
            self.tab.keyboard.press(str(int(self.truth[item])))
            if wait_mark:  # marked at once (or gone: the batch ended and the next shows)
                wait_until(
                    lambda i=item: (c := self.card_of(i)) is None or c["status"] != "pending",
                    10,
                    f"{self.name}: card of item {item} marked",
                )
            self.pressed.append(item)
            done.append(item)
            time.sleep(0.2)
        return done

    def card_of(self, item: int) -> dict[str, str] | None:
        return next((c for c in _cards(self.tab) if int(c["item"]) == item), None)

    def version(self) -> int:
        found = re.search(r"model v(\d+)", _text(self.tab, f"{GRID} .alw-status"))
        return int(found.group(1)) if found else 0


@pytest.mark.browser
def test_two_annotators_through_an_outage_and_a_restart(
    tmp_path: Path,
    jupyter: Callable[[Kind, Path], JupyterServer],
    browser: Any,
    session: dict[str, str],
    browser_report: Callable[[str], None],
) -> None:
    from sklearn.datasets import load_digits

    truth = load_digits().target[:N_POOL]
    root = tmp_path / "root"
    root.mkdir()
    for name in ("ana", "bo"):
        nb = nbformat.v4.new_notebook()
        nb.metadata["kernelspec"] = {
            "name": "python3",
            "display_name": "Python 3",
            "language": "python",
        }
        nb.cells = [nbformat.v4.new_code_cell(CELL.format(
            n=N_POOL, url=session["url"], session=session["session"], name=name))]  # fmt: skip
        nbformat.write(nb, root / f"{name}.ipynb")
    server = jupyter("lab", root)
    people: dict[str, Annotator] = {}
    logs = []
    for name in ("ana", "bo"):
        tab = browser.new_page()
        log = ConsoleLog()
        log.attach(tab)
        logs.append(log)
        tab.bring_to_front()
        page = NotebookPage(tab, server, f"{name}.ipynb")
        page.open()
        page.run_cell(0)
        wait_until(lambda t=tab: len(_cards(t)) == 4, 180, f"{name}: 4 cards")
        people[name] = Annotator(name, tab, truth)
    ana, bo = people["ana"], people["bo"]
    try:
        # --- a first batch each: retrains start --------------------------------------
        for person in (ana, bo):
            person.focus()
            person.press(4)
        for person in (ana, bo):
            wait_until(lambda p=person: p.version() >= 1, 120, f"{person.name}: a model")
        with SessionStore(session["url"], session=session["session"]) as store:
            before = int(store.models["version"].max())
        # --- an outage: answers are kept, tagged "not saved", then saved -------------
        _server("pause", session["data"])
        session["down"] = "yes"
        kept: dict[str, list[int]] = {}
        for person in (ana, bo):
            person.focus()
            kept[person.name] = person.press(2)
        for person in (ana, bo):  # the store gives up after ~5 s: the cards say so
            wait_until(
                lambda p=person: any(
                    (c := p.card_of(i)) is not None and c["unsaved"] == "true" for i in kept[p.name]
                ),
                60,
                f"{person.name}: a 'not saved' tag",
            )
        time.sleep(3)
        _server("resume", session["data"])
        session["down"] = ""
        for person in (ana, bo):
            wait_until(
                lambda p=person: all(
                    (c := p.card_of(i)) is None or (c["unsaved"] != "true" and c["saved"] == "true")
                    for i in kept[p.name]
                ),
                90,
                f"{person.name}: the kept answers saved",
            )
        # --- a restart (stop, start at once), and labeling goes on ----------------------
        _server("pause", session["data"])
        _server("resume", session["data"])
        for person in (ana, bo):
            person.focus()
            person.press(6)
        for person in (ana, bo):
            wait_until(lambda p=person: p.version() > before, 180, f"{person.name}: a new model")
        # --- the store: no item twice, every key press kept ---------------------------
        with SessionStore(session["url"], session=session["session"]) as store:

            def answers() -> int:
                events = store.events
                return int(events["action"].isin(["label", "conflict"]).sum())

            wait_until(
                lambda: answers() >= len(ana.pressed) + len(bo.pressed),
                60,
                "every answer in the store",
            )
            events = store.events
            per = store.stats()["per_annotator"]
            assert int(store.models["version"].max()) > before  # retraining resumed
        live = events[(events["action"] == "label") & ~events["undone"]]
        assert int(live.groupby("item_id")["annotator"].nunique().max()) == 1  # none twice
        for person in (ana, bo):
            mine = events[(events["annotator"] == person.name)
                          & events["action"].isin(["label", "conflict"])]  # fmt: skip
            assert sorted(mine["item_id"]) == sorted(person.pressed)  # once each
        # --- the team line in each page matches the store -----------------------------
        for person in (ana, bo):
            wait_until(
                lambda p=person: all(
                    f"{who} {n}" in _text(p.tab, ".alw-stats") for who, n in per.items()
                ),
                30,
                f"{person.name}: the team line {per}",
            )
        browser_report(f"[lab] two annotators through an outage: {per}, models up to v{before}+")
    finally:
        for person in people.values():
            person.tab.screenshot(path=str(tmp_path / f"team-{person.name}.png"))
    for log in logs:
        assert log.unexpected() == [], log.unexpected()

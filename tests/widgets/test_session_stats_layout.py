"""The stats panel's two-column class bars, laid out by a real browser (headless Chromium).

A count must never run into the next class's name, whatever the panel's width.
"""

from __future__ import annotations

from typing import Any

import pytest

from alwidgets.widgets import SessionStats

NAMES = ["airplane", "automobile", "bird", "cat", "deer", "dog", "frog", "horse", "ship", "truck"]
COUNTS = [1234, 87, 5, 300, 42, 999, 7, 61, 1500, 12]


@pytest.fixture(scope="module")
def page(chromium: Any) -> Any:
    page = chromium.new_page()
    yield page
    page.close()


@pytest.mark.parametrize("width", [260, 360, 520])
@pytest.mark.parametrize(
    "per_class",
    [dict(zip(NAMES, COUNTS, strict=True)), {str(i): 10 + 3 * i for i in range(10)}],
    ids=["words", "digits"],
)
def test_counts_keep_clear_of_the_next_class_name(page: Any, width: int, per_class: dict) -> None:
    html = SessionStats({"n_labeled": sum(per_class.values()), "per_class": per_class}).html
    page.set_content(
        f"<body style='margin:0'><div style='width:{width}px;font-family:sans-serif'>{html}</div>"
    )
    boxes = page.eval_on_selector(
        ".alw-per-class",
        """grid => [...grid.children].filter(n => !n.classList.contains('alw-col-gap'))
            .map(n => ({cls: n.className, ...n.getBoundingClientRect().toJSON()}))""",
    )
    rows = [boxes[i : i + 3] for i in range(0, len(boxes), 3)]  # name, bar, count
    assert len(rows) == len(per_class)
    for left, right in zip(rows[0::2], rows[1::2], strict=False):
        count, name = left[2], right[0]
        assert count["cls"] == "alw-count" and name["cls"] == "alw-class"
        assert abs(count["top"] - name["top"]) < 1  # side by side on one line
        assert name["left"] - count["right"] >= 12  # a visible gap, not "1,234 automobile"
    for name, bar, count in rows:
        assert bar["width"] >= 20  # every bar keeps a readable length
        assert name["right"] <= bar["left"] and bar["right"] <= count["left"]
    assert max(b["right"] for b in boxes) <= width + 1  # nothing spills out of the panel

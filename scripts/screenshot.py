"""Make ``docs/screenshot.png``: the quickstart app in JupyterLab, mid-session.

Reuses the browser-test harness (``tests/browser/jupyter_harness.py``): copies
``notebooks/`` to a temporary folder, starts JupyterLab there, runs the
quickstart in headless Debian Chromium, labels a few batches with the keyboard
(the right digits, so the learning curve climbs), and photographs the app.
Nothing in the repository changes except the PNG.

Usage::

    python scripts/screenshot.py [--out docs/screenshot.png] [--batches 4]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "browser"))

from jupyter_harness import (  # noqa: E402
    NotebookPage,
    copy_notebooks,
    launch_chromium,
    running_server,
    wait_until,
)

GRID = ".alw-app .alw-batch"


def _true_digits() -> list[int]:
    """The quickstart's pool answers (same split as the notebook)."""
    from sklearn.model_selection import train_test_split

    from alwidgets.datasets import load_digits

    images, digits = load_digits()
    X = images.reshape(len(images), -1) / 255
    return [int(d) for d in train_test_split(X, images, digits, test_size=300, random_state=0)[4]]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "screenshot.png")
    parser.add_argument("--batches", type=int, default=4, help="batches to label first")
    parser.add_argument("--width", type=int, default=1280)
    parser.add_argument("--height", type=int, default=1400)
    args = parser.parse_args(argv)

    from playwright.sync_api import sync_playwright

    truth = _true_digits()
    with tempfile.TemporaryDirectory(prefix="alw-screenshot-") as tmp_name:
        tmp = Path(tmp_name)
        root = copy_notebooks(REPO / "notebooks", tmp / "notebooks")
        with running_server("lab", root, tmp / "jupyter") as server, sync_playwright() as pw:
            context = launch_chromium(pw, tmp / "profile")
            try:
                tab = context.new_page()
                tab.set_viewport_size({"width": args.width, "height": args.height})
                nb = NotebookPage(tab, server, "quickstart.ipynb")
                nb.open()
                nb.run_all(timeout=180)
                tab.locator(f"{GRID} .alw-card").first.wait_for(timeout=30_000)
                tab.locator(f"{GRID} .alw-legend").click()
                for _ in range(args.batches):
                    before = tab.get_attribute(GRID, "data-batch")
                    items = tab.eval_on_selector_all(
                        f"{GRID} .alw-card", "(cs) => cs.map((c) => Number(c.dataset.itemId))"
                    )
                    for item in items:
                        tab.keyboard.press(str(truth[item]))
                        time.sleep(1.2)  # a brisk human pace (the stats panel shows it)
                    wait_until(
                        lambda b=before: tab.get_attribute(GRID, "data-batch") != b,
                        15,
                        "next batch",
                    )
                    time.sleep(1.0)
                # Mid-batch, so the picture shows marked and open cards side by side.
                for item in tab.eval_on_selector_all(
                    f"{GRID} .alw-card",
                    "(cs) => cs.slice(0, 3).map((c) => Number(c.dataset.itemId))",
                ):
                    tab.keyboard.press(str(truth[item]))
                    time.sleep(1.2)
                time.sleep(2.0)  # let the retrain land and the plots redraw
                # Collapse the file browser and bring the app to the top of the view.
                tab.locator(".jp-SideBar.jp-mod-left .lm-TabBar-tab.lm-mod-current").click()
                tab.evaluate(
                    """() => {
                        const app = document.querySelector('.alw-app');
                        const cell = app.closest('.jp-Cell');
                        cell.scrollIntoView({block: 'start'});
                    }"""
                )
                tab.evaluate("() => document.querySelector('.alw-app .alw-batch').focus()")
                time.sleep(0.5)
                raw = tmp / "raw.png"
                tab.screenshot(path=str(raw))
            finally:
                context.close()
        _save_small_png(raw, args.out)
    print(f"wrote {args.out} ({args.out.stat().st_size / 1024:.0f} KB)")
    return 0


def _save_small_png(src: Path, dst: Path) -> None:
    """Write ``src`` to ``dst`` as a palette PNG (UI pictures lose nothing visible)."""
    from PIL import Image

    dst.parent.mkdir(parents=True, exist_ok=True)
    with Image.open(src) as img:
        img.convert("RGB").quantize(colors=256, method=Image.Quantize.MEDIANCUT).save(
            dst, optimize=True
        )


if __name__ == "__main__":
    sys.exit(main())

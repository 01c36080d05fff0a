"""Helpers that play the browser: messages shaped exactly like the ones _batch.js sends."""

from __future__ import annotations

import os
from typing import Any

from helpers import skip_or_fail_in_ci

from alwidgets.app import ActiveLabeler


def needs(variable: str) -> str:
    """The test server's setting ``variable``; a skip without it, a failure in CI."""
    value = os.environ.get(variable)
    if not value:
        reason = f"needs the test PostgreSQL server ({variable} is not set; `make test` sets it)"
        skip_or_fail_in_ci(reason)
    return value


def front_end(widget: Any, **content: Any) -> None:
    """Deliver a message exactly as the browser would (``buffers`` is required)."""
    widget._handle_msg(
        {"content": {"data": {"method": "custom", "content": content}}, "buffers": []}
    )


def press(labeler: ActiveLabeler, seq: int, key: str, action: str, class_index: int | None = None):
    """What _batch.js sends for a key press or click on card ``key``."""
    front_end(
        labeler.batch_widget,
        type="action",
        seq=seq,
        action=action,
        key=key,
        class_index=class_index,
        batch=labeler.batch_widget.batch_id,
        seconds=1.5,
    )
    return [m for m in labeler.batch_widget.sent if m.get("seq") == seq]


def next_cards(labeler: ActiveLabeler) -> list[dict[str, Any]]:
    """The prefetched batch's cards as the widget has them, once the session companion
    made them (after a batch end they follow, off the key path)."""
    assert labeler._companion.settle(), "the session companion did not settle in 10 s"
    return list(labeler.batch_widget.next_cards)

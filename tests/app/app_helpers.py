"""Helpers that play the browser: messages shaped exactly like the ones _batch.js sends."""

from __future__ import annotations

from typing import Any

from alwidgets.app import ActiveLabeler


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

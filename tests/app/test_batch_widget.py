"""BatchWidget: the synced state and the message protocol, without the app."""

from __future__ import annotations

from pathlib import Path

from app_helpers import front_end

import alwidgets.widgets
from alwidgets.widgets import BatchWidget

CLASSES = [{"name": "cat", "key": "1"}, {"name": "dog", "key": "2"}]


def make() -> tuple[BatchWidget, list[dict]]:
    w = BatchWidget(classes=CLASSES)
    seen: list[dict] = []
    w.on_action(seen.append)
    return w, seen


def test_front_end_is_shipped_with_the_package() -> None:
    w = BatchWidget()
    assert "export default" in w._esm and "data-lm-suppress-shortcuts" in w._esm
    assert "preventDefault" in w._esm and "stopPropagation" in w._esm
    assert ".alw-card" in w._css
    # the view imports the pure state module from this synced text
    assert "export class BatchState" in w._state_esm and "_state_esm" in w._esm
    assert "document" not in w._state_esm  # no DOM in the state module
    # Widget.keys lists the synced traits; a trait named `keys` would shadow it (ipywidgets lists synced traits there)
    synced = {"classes", "cards", "batch_id", "next_cards", "next_batch_id", "answers", "status"}
    assert synced <= set(w.keys)


def test_front_end_files_are_paths_for_anywidgets_hot_reload() -> None:
    here = Path(alwidgets.widgets.__file__).parent
    # a Path becomes anywidget's FileContents: the file is watched with ANYWIDGET_HMR=1
    for attr, name in [("_esm", "_batch.js"), ("_css", "_batch.css")]:
        value = BatchWidget.__dict__[attr]
        assert type(value).__name__ == "FileContents", (attr, type(value))
        assert str(value) == (here / name).read_text(encoding="utf-8")
    state = (here / "_batch_state.js").read_text(encoding="utf-8")
    assert BatchWidget()._state_esm == state


def test_valid_label_action_reaches_the_handler_typed() -> None:
    w, seen = make()
    front_end(w, type="action", seq=7, action="label", key="12", class_index=1.0, seconds=2)
    assert seen == [
        {
            "type": "action",
            "seq": 7,
            "action": "label",
            "key": "12",
            "class_index": 1,
            "seconds": 2.0,
        }
    ]
    assert w.sent == type(w.sent)()  # nothing sent back by the widget itself


def test_skip_drops_a_stray_class_index() -> None:
    w, seen = make()
    front_end(w, type="action", seq=1, action="skip", key="3", class_index=0)
    assert seen[0]["class_index"] is None and seen[0]["seconds"] is None


def test_out_of_range_class_is_nacked_not_forwarded() -> None:
    w, seen = make()
    front_end(w, type="action", seq=2, action="label", key="3", class_index=5)
    assert seen == []
    assert w.sent[-1]["type"] == "nack" and w.sent[-1]["seq"] == 2
    assert "class index 5" in w.sent[-1]["error"]


def test_malformed_action_is_nacked() -> None:
    w, seen = make()
    front_end(w, type="action", seq=3, action="delete", key="3")
    front_end(w, type="action", seq=4, action="label", key=3, class_index=0)
    assert seen == []
    assert [m["seq"] for m in w.sent] == [3, 4]


def test_unknown_message_type_is_ignored_with_a_warning(caplog) -> None:
    w, seen = make()
    front_end(w, type="explode", seq=1)
    assert seen == [] and len(w.sent) == 0
    assert "unknown front-end message" in caplog.text


def test_undo_is_forwarded_and_advance_is_not_a_message(caplog) -> None:
    w, seen = make()
    front_end(w, type="undo", seq=5)
    # the kernel alone decides when a batch ends: an old front end's "advance" is ignored
    front_end(w, type="advance", seq=6, batch=3, from_batch=2)
    assert [m["type"] for m in seen] == ["undo"]
    assert "unknown front-end message" in caplog.text
    assert not hasattr(w, "advanced")


def test_replies_have_the_documented_shape() -> None:
    w, _ = make()
    w.ack(1, "4")
    w.nack(2, "5", "disk full")
    w.undone(3, None)
    w.notice("hello", "error")
    assert list(w.sent) == [
        {"type": "ack", "seq": 1, "key": "4"},
        {"type": "nack", "seq": 2, "key": "5", "error": "disk full"},
        {"type": "undone", "seq": 3, "key": None},
        {"type": "notice", "text": "hello", "kind": "error"},
    ]


def test_handler_can_be_removed() -> None:
    w, seen = make()
    w.on_action(seen.append, remove=True)
    front_end(w, type="undo", seq=1)
    assert seen == []

"""Front-end messages are applied in the view's seq order, and an undo undoes what it names.

The kernel may hand comm messages to the widget out of order or from two threads
(ipykernel 7 dispatches comm messages concurrently while the shell is busy). These
tests deliver front-end-shaped messages out of order, concurrently, with a gap that
never fills, and with an undo naming an action that is no longer the last one.
"""

from __future__ import annotations

import random
import threading
import time
from typing import Any

from app_helpers import front_end

SESSION = "view-a"


def keys_of(labeler: Any) -> list[str]:
    return [c["key"] for c in labeler.batch_widget.cards]


def label_msg(seq: int, key: str, class_index: int, session: str = SESSION) -> dict[str, Any]:
    return {
        "type": "action",
        "seq": seq,
        "action": "label",
        "key": key,
        "class_index": class_index,
        "batch": 0,
        "seconds": 1.0,
        "session": session,
    }


def undo_msg(seq: int, key: str, target_seq: int, session: str = SESSION) -> dict[str, Any]:
    return {"type": "undo", "seq": seq, "key": key, "target_seq": target_seq, "session": session}


def store_log(labeler: Any) -> list[tuple[str, Any]]:
    events = labeler.store.events
    return list(zip(events["action"].tolist(), events["item_id"].tolist(), strict=True))


def replies(labeler: Any, seq: int) -> list[dict[str, Any]]:
    return [m for m in labeler.batch_widget.sent if m.get("seq") == seq]


def test_messages_delivered_out_of_order_are_applied_in_seq_order(make_labeler) -> None:
    lab = make_labeler(batch_size=8)
    k = keys_of(lab)
    w = lab.batch_widget
    # the undo (3) and the second label (2) reach the kernel before the first label (1)
    front_end(w, **undo_msg(3, k[1], target_seq=2))
    front_end(w, **label_msg(2, k[1], 4))
    assert store_log(lab) == []  # both wait for seq 1: nothing applied yet
    front_end(w, **label_msg(1, k[0], 7))
    assert store_log(lab) == [("label", int(k[0])), ("label", int(k[1])), ("undo", int(k[1]))]
    assert lab.labels["label"].to_dict() == {int(k[0]): 7}
    assert replies(lab, 3) == [{"type": "undone", "seq": 3, "key": k[1]}]


def test_messages_from_two_threads_at_once_keep_seq_order(make_labeler) -> None:
    lab = make_labeler(batch_size=8)
    k = keys_of(lab)[:6]
    msgs = [label_msg(i + 1, key, i % 10) for i, key in enumerate(k)]
    msgs.append(undo_msg(7, k[-1], target_seq=6))
    random.Random(3).shuffle(msgs)
    halves = [msgs[0::2], msgs[1::2]]
    start = threading.Barrier(2)

    def deliver(part: list[dict[str, Any]]) -> None:
        start.wait()
        for m in part:
            front_end(lab.batch_widget, **m)

    threads = [threading.Thread(target=deliver, args=(p,)) for p in halves]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    expected = [("label", int(key)) for key in k] + [("undo", int(k[-1]))]
    assert store_log(lab) == expected
    assert sorted(lab.labels.index) == sorted(int(key) for key in k[:-1])


def test_undo_naming_a_stale_action_is_refused_and_nothing_is_lost(make_labeler) -> None:
    lab = make_labeler(batch_size=8)
    k = keys_of(lab)
    w = lab.batch_widget
    front_end(w, **label_msg(1, k[0], 1))
    front_end(w, **label_msg(2, k[1], 2))
    front_end(w, **undo_msg(3, k[0], target_seq=1))  # k[0] is no longer the last action
    (reply,) = replies(lab, 3)
    assert reply["type"] == "nack" and reply["key"] == k[0]
    assert "not undone" in reply["error"] and str(int(k[1])) in reply["error"]
    assert lab.labels["label"].to_dict() == {int(k[0]): 1, int(k[1]): 2}
    assert [a for a, _ in store_log(lab)] == ["label", "label"]
    # an undo naming the right card but another view's action is refused too
    front_end(w, **undo_msg(1, k[1], target_seq=2, session="view-b"))
    assert replies(lab, 1)[-1]["type"] == "nack"
    # the correct undo still works, then the earlier one is the last action again
    front_end(w, **undo_msg(4, k[1], target_seq=2))
    front_end(w, **undo_msg(5, k[0], target_seq=1))
    assert replies(lab, 4)[-1] == {"type": "undone", "seq": 4, "key": k[1]}
    assert replies(lab, 5)[-1] == {"type": "undone", "seq": 5, "key": k[0]}
    assert len(lab.labels) == 0


def test_a_python_label_between_action_and_undo_makes_the_undo_refused(make_labeler) -> None:
    lab = make_labeler(batch_size=8)
    k = keys_of(lab)
    front_end(lab.batch_widget, **label_msg(1, k[0], 1))
    lab.label(int(k[1]), 3)  # another path acted since: the front end's undo is stale
    front_end(lab.batch_widget, **undo_msg(2, k[0], target_seq=1))
    assert replies(lab, 2)[-1]["type"] == "nack"
    assert lab.labels["label"].to_dict() == {int(k[0]): 1, int(k[1]): 3}


def test_a_lost_message_does_not_wedge_the_app(make_labeler) -> None:
    lab = make_labeler(batch_size=8)
    k = keys_of(lab)
    w = lab.batch_widget
    w.gap_timeout = 0.05
    front_end(w, **label_msg(2, k[1], 2))  # seq 1 is lost
    front_end(w, **label_msg(3, k[2], 3))
    deadline = time.monotonic() + 30
    while len(store_log(lab)) < 2 and time.monotonic() < deadline:
        time.sleep(0.01)
    assert store_log(lab) == [("label", int(k[1])), ("label", int(k[2]))]
    # seq 1 turns up after all: it is refused, not applied after later actions
    front_end(w, **label_msg(1, k[0], 1))
    assert replies(lab, 1) == [
        {
            "type": "nack",
            "seq": 1,
            "key": k[0],
            "error": "this action arrived after later ones and was not applied; please redo it",
        }
    ]
    assert int(k[0]) not in lab.labels.index
    front_end(w, **label_msg(4, k[3], 4))  # and the session goes on
    assert lab.labels.loc[int(k[3]), "label"] == 4


def test_a_new_view_session_starts_its_own_sequence(make_labeler) -> None:
    lab = make_labeler(batch_size=8)
    k = keys_of(lab)
    w = lab.batch_widget
    front_end(w, **label_msg(1, k[0], 1))
    front_end(w, **label_msg(2, k[1], 2))
    front_end(w, **label_msg(1, k[2], 3, session="reloaded-page"))  # seq restarts at 1
    front_end(w, **label_msg(2, k[2], 3))  # a repeat of an applied seq: refused
    assert lab.labels["label"].to_dict() == {int(k[0]): 1, int(k[1]): 2, int(k[2]): 3}
    assert [a for a, _ in store_log(lab)] == ["label"] * 3
    assert replies(lab, 2)[-1]["type"] == "nack"

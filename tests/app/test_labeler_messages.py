"""ActiveLabeler driven by front-end-shaped messages: keys -> store, undo, skip; the kernel ends batches."""

from __future__ import annotations

import numpy as np
from app_helpers import front_end, next_cards, press

from alwidgets.store import SessionStore


def keys_of(labeler) -> list[str]:
    return [c["key"] for c in labeler.batch_widget.cards]


def test_key_press_label_is_durable_and_acked(make_labeler, digits) -> None:
    _, y, _ = digits
    lab = make_labeler()
    key = keys_of(lab)[0]
    item = int(key)
    replies = press(lab, 1, key, "label", class_index=int(y[item]))
    assert replies == [{"type": "ack", "seq": 1, "key": key}]
    # durable: a second, independent connection to the file sees it
    with SessionStore(lab.store.path) as other:
        assert other.labels["label"].to_dict() == {item: int(y[item])}
        event = other.events.iloc[-1]
        assert event["strategy"] == "cold_start" and event["rank"] >= 1
        assert np.isclose(event["seconds"], 1.5, atol=0.5)
    assert lab.batch_widget.answers[key] == {"action": "label", "class_index": int(y[item])}
    assert lab.batch_widget.progress == {"labeled": 1, "total": lab.n_items}


def test_skip_and_unsure_are_recorded_and_never_queried_again(make_labeler) -> None:
    lab = make_labeler()
    k0, k1 = keys_of(lab)[:2]
    press(lab, 1, k0, "skip")
    press(lab, 2, k1, "unsure")
    state = lab.store.state
    assert state.loc[int(k0), "action"] == "skip" and state.loc[int(k1), "action"] == "unsure"
    for _ in range(6):  # several batches later, neither comes back
        lab.next_batch()
        assert int(k0) not in lab.batch and int(k1) not in lab.batch
        assert not {int(k0), int(k1)} & {c["item_id"] for c in next_cards(lab)}
    assert len(lab.labels) == 0  # skip/unsure are not labels


def test_answering_the_last_card_shows_the_prefetched_batch(make_labeler, digits) -> None:
    _, y, _ = digits
    lab = make_labeler()
    w = lab.batch_widget
    first_id, next_id = w.batch_id, w.next_batch_id
    prefetched = [c["item_id"] for c in w.next_cards]
    for seq, key in enumerate(keys_of(lab), start=1):
        press(lab, seq, key, "label", class_index=int(y[int(key)]))
    assert w.batch_id == next_id != first_id
    assert lab.batch == prefetched
    assert w.answers == {}
    # the following batch is taken (claimed in a team) at once; its cards are made by
    # the session's companion thread, off the key path, and follow a moment later
    assert w.next_batch_id > next_id and lab._ctl.queue.next.positions
    cards = next_cards(lab)
    assert [c["item_id"] for c in cards] == [lab.ids[p] for p in lab._ctl.queue.next.positions]
    assert len(cards) == lab.batch_size and not set(lab.batch) & {c["item_id"] for c in cards}


def test_answers_on_a_replaced_prefetch_are_kept(make_labeler, digits) -> None:
    """The front end ran ahead to a prefetch a retrain then replaced: its answers count."""
    _, y, _ = digits
    lab = make_labeler()
    w = lab.batch_widget
    shown_next = [c["key"] for c in w.next_cards]
    keys = keys_of(lab)
    press(lab, 1, keys[0], "label", class_index=0)
    press(lab, 2, keys[1], "label", class_index=1)
    lab.retrain(wait=True)
    assert [c["key"] for c in w.next_cards] != shown_next  # replaced by the new ranking
    seq = 3
    for key in keys[2:] + shown_next[:2]:  # the rest, then two cards of the old prefetch
        press(lab, seq, key, "label", class_index=int(y[int(key)]))
        seq += 1
    for key in shown_next[:2]:  # recorded, whether or not the new batch holds them
        assert lab.labels.loc[int(key), "label"] == int(y[int(key)])
    assert [m["type"] for m in w.sent if m.get("seq", 0) >= 3] == ["ack"] * (seq - 3)
    queued = set(lab.batch) | {c["item_id"] for c in next_cards(lab)}
    assert len(queued) == 2 * lab.batch_size  # no item is both current and next


def test_an_answer_about_an_item_outside_the_current_batch_is_applied(make_labeler, digits) -> None:
    _, y, _ = digits
    lab = make_labeler()
    keys = keys_of(lab)
    for seq, key in enumerate(keys, start=1):
        press(lab, seq, key, "label", class_index=int(y[int(key)]))
    assert int(keys[0]) not in lab.batch  # the kernel moved on
    # a late re-label of a card of the finished batch: still a valid answer
    replies = press(lab, 20, keys[0], "label", class_index=(int(y[int(keys[0])]) + 1) % 10)
    assert replies == [{"type": "ack", "seq": 20, "key": keys[0]}]
    assert lab.labels.loc[int(keys[0]), "label"] == (int(y[int(keys[0])]) + 1) % 10
    # an item that was never in a batch the kernel kept (e.g. a replaced prefetch)
    outside = next(p for p in range(lab.n_items) if not lab._ctl.queue.queued[p]
                   and not lab._ctl.mirror.handled[p])  # fmt: skip
    replies = press(lab, 21, str(outside), "skip")
    assert replies == [{"type": "ack", "seq": 21, "key": str(outside)}]
    assert lab.store.state.loc[outside, "action"] == "skip"
    for _ in range(5):  # never queried after that
        lab.next_batch()
        assert outside not in lab.batch
        assert outside not in {c["item_id"] for c in next_cards(lab)}


def test_backspace_undo_reopens_the_card(make_labeler) -> None:
    lab = make_labeler()
    key = keys_of(lab)[1]
    press(lab, 1, key, "label", class_index=3)
    front_end(lab.batch_widget, type="undo", seq=2)
    assert lab.batch_widget.sent[-1] == {"type": "undone", "seq": 2, "key": key}
    assert key not in lab.batch_widget.answers
    assert len(lab.labels) == 0
    assert lab.store.events["action"].tolist() == ["label", "undo"]


def test_undo_across_a_batch_boundary_brings_the_item_back(make_labeler, digits) -> None:
    _, y, _ = digits
    lab = make_labeler()
    keys = keys_of(lab)
    for seq, key in enumerate(keys, start=1):
        press(lab, seq, key, "label", class_index=int(y[int(key)]))
    last = int(keys[-1])
    assert last not in lab.batch  # the batch moved on
    front_end(lab.batch_widget, type="undo", seq=50)
    assert lab.batch[0] == last  # reopened at the front of the current batch
    card = lab.batch_widget.cards[0]
    assert card["item_id"] == last and card["key"] == keys[-1]
    assert keys[-1] not in lab.batch_widget.answers
    assert last not in lab.labels.index and len(lab.labels) == len(keys) - 1
    # label it again: durable, and it leaves no duplicate anywhere
    press(lab, 51, keys[-1], "label", class_index=int(y[last]))
    assert lab.labels.loc[last, "label"] == int(y[last])
    assert lab.batch.count(last) <= 1


def test_undo_of_a_relabel_restores_the_earlier_label(make_labeler) -> None:
    lab = make_labeler()
    key = keys_of(lab)[0]
    press(lab, 1, key, "label", class_index=2)
    press(lab, 2, key, "label", class_index=5)
    front_end(lab.batch_widget, type="undo", seq=3)
    assert lab.labels.loc[int(key), "label"] == 2
    assert lab.batch_widget.answers[key] == {"action": "label", "class_index": 2}


def test_undo_with_nothing_to_undo_tells_the_user(make_labeler) -> None:
    lab = make_labeler()
    front_end(lab.batch_widget, type="undo", seq=1)
    sent = list(lab.batch_widget.sent)
    assert {"type": "undone", "seq": 1, "key": None} in sent
    assert any(m["type"] == "notice" and "Nothing to undo" in m["text"] for m in sent)


def test_action_on_an_unknown_card_is_nacked_and_nothing_is_written(make_labeler) -> None:
    lab = make_labeler()
    replies = press(lab, 1, "999999", "label", class_index=0)
    assert replies[0]["type"] == "nack" and "not in the pool" in replies[0]["error"]
    assert len(lab.store.events) == 0


def test_a_store_failure_is_nacked_and_the_card_stays_open(make_labeler) -> None:
    lab = make_labeler()
    key = keys_of(lab)[0]
    lab.store.close()  # e.g. the file became unavailable
    replies = press(lab, 1, key, "label", class_index=0)
    assert replies[0]["type"] == "nack" and "closed" in replies[0]["error"]
    assert key not in lab.batch_widget.answers
    lab.close()  # closing works with the store gone


def test_undo_reads_no_dataframe_on_the_key_path(make_labeler, monkeypatch) -> None:
    lab = make_labeler()
    key = keys_of(lab)[0]
    press(lab, 1, key, "label", class_index=2)
    press(lab, 2, key, "skip")

    def no_views(self):
        raise AssertionError("a view of the whole log was read")

    store_type = type(lab.store)
    monkeypatch.setattr(store_type, "state", property(no_views))
    monkeypatch.setattr(store_type, "labels", property(no_views))
    front_end(lab.batch_widget, type="undo", seq=3)
    assert lab.batch_widget.sent[-1] == {"type": "undone", "seq": 3, "key": key}
    # the label the skip had replaced is live again, from the store's answer
    assert lab.batch_widget.answers[key] == {"action": "label", "class_index": 2}
    monkeypatch.undo()
    assert lab.labels.loc[int(key), "label"] == 2


def test_an_answer_on_the_prefetched_batch_before_its_cards_are_made_keeps_its_query_info(
    make_labeler, digits
) -> None:
    """Right after a batch end the following batch's items are taken but their cards not
    made yet; a label on one of them makes them first, so the store records why it was
    picked (strategy, rank), as for any shown card."""
    _, y, _ = digits
    lab = make_labeler()
    lab._companion.stop()  # nothing makes the cards in the background in this test
    lab._companion_thread.join(5)
    for item in list(lab.batch):
        lab.label(item, int(y[item]))
    queue = lab._ctl.queue
    assert queue.next.pending and lab.batch_widget.next_cards == []
    ahead = lab.ids[queue.next.positions[1]]
    lab.label(ahead, int(y[ahead]))
    event = lab.store.events.iloc[-1]
    assert event["item_id"] == ahead and event["strategy"] == "cold_start"
    assert event["rank"] >= 1

"""The batch front end (_batch.js) in headless Chromium, against a scripted model.

No Jupyter here: the ES module is loaded into a blank page and rendered with a
small stand-in for the anywidget model (``get``/``set``/``on``/``send`` plus helpers
to change traits and deliver kernel messages). Real key presses and clicks go
through Chromium, so this checks what the kernel never sees: optimistic marks, focus,
that keys do not leak to the page, the prefetched batch appearing at once, and
reconciliation with ack/nack/undone and with the kernel's batch. The view imports the
state module from the ``_state_esm`` text, as in Jupyter. The full stack (JupyterLab,
kernel) is covered by ``tests/browser``; the state module alone by ``tests/js``.
"""

from __future__ import annotations

from typing import Any

import pytest

from alwidgets.widgets import BatchWidget

pytestmark = pytest.mark.browser


FAKE_MODEL = """
async ([src, stateSrc, cardsSrc]) => {
  class FakeModel {
    constructor(state) { this.state = state; this.handlers = {}; this.sent = []; }
    get(k) { return this.state[k]; }
    set(k, v) { this.state[k] = v; }
    on(ev, cb) { (this.handlers[ev] ||= []).push(cb); }
    send(msg) { this.sent.push(msg); }
    fire(ev, arg) { for (const cb of this.handlers[ev] || []) cb(arg); }
    update(obj) {
      Object.assign(this.state, obj);
      for (const k of Object.keys(obj)) this.fire(`change:${k}`);
    }
    emit(msg) { this.fire("msg:custom", msg); }
  }
  const card = (key, suggestion) => ({
    key, item_id: Number(key), html: `<span class="txt">item ${key}</span>`,
    suggestion, confidence: 0.8, why: `margin 0.9 · #${key}`, why_long: "",
  });
  window.card = card;
  window.model = new FakeModel({
    classes: [{name: "cat", key: "1"}, {name: "dog", key: "2"}, {name: "emu", key: "3"}],
    cards: [card("10", 0), card("11", 1), card("12", null)],
    batch_id: 1,
    next_cards: [card("20", 2), card("21", 0), card("22", 1)],
    next_batch_id: 2,
    answers: {},
    status: {state: "waiting", text: "no model yet", age: null, detail: ""},
    progress: {labeled: 0, total: 100},
    empty_text: "nothing left",
    _state_esm: stateSrc,
    _cards_esm: cardsSrc,
  });
  window.leaked = [];
  document.addEventListener("keydown", (e) => window.leaked.push(e.key));
  const url = URL.createObjectURL(new Blob([src], {type: "text/javascript"}));
  const mod = await import(url);
  const host = document.createElement("div");
  document.body.append(host);
  await mod.default.render({model: window.model, el: host});
  await new Promise((r) => requestAnimationFrame(() => r()));
}
"""


@pytest.fixture
def page(chromium: Any) -> Any:
    page = chromium.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda err: errors.append(str(err)))
    page.set_content("<!doctype html><html><body></body></html>")
    widget = BatchWidget()
    page.add_style_tag(content=widget._css)
    page.evaluate(FAKE_MODEL, [widget._esm, widget._state_esm, widget._cards_esm])
    yield page
    assert errors == [], errors
    page.close()


def card(page: Any, key: str) -> dict[str, Any]:
    return page.eval_on_selector(f'.alw-card[data-key="{key}"]', "n => ({...n.dataset})")


def sent(page: Any) -> list[dict[str, Any]]:
    return page.evaluate("window.model.sent")


def test_root_is_focused_and_marked_to_keep_keys_from_jupyter(page: Any) -> None:
    root = page.eval_on_selector(
        ".alw-batch",
        "n => [n.tabIndex, n.dataset.lmSuppressShortcuts, document.activeElement === n]",
    )
    assert root == [0, "true", True]
    assert card(page, "10")["focused"] == "true"
    buttons = page.eval_on_selector_all(
        '.alw-card[data-key="10"] .alw-btn', "bs => bs.map(b => b.textContent)"
    )
    assert buttons == ["1 cat", "2 dog", "3 emu", "s skip", "u unsure"]


def test_key_marks_at_once_moves_focus_and_does_not_leak(page: Any) -> None:
    page.keyboard.press("2")
    c = card(page, "10")
    assert (c["status"], c["answer"], c["saved"]) == ("labeled", "dog", "false")
    assert card(page, "11")["focused"] == "true"
    msg = sent(page)[-1]
    assert (msg["type"], msg["action"], msg["key"], msg["class_index"], msg["batch"]) == (
        "action",
        "label",
        "10",
        1,
        1,
    )
    page.keyboard.press("a")  # not a class key: swallowed too, never reaches Jupyter
    page.keyboard.press("ArrowLeft")
    assert card(page, "10")["focused"] == "true"
    assert page.evaluate("window.leaked") == []


def test_ack_shows_the_saved_tick_and_nack_unmarks_with_the_reason(page: Any) -> None:
    page.keyboard.press("1")
    seq = sent(page)[-1]["seq"]
    page.evaluate(
        "seq => { model.update({answers: {'10': {action: 'label', class_index: 0}}});"
        " model.emit({type: 'ack', seq, key: '10'}); }",
        seq,
    )
    assert card(page, "10")["saved"] == "true"
    assert page.is_visible('.alw-card[data-key="10"] .alw-saved')
    page.keyboard.press("3")  # on card 11
    seq = sent(page)[-1]["seq"]
    assert card(page, "11")["status"] == "labeled"
    page.evaluate("seq => model.emit({type: 'nack', seq, key: '11', error: 'disk full'})", seq)
    c = card(page, "11")
    assert (c["status"], c["error"]) == ("pending", "true")
    assert "disk full" in page.inner_text(".alw-notice")
    # the refused action is not in the undo history: Backspace names the saved one
    first = sent(page)[0]
    page.keyboard.press("Backspace")
    undo = sent(page)[-1]
    assert (undo["type"], undo["key"], undo["target_seq"]) == ("undo", "10", first["seq"])
    # the kernel refuses the undo (no longer the last action): the card keeps its answer
    page.evaluate(
        "seq => model.emit({type: 'nack', seq, key: '10', error: 'not undone: stale'})",
        undo["seq"],
    )
    assert card(page, "10")["status"] == "labeled"


def test_an_ack_ahead_of_its_state_update_keeps_the_mark(page: Any) -> None:
    # ipywidgets applies state updates asynchronously, custom messages at once
    page.keyboard.press("1")
    page.evaluate("model.emit({type: 'ack', seq: 1, key: '10'})")  # answers not updated yet
    c = card(page, "10")
    assert (c["status"], c["saved"]) == ("labeled", "true")
    page.keyboard.press("2")
    page.keyboard.press("3")  # the batch is finished: on to the prefetched one at once
    assert page.get_attribute(".alw-batch", "data-batch") == "2"


def test_skip_unsure_undo_and_enter(page: Any) -> None:
    page.keyboard.press("Enter")  # card 10 suggests class 0
    assert sent(page)[-1]["class_index"] == 0
    page.keyboard.press("s")
    assert card(page, "11")["status"] == "skipped"
    skip = sent(page)[-1]
    page.keyboard.press("Backspace")  # undo the skip: restored locally at once
    undo = sent(page)[-1]
    # the undo names what it undoes, in the same view session as the action
    assert undo["type"] == "undo" and undo["key"] == "11" and undo["target_seq"] == skip["seq"]
    assert undo["session"] == skip["session"] and undo["seq"] == skip["seq"] + 1
    assert card(page, "11")["status"] == "pending"
    assert card(page, "11")["focused"] == "true"
    page.keyboard.press("u")
    assert card(page, "11")["status"] == "unsure"
    page.keyboard.press("Enter")  # card 12 has no suggestion: a hint, no action
    assert sent(page)[-1]["action"] == "unsure"
    assert "No model suggestion yet" in page.inner_text(".alw-notice")


def test_completed_batch_shows_the_prefetched_one_without_the_kernel(page: Any) -> None:
    for key in "123":
        page.keyboard.press(key)
    assert page.get_attribute(".alw-batch", "data-batch") == "2"
    keys = page.eval_on_selector_all(".alw-card", "ns => ns.map(n => n.dataset.key)")
    assert keys == ["20", "21", "22"]
    assert card(page, "20")["focused"] == "true"
    # the kernel decides when a batch ends: the front end only sent the three answers
    assert [(m["type"], m["seq"]) for m in sent(page)] == [("action", i) for i in (1, 2, 3)]
    # the kernel has saved the answers but not moved on yet: the view stays ahead
    page.evaluate(
        "model.update({answers: {'10': {action: 'label', class_index: 0},"
        " '11': {action: 'label', class_index: 1}, '12': {action: 'label', class_index: 2}}})"
    )
    assert page.get_attribute(".alw-batch", "data-batch") == "2"
    page.keyboard.press("1")  # labeling goes on meanwhile
    assert sent(page)[-1]["batch"] == 2
    # the kernel advances to the same batch: nothing moves, the local mark survives
    node = page.query_selector('.alw-card[data-key="20"]')
    page.evaluate(
        "model.update({batch_id: 2, cards: [card('20', 2), card('21', 0), card('22', 1)],"
        " next_batch_id: 3, next_cards: [card('30', 0)], answers: {}})"
    )
    assert page.get_attribute(".alw-batch", "data-batch") == "2"
    assert page.query_selector('.alw-card[data-key="20"]').evaluate("(n, o) => n === o", node)
    assert card(page, "20")["status"] == "labeled"
    assert card(page, "21")["focused"] == "true"


def test_the_kernels_batch_replaces_a_prefetched_one_it_did_not_adopt(page: Any) -> None:
    for key in "123":
        page.keyboard.press(key)
    page.keyboard.press("2")  # card 20 of the optimistic batch
    assert page.get_attribute(".alw-batch", "data-batch") == "2"
    # a retrain had replaced the prefetch: the kernel moves on to batch 7 instead
    page.evaluate(
        "model.update({batch_id: 7, cards: [card('70', 0), card('71', 1)],"
        " next_batch_id: 8, next_cards: [card('80', 0)], answers: {}})"
    )
    assert page.get_attribute(".alw-batch", "data-batch") == "7"
    keys = page.eval_on_selector_all(".alw-card", "ns => ns.map(n => n.dataset.key)")
    assert keys == ["70", "71"]
    assert card(page, "70")["focused"] == "true"
    # the answer given on the replaced batch was sent and stays sent
    assert [(m["key"], m["batch"]) for m in sent(page)][-1] == ("20", 2)


def test_a_refused_last_answer_brings_the_finished_batch_back(page: Any) -> None:
    for key in "123":
        page.keyboard.press(key)
    assert page.get_attribute(".alw-batch", "data-batch") == "2"
    last = sent(page)[-1]
    page.evaluate(
        "seq => model.emit({type: 'nack', seq, key: '12', error: 'disk full'})", last["seq"]
    )
    assert page.get_attribute(".alw-batch", "data-batch") == "1"
    c = card(page, "12")
    assert (c["status"], c["focused"]) == ("pending", "true")
    assert "disk full" in page.inner_text(".alw-notice")


def test_clicks_label_and_keep_keyboard_focus(page: Any) -> None:
    page.click('.alw-card[data-key="12"] .alw-btn[data-label="emu"]')
    msg = sent(page)[-1]
    assert (msg["key"], msg["class_index"]) == ("12", 2)
    assert page.evaluate("document.activeElement.classList.contains('alw-batch')")
    page.keyboard.press("1")  # keys still work after a click, no hover needed
    assert sent(page)[-1]["type"] == "action"


def test_undo_from_an_earlier_batch_refocuses_the_reopened_card(page: Any) -> None:
    page.evaluate(
        "model.update({cards: [card('12', null), card('10', 0), card('11', 1)]});"
        " model.emit({type: 'undone', seq: 99, key: '12'});"
    )
    assert card(page, "12")["focused"] == "true"
    assert card(page, "12")["status"] == "pending"


def test_status_line_ticks_without_the_kernel(page: Any) -> None:
    page.evaluate(
        "model.update({status: {state: 'ready', text: 'model v7, 120 labels', age: 2,"
        " detail: 'accuracy (CV) 0.910'}})"
    )
    assert page.get_attribute(".alw-status", "data-state") == "ready"
    assert page.inner_text(".alw-status-text") == "model v7, 120 labels, trained 2 s ago"
    page.wait_for_function(
        "document.querySelector('.alw-status-text').textContent.includes('3 s ago')",
        timeout=3000,
    )


def test_exhausted_pool_shows_one_note(page: Any) -> None:
    page.evaluate("model.update({batch_id: 5, cards: [], next_batch_id: 6, next_cards: []})")
    page.evaluate("model.update({cards: []})")
    assert page.eval_on_selector_all(".alw-empty-note", "ns => ns.map(n => n.textContent)") == [
        "nothing left"
    ]
    page.keyboard.press("1")  # no card: nothing is sent, nothing breaks
    assert [m for m in sent(page) if m["type"] == "action"] == []


def test_a_retrain_updates_suggestions_on_the_cards_in_place(page: Any) -> None:
    node = page.query_selector('.alw-card[data-key="12"]')
    assert node.inner_text().count("no model yet") == 1
    page.keyboard.press("ArrowRight")
    page.keyboard.press("ArrowRight")  # focus card 12
    page.evaluate(
        "model.update({cards: [card('10', 0), card('11', 1),"
        " {...card('12', 2), confidence: 0.55}]})"
    )
    same = page.query_selector('.alw-card[data-key="12"]')
    assert same.evaluate("(n, old) => n === old", node)  # updated, not rebuilt
    assert "model: emu 55%" in same.inner_text()
    # ... and the utility under the new model, not the score it was picked with
    page.evaluate(
        "model.update({cards: [card('10', 0), card('11', 1),"
        " {...card('12', 2), confidence: 0.55, why: 'margin 0.412 · #3',"
        " why_long: 'model v2 gives it margin utility 0.412'}]})"
    )
    why = same.query_selector(".alw-why")
    assert why.inner_text() == "margin 0.412 · #3"
    assert why.get_attribute("title") == "model v2 gives it margin utility 0.412"
    assert same.query_selector(".alw-btn.alw-suggested").get_attribute("data-label") == "emu"
    assert card(page, "12")["focused"] == "true"
    page.keyboard.press("Enter")
    assert sent(page)[-1]["class_index"] == 2


def test_r_asks_the_kernel_for_a_review_in_seq_order(page: Any) -> None:
    page.keyboard.press("1")
    page.keyboard.press("r")
    label, review = sent(page)[-2:]
    assert review == {"type": "review", "seq": label["seq"] + 1, "session": label["session"]}
    assert card(page, "11")["status"] == "pending"  # nothing marked: the kernel swaps the cards


def test_an_unsaved_answer_keeps_its_mark_as_not_saved_until_its_late_ack(page: Any) -> None:
    page.keyboard.press("2")  # card 10
    seq = sent(page)[-1]["seq"]
    assert not page.is_visible('.alw-card[data-key="10"] .alw-unsaved')
    page.evaluate(
        "seq => model.emit({type: 'unsaved', seq, key: '10',"
        " error: 'not saved yet (store unreachable: down)'})",
        seq,
    )
    c = card(page, "10")
    assert (c["status"], c["answer"], c["saved"], c["unsaved"]) == (
        "labeled",
        "dog",
        "false",
        "true",
    )
    assert page.is_visible('.alw-card[data-key="10"] .alw-unsaved')
    assert page.inner_text('.alw-card[data-key="10"] .alw-unsaved') == "not saved"
    assert not page.is_visible('.alw-card[data-key="10"] .alw-saved')
    assert "store unreachable" in page.inner_text(".alw-notice")
    page.evaluate("model.update({status: {state: 'error', text: '', detail: 'x'}})")
    assert card(page, "10")["unsaved"] == "true"  # a state push does not drop the mark
    # the kernel's retry saved it: the same card turns into "✓ saved"
    page.evaluate(
        "seq => { model.emit({type: 'ack', seq, key: '10'});"
        " model.update({answers: {'10': {action: 'label', class_index: 1}}}); }",
        seq,
    )
    c = card(page, "10")
    assert (c["status"], c["saved"], c["unsaved"]) == ("labeled", "true", "false")
    assert page.is_visible('.alw-card[data-key="10"] .alw-saved')
    assert not page.is_visible('.alw-card[data-key="10"] .alw-unsaved')


def test_a_zero_shot_guess_says_so_and_enter_accepts_it(page: Any) -> None:
    """With class descriptions the card's guess is zero-shot (similarity, not a
    probability) until the model's take over; Enter accepts it like a model's."""
    page.evaluate(
        "model.update({cards: [{...card('10', 1), suggested_by: 'zero-shot', confidence: 0.4123},"
        " card('11', 1), card('12', null)]})"
    )
    suggest = page.query_selector('.alw-card[data-key="10"] .alw-suggest')
    assert suggest.inner_text() == "zero-shot: dog similarity 0.41"
    assert suggest.get_attribute("data-by") == "zero-shot"
    assert "description" in suggest.get_attribute("title")
    page.evaluate(  # the hand-over: the same card now shows the model's guess, in place
        "model.update({cards: [{...card('10', 2), suggested_by: 'model', confidence: 0.9},"
        " card('11', 1), card('12', null)]})"
    )
    assert suggest.inner_text() == "model: emu 90%"
    assert suggest.get_attribute("data-by") == "model"
    page.evaluate(
        "model.update({cards: [{...card('10', 1), suggested_by: 'zero-shot', confidence: 0.4},"
        " card('11', 1), card('12', null)]})"
    )
    page.keyboard.press("Enter")  # card 10 is focused: accept the zero-shot guess
    msg = sent(page)[-1]
    assert (msg["action"], msg["key"], msg["class_index"]) == ("label", "10", 1)
    assert card(page, "10")["answer"] == "dog"


def test_prefetched_cards_that_follow_their_batch_id_are_run_to(page: Any) -> None:
    """After a batch end the kernel sends the following batch's id first and its cards
    a moment later (made off the key path): the view runs ahead to them all the same."""
    page.evaluate(
        "model.update({batch_id: 2, cards: [card('20', 2), card('21', 0)],"
        " next_batch_id: 3, next_cards: [], answers: {}})"
    )
    tick = "new Promise((r) => setTimeout(r, 20))"  # the prebuild runs on a timer
    page.evaluate(tick)
    page.evaluate("model.update({next_cards: [card('30', 0), card('31', 1)]})")
    page.evaluate(tick)
    page.keyboard.press("1")
    page.keyboard.press("2")  # batch 2 answered here: on to batch 3 at once
    assert page.get_attribute(".alw-batch", "data-batch") == "3"
    keys = page.eval_on_selector_all(".alw-card", "ns => ns.map(n => n.dataset.key)")
    assert keys == ["30", "31"]
    assert [(m["key"], m["batch"]) for m in sent(page)][-2:] == [("20", 2), ("21", 2)]


def test_without_prefetched_cards_the_view_waits_for_the_kernel(page: Any) -> None:
    page.evaluate(
        "model.update({batch_id: 2, cards: [card('20', 2)], next_batch_id: 3,"
        " next_cards: [], answers: {}})"
    )
    page.keyboard.press("1")
    assert page.get_attribute(".alw-batch", "data-batch") == "2"  # nothing to run to
    assert page.get_attribute(".alw-batch", "data-waiting") == "true"

// The batch front end's pure protocol/state module, under Node's built-in test runner:
//   node --test tests/js/
// (run from pytest by tests/app/test_batch_state_js.py, so `make test` runs it).
//
// The module is imported from its text, as the browser does (the view imports the
// synced `_state_esm` text from a blob URL); this also works on any Node >= 18, whatever
// Node thinks of ES module syntax in a `.js` file outside a "type": "module" package.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";

const source = readFileSync(new URL("../../alwidgets/widgets/_batch_state.js", import.meta.url), "utf8");
const { BatchState, formatAge, newSession, sameCards } = await import(
  `data:text/javascript;base64,${Buffer.from(source).toString("base64")}`
);

const card = (key, suggestion = null) => ({ key, item_id: Number(key), suggestion });

// The kernel's synced state: batch 1 on screen, batch 2 prefetched.
function kernel(over = {}) {
  return {
    batch_id: 1,
    cards: [card("10", 0), card("11", 1)],
    next_batch_id: 2,
    next_cards: [card("20"), card("21")],
    answers: {},
    ...over,
  };
}

function started(over = {}) {
  const s = new BatchState("view-a");
  s.reconcile(kernel(over));
  return s;
}

const label = (classIndex) => ({ action: "label", class_index: classIndex });

describe("messages", () => {
  test("an answer is numbered, names the shown batch and the view session", () => {
    const s = started();
    const msg = s.act("10", "label", 1, 2.5);
    assert.deepEqual(msg, {
      type: "action",
      seq: 1,
      action: "label",
      key: "10",
      class_index: 1,
      batch: 1,
      seconds: 2.5,
      session: "view-a",
    });
    assert.equal(s.act("11", "skip").seq, 2);
  });

  test("undo names the last answer of this view, and the one before it next", () => {
    const s = started();
    s.act("10", "label", 0);
    s.act("11", "unsure");
    const first = s.undo();
    assert.equal(first.key, "11");
    assert.deepEqual(first.message, {
      type: "undo",
      seq: 3,
      key: "11",
      target_seq: 2,
      session: "view-a",
    });
    assert.equal(s.undo().message.target_seq, 1);
    const none = s.undo(); // nothing of this view left: the kernel decides what to undo
    assert.equal(none.key, null);
    assert.deepEqual(none.message, { type: "undo", seq: 5, session: "view-a" });
  });

  test("two sessions are different nonces", () => {
    assert.notEqual(newSession(), newSession());
    assert.equal(newSession(36, () => 0.5), "10-i");
  });
});

describe("optimistic marks", () => {
  test("an answer shows at once, unsaved, until the kernel's answer replaces it", () => {
    const s = started();
    const msg = s.act("10", "label", 1);
    assert.deepEqual(s.answerOf("10"), { ...label(1), saved: false });
    assert.equal(s.answerOf("11"), null);
    const saved = { 10: label(1) };
    assert.equal(s.reply({ type: "ack", seq: msg.seq, key: "10" }).key, "10");
    assert.deepEqual(s.answerOf("10", saved), { ...label(1), saved: true });
    assert.equal(s.pending.size, 0);
  });

  test("an ack that overtakes the state update keeps the card answered", () => {
    // ipywidgets applies state updates asynchronously, custom messages at once
    const s = started();
    s.act("10", "label", 1);
    s.reply({ type: "ack", seq: 1, key: "10" });
    assert.deepEqual(s.answerOf("10", {}), { ...label(1), saved: true });
    s.reconcile(kernel()); // a stale state (before the answer): still answered
    assert.deepEqual(s.answerOf("10", {}), { ...label(1), saved: true });
    s.reconcile(kernel({ answers: { 10: label(1) } })); // caught up: the kernel's from now on
    assert.equal(s.acked.size, 0);
    s.reconcile(kernel()); // e.g. an undo from Python: the card is open again
    assert.equal(s.answerOf("10", {}), null);
  });

  test("an undone that overtakes the state update keeps the card open", () => {
    const s = started();
    const saved = { 10: label(1) };
    s.act("10", "label", 1);
    s.reply({ type: "ack", seq: 1 });
    s.reconcile(kernel({ answers: saved }));
    const { message } = s.undo();
    s.reply({ type: "undone", seq: message.seq, key: "10" });
    assert.equal(s.answerOf("10", saved), null);
    s.reconcile(kernel({ answers: saved }));
    assert.equal(s.answerOf("10", saved), null);
    s.reconcile(kernel());
    assert.equal(s.acked.size, 0);
  });

  test("the last key finishes the batch even when earlier acks overtook their state", () => {
    const s = started();
    s.act("10", "label", 0);
    s.reply({ type: "ack", seq: 1 });
    s.act("11", "label", 1);
    assert.equal(s.reconcile(kernel()).id, 2);
  });

  test("confirmed answers of cards gone from the kernel and the screen are dropped", () => {
    const s = started();
    s.act("10", "label", 0);
    s.reply({ type: "ack", seq: 1 });
    s.reconcile(kernel({ batch_id: 4, cards: [card("40")], next_cards: [] }));
    assert.equal(s.acked.size, 0);
  });

  test("a refused answer un-marks the card and leaves the undo history", () => {
    const s = started();
    const first = s.act("10", "label", 0);
    const second = s.act("11", "label", 1);
    s.reply({ type: "nack", seq: second.seq, key: "11", error: "disk full" });
    assert.equal(s.answerOf("11"), null);
    assert.equal(s.undo().message.target_seq, first.seq); // not the refused one
  });

  test("a pending undo hides the saved answer; a refused undo shows it again", () => {
    const s = started();
    const saved = { 10: label(0) };
    s.act("10", "label", 0);
    s.reply({ type: "ack", seq: 1 });
    const { message } = s.undo();
    assert.equal(s.answerOf("10", saved), null);
    s.reply({ type: "nack", seq: message.seq, key: "10", error: "not undone: stale" });
    assert.deepEqual(s.answerOf("10", saved), { ...label(0), saved: true });
  });

  test("later actions on a card win over earlier ones, whatever order they settle in", () => {
    const s = started();
    s.act("10", "label", 0);
    s.act("10", "skip");
    assert.equal(s.answerOf("10").action, "skip");
    s.reply({ type: "ack", seq: 2 });
    assert.deepEqual(s.answerOf("10"), { ...label(0), saved: false });
  });

  test("replies the view did not ask for change nothing", () => {
    const s = started();
    s.act("10", "label", 0);
    s.reply({ type: "notice", seq: 1, text: "hi" }); // not a reply to the action
    assert.equal(s.pending.size, 1);
    assert.equal(s.reply(null), undefined);
    assert.equal(s.pending.size, 1);
    assert.equal(s.reply({ type: "undone", seq: 9, key: "12" }), undefined);
  });

  test("the first open card wraps around after the given position", () => {
    const s = started({ cards: [card("10"), card("11"), card("12")] });
    s.act("11", "skip");
    assert.equal(s.firstOpen({}, 0), "12");
    assert.equal(s.firstOpen({ 12: label(0) }, 1), "10");
    assert.equal(s.firstOpen({ 10: label(0), 12: label(0) }), null);
  });
});

describe("the end of a batch: the kernel decides, the view may run ahead", () => {
  test("the view shows the kernel's batch", () => {
    const s = new BatchState("v");
    assert.deepEqual(s.reconcile(kernel()), { id: 1, cards: kernel().cards });
    assert.equal(s.left, null);
  });

  test("a finished batch shows the prefetched one at once, without a message", () => {
    const s = started();
    s.act("10", "label", 0);
    assert.equal(s.reconcile(kernel()).id, 1); // one card still open
    const msg = s.act("11", "label", 1);
    assert.equal(msg.batch, 1);
    const shown = s.reconcile(kernel());
    assert.deepEqual(shown, { id: 2, cards: kernel().next_cards });
    assert.equal(s.left, 1);
    assert.equal(s.act("20", "skip").batch, 2); // answers now name the prefetched batch
  });

  test("it stays ahead while the kernel catches up, then follows the kernel", () => {
    const s = started();
    s.act("10", "label", 0);
    s.act("11", "label", 1);
    s.reconcile(kernel());
    // the kernel saved both answers but has not advanced yet: still ahead
    const saved = { 10: label(0), 11: label(1) };
    assert.equal(s.reconcile(kernel({ answers: saved })).id, 2);
    // a retrain updated the suggestions of the batch left behind: still ahead
    assert.equal(s.reconcile(kernel({ cards: [card("10", 3), card("11", 3)], answers: saved })).id, 2);
    // the kernel advanced to the same batch: in step again
    const advanced = kernel({ batch_id: 2, cards: kernel().next_cards, next_batch_id: 3, next_cards: [card("30")] });
    assert.deepEqual(s.reconcile(advanced), { id: 2, cards: kernel().next_cards });
    assert.equal(s.left, null);
  });

  test("a kernel batch that differs from the prefetched one replaces it", () => {
    const s = started();
    s.act("10", "label", 0);
    s.act("11", "label", 1);
    s.reconcile(kernel());
    s.act("20", "label", 0); // answered on the optimistic batch: stays sent
    const replaced = [card("40"), card("41")];
    const shown = s.reconcile(
      kernel({ batch_id: 4, cards: replaced, next_batch_id: 5, next_cards: [card("50")] }),
    );
    assert.deepEqual(shown, { id: 4, cards: replaced });
    assert.equal(s.left, null);
    assert.equal(s.pending.size, 3); // nothing sent is dropped by the swap
  });

  test("a refused answer on the batch left behind brings it back", () => {
    const s = started();
    s.act("10", "label", 0);
    const last = s.act("11", "label", 1);
    s.reconcile(kernel());
    s.reply({ type: "nack", seq: last.seq, key: "11", error: "disk full" });
    const shown = s.reconcile(kernel({ answers: { 10: label(0) } }));
    assert.equal(shown.id, 1);
    assert.equal(s.firstOpen({ 10: label(0) }), "11");
  });

  test("an undo into the batch left behind brings it back", () => {
    const s = started();
    s.act("10", "label", 0);
    s.act("11", "label", 1);
    s.reconcile(kernel());
    assert.equal(s.undo().key, "11");
    assert.equal(s.reconcile(kernel()).id, 1);
  });

  test("without a prefetched batch a finished batch stays until the kernel sends one", () => {
    const s = started({ next_cards: [], next_batch_id: 2 });
    s.act("10", "label", 0);
    s.act("11", "label", 1);
    const k = kernel({ next_cards: [] });
    assert.equal(s.reconcile(k).id, 1);
    assert.ok(s.isComplete(s.shown.cards, k.answers));
  });

  test("an empty batch is never finished (the pool ran out)", () => {
    const s = started({ batch_id: 5, cards: [], next_batch_id: 6, next_cards: [] });
    assert.equal(s.isComplete([], {}), false);
    assert.deepEqual(s.shown, { id: 5, cards: [] });
  });

  test("answers the kernel already holds finish a batch too (another view, Python)", () => {
    const s = started();
    const shown = s.reconcile(kernel({ answers: { 10: label(0), 11: { action: "skip" } } }));
    assert.equal(shown.id, 2);
  });

  test("running ahead is one batch at most: the next step waits for the kernel", () => {
    const s = started();
    s.act("10", "label", 0);
    s.act("11", "label", 1);
    s.reconcile(kernel());
    s.act("20", "label", 0);
    s.act("21", "label", 0);
    assert.equal(s.reconcile(kernel()).id, 2);
    const caught = kernel({
      batch_id: 2,
      cards: kernel().next_cards,
      next_batch_id: 3,
      next_cards: [card("30")],
    });
    assert.equal(s.reconcile(caught).id, 3); // the kernel is on 2 now: on to its prefetch
    assert.equal(s.left, 2);
  });

  test("reset forgets the shown batch", () => {
    const s = started();
    s.reset();
    assert.deepEqual(s.shown, { id: -1, cards: [] });
    assert.equal(s.left, null);
  });
});

describe("helpers", () => {
  test("sameCards compares ids and card keys in order", () => {
    const a = { id: 1, cards: [card("1"), card("2")] };
    assert.ok(sameCards(a, { id: 1, cards: [card("1", 3), card("2")] }));
    assert.ok(!sameCards(a, { id: 2, cards: a.cards }));
    assert.ok(!sameCards(a, { id: 1, cards: [card("2"), card("1")] }));
    assert.ok(!sameCards(a, { id: 1, cards: [card("1")] }));
  });

  test("formatAge reads like a person would say it", () => {
    assert.equal(formatAge(1), "just now");
    assert.equal(formatAge(12.4), "12 s ago");
    assert.equal(formatAge(600), "10 min ago");
    assert.equal(formatAge(7200), "2 h ago");
  });
});

describe("review", () => {
  test("asks the kernel in seq order, with no reply awaited", () => {
    const state = new BatchState("s1");
    state.act("10", "label", 0, 1.0);
    const message = state.review();
    assert.deepEqual(message, { type: "review", seq: 2, session: state.session });
    assert.equal(state.pending.has(2), false);
    assert.deepEqual(state.review(5), { type: "review", seq: 3, n: 5, session: state.session });
  });
});

describe("answers the store could not take (unsaved)", () => {
  test("an unsaved reply keeps the mark, tagged not saved, until the later ack", () => {
    const s = started();
    const msg = s.act("10", "label", 1);
    assert.equal(s.reply({ type: "unsaved", seq: msg.seq, key: "10", error: "down" }).key, "10");
    assert.deepEqual(s.answerOf("10"), { ...label(1), saved: false, unsaved: true });
    assert.equal(s.history.length, 1); // still this view's last answer
    s.reconcile(kernel()); // state pushes meanwhile do not show it: it stays marked
    assert.deepEqual(s.answerOf("10"), { ...label(1), saved: false, unsaved: true });
    s.reply({ type: "ack", seq: msg.seq, key: "10" }); // saved by the kernel's retry
    assert.deepEqual(s.answerOf("10"), { ...label(1), saved: true });
    assert.equal(s.pending.size, 0);
  });

  test("unsaved answers count: a batch answered while the store is down is left", () => {
    const s = started();
    for (const key of ["10", "11"]) {
      const m = s.act(key, "label", 0);
      s.reply({ type: "unsaved", seq: m.seq, key, error: "down" });
    }
    assert.equal(s.reconcile(kernel()).id, 2); // ran ahead to the prefetched batch
    s.reply({ type: "ack", seq: 1, key: "10" });
    s.reply({ type: "ack", seq: 2, key: "11" });
    const done = { 10: label(0), 11: label(0) };
    assert.equal(s.reconcile(kernel({ answers: done })).id, 2); // the kernel caught up
  });

  test("a plain nack still un-marks the card; an unsaved reply to an undo is ignored", () => {
    const s = started();
    const a = s.act("10", "label", 1);
    s.reply({ type: "nack", seq: a.seq, key: "10", error: "UnknownLabelError" });
    assert.equal(s.answerOf("10"), null);
    const b = s.act("11", "skip");
    s.reply({ type: "unsaved", seq: b.seq, key: "11", error: "down" });
    const { message } = s.undo();
    s.reply({ type: "unsaved", seq: message.seq, key: "11" });
    assert.equal(s.answerOf("11"), null); // the undo is still pending
    s.reply({ type: "nack", seq: message.seq, key: "11", error: "not undone: 1 answer(s) are not saved" });
    assert.deepEqual(s.answerOf("11"), { action: "skip", class_index: null, saved: false, unsaved: true });
  });
});

describe("answers kept as conflicts (a colleague labeled the item first)", () => {
  test("a conflict reply settles the answer as a conflict, with the kernel's note", () => {
    const s = started();
    const msg = s.act("10", "label", 1);
    const note = "bo labeled this meanwhile — kept as a conflict, not a label";
    assert.equal(s.reply({ type: "conflict", seq: msg.seq, key: "10", text: note }).key, "10");
    assert.equal(s.pending.size, 0);
    assert.deepEqual(s.answerOf("10"), { action: "conflict", class_index: null, note, saved: true });
    // the kernel's state agrees later: the confirmed answer is dropped, the state shows it
    const answers = { 10: { action: "conflict", class_index: null, note } };
    s.reconcile(kernel({ answers }));
    assert.equal(s.acked.size, 0);
    assert.equal(s.answerOf("10", answers).action, "conflict");
  });

  test("a conflict counts as answered, and Backspace undoes it like any answer", () => {
    const s = started();
    const first = s.act("10", "skip");
    s.reply({ type: "ack", seq: first.seq, key: "10" });
    const second = s.act("11", "label", 0);
    s.reply({ type: "conflict", seq: second.seq, key: "11", text: "bo was first" });
    assert.ok(s.isComplete(kernel().cards));
    const undo = s.undo(); // the store keeps the conflict as an action: it is the last one
    assert.equal(undo.key, "11");
    assert.equal(undo.message.target_seq, second.seq);
    assert.equal(s.undo().key, "10");
  });
});


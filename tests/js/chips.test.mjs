// Multi-label chips: the draft a person toggles before committing (`_chips.js`), and
// the multi-label answers of the state module (`class_indices` in messages, pending
// marks, acks and the kernel's answers). Run by tests/app/test_batch_state_js.py.
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { describe, test } from "node:test";

const load = async (name) => {
  const source = readFileSync(new URL(`../../alwidgets/widgets/${name}`, import.meta.url), "utf8");
  return import(`data:text/javascript;base64,${Buffer.from(source).toString("base64")}`);
};
const { ChipDraft, asSet, chipsOf, sameSet } = await load("_chips.js");
const { BatchState } = await load("_batch_state.js");

const labeled = (set) => ({ action: "label", class_index: null, class_indices: set });

describe("chips before a commit", () => {
  test("the model's predicted set starts pressed; an answered card shows its saved set", () => {
    assert.deepEqual(chipsOf(null, [2, 0]), [0, 2]);
    assert.deepEqual(chipsOf(null, null), []); // no model: nothing pressed
    assert.deepEqual(chipsOf(labeled([1]), [0, 2]), [1]);
    assert.deepEqual(chipsOf({ action: "skip", class_index: null }, [0]), [0]);
  });

  test("a key toggles a chip of that card only, and sends nothing", () => {
    const d = new ChipDraft();
    assert.deepEqual(d.toggle("10", 1, null, [0]), [0, 1]);
    assert.deepEqual(d.toggle("10", 0, null, [0]), [1]);
    assert.equal(d.edited("10"), true);
    assert.equal(d.edited("11"), false);
    assert.deepEqual(d.pressed("11", null, [2]), [2]);
  });

  test("Enter on an untouched card commits the predicted set; on an edited one the edit", () => {
    const d = new ChipDraft();
    assert.deepEqual(d.commit("10", null, [0, 2]), [0, 2]);
    d.toggle("11", 3, null, [0]);
    assert.deepEqual(d.commit("11", null, [0]), [0, 3]);
    assert.equal(d.edited("11"), false); // the draft is gone: the answer takes over
    assert.deepEqual(d.commit("12", null, null), []); // no model, nothing toggled: none of these
  });

  test("Enter on a saved, unedited card commits nothing; toggling back to it forgets the draft", () => {
    const d = new ChipDraft();
    assert.equal(d.commit("10", labeled([1]), [0]), null);
    d.toggle("10", 2, labeled([1]), [0]);
    assert.deepEqual(d.pressed("10", labeled([1]), [0]), [1, 2]);
    d.toggle("10", 2, labeled([1]), [0]);
    assert.equal(d.edited("10"), false);
    d.toggle("10", 1, labeled([1]), [0]);
    assert.deepEqual(d.commit("10", labeled([1]), [0]), []); // un-ticked: now none of these
  });

  test("drafts of cards that left the screen are forgotten", () => {
    const d = new ChipDraft();
    d.toggle("10", 1, null, null);
    d.toggle("11", 1, null, null);
    d.keep(["11", "12"]);
    assert.equal(d.edited("10"), false);
    assert.equal(d.edited("11"), true);
  });

  test("sets compare without order or repeats", () => {
    assert.deepEqual(asSet([3, 1, 3]), [1, 3]);
    assert.equal(sameSet([2, 1], [1, 2]), true);
    assert.equal(sameSet([1], [1, 2]), false);
  });
});

describe("multi-label answers in the state module", () => {
  const kernel = (answers = {}) => ({
    batch_id: 1,
    cards: [{ key: "10" }, { key: "11" }],
    next_batch_id: 2,
    next_cards: [{ key: "20" }],
    answers,
  });

  test("a label message carries class_indices (sorted, once each) and no class_index", () => {
    const s = new BatchState("view-m");
    s.reconcile(kernel());
    const msg = s.act("10", "label", null, 1.5, [2, 0, 2]);
    assert.deepEqual(msg.class_indices, [0, 2]);
    assert.equal("class_index" in msg, false);
    assert.equal(msg.action, "label");
    assert.deepEqual(s.answerOf("10"), { ...labeled([0, 2]), saved: false });
  });

  test("the empty set is an answer (none of these) and marks the card answered", () => {
    const s = new BatchState("view-m");
    s.reconcile(kernel());
    const msg = s.act("10", "label", null, null, []);
    assert.deepEqual(msg.class_indices, []);
    assert.ok(s.answerOf("10"));
  });

  test("an ack keeps the set until the kernel's answers show the same set", () => {
    const s = new BatchState("view-m");
    s.reconcile(kernel());
    const msg = s.act("10", "label", null, null, [1]);
    s.reply({ type: "ack", seq: msg.seq, key: "10" });
    assert.deepEqual(s.answerOf("10"), { ...labeled([1]), saved: true });
    s.reconcile(kernel({ "10": labeled([0, 1]) })); // an older set: not what was confirmed
    assert.deepEqual(s.answerOf("10", { "10": labeled([0, 1]) }).class_indices, [1]);
    s.reconcile(kernel({ "10": labeled([1]) }));
    assert.equal(s.acked.has("10"), false);
  });

  test("a nack un-marks the card; undo names it like a single-label answer", () => {
    const s = new BatchState("view-m");
    s.reconcile(kernel());
    const msg = s.act("11", "label", null, null, [0]);
    const { message } = s.undo();
    assert.equal(message.key, "11");
    assert.equal(message.target_seq, msg.seq);
    const again = s.act("11", "label", null, null, [1]);
    s.reply({ type: "nack", seq: again.seq, key: "11", error: "no" });
    assert.equal(s.answerOf("11"), null);
  });

  test("single-label messages are unchanged (class_index, no class_indices)", () => {
    const s = new BatchState("view-s");
    s.reconcile(kernel());
    const msg = s.act("10", "label", 2, 0.5);
    assert.equal(msg.class_index, 2);
    assert.equal("class_indices" in msg, false);
  });
});

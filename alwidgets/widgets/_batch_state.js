// alwidgets BatchWidget front end, part 1 of 2: the protocol and local state. No DOM.
//
// The kernel owns the truth (store, ranking, undo, and when a batch ends); this module
// keeps what a view knows before the kernel replies: the sequence numbers of its
// messages, the actions not yet acknowledged (optimistic marks), the history Backspace
// undoes, and which batch to show. The view (`_batch.js`) draws what it returns.
//
// The same text is a plain ES module for Node's test runner (`node --test tests/js/`)
// and for the browser, where the view imports it from a blob URL (anywidget sends
// each file's text, so a relative import between the two would not resolve there).
//
// `kernel` below is the synced state: {batch_id, cards, next_batch_id, next_cards,
// answers}, `answers` being the durable answers of the kernel's current batch. A
// multi-label answer carries `class_indices` (the set, sorted) where a single-label
// one carries `class_index`.

export const STATUS_WORD = { label: "labeled", skip: "skipped", unsure: "unsure", conflict: "conflict" };

export function formatAge(seconds) {
  if (seconds < 1.5) return "just now";
  if (seconds < 90) return `${Math.round(seconds)} s ago`;
  if (seconds < 5400) return `${Math.round(seconds / 60)} min ago`;
  return `${Math.round(seconds / 3600)} h ago`;
}

// A nonce naming this view's message sequence (a new view or a reloaded page starts
// again at seq 1; the kernel orders each session's messages on its own).
export function newSession(now = Date.now(), random = Math.random) {
  return `${now.toString(36)}-${random().toString(36).slice(2, 10)}`;
}

// Two batches with the same id and the same cards in the same order.
export function sameCards(a, b) {
  return (
    a.id === b.id && a.cards.length === b.cards.length && a.cards.every((c, i) => c.key === b.cards[i].key)
  );
}

// What an answer says: its action and class (or, multi-label, its set of classes).
function answerFields(op) {
  const out = { action: op.action, class_index: op.class_index };
  if (Array.isArray(op.class_indices)) out.class_indices = op.class_indices;
  return out;
}

// Two answers' class sets are equal (both absent counts as equal).
function sameIndices(a, b) {
  if (!Array.isArray(a) || !Array.isArray(b)) return !Array.isArray(a) && !Array.isArray(b);
  return a.length === b.length && a.every((v, i) => v === b[i]);
}

export class BatchState {
  constructor(session = newSession()) {
    this.session = session;
    this.seq = 0;
    // seq -> {op: "answer"|"undo", key, action, class_index, unsaved?}; an answer the
    // kernel kept unsaved (store unreachable) stays here, flagged, until its late ack
    this.pending = new Map();
    this.history = []; // {key, seq} answered from this view, newest last (undo names it)
    // Replies may overtake the state they follow: ipywidgets applies a state update
    // asynchronously but hands a custom message ("ack") over at once. So what the kernel
    // confirmed is kept (key -> answer, null when undone) until its `answers` agree.
    this.acked = new Map();
    this.shown = { id: -1, cards: [] }; // the batch on screen
    // Id of the kernel batch this view finished and left for the prefetched one,
    // while the kernel has not caught up; null when the view shows the kernel's batch.
    this.left = null;
  }

  // Effective answer of a card: the kernel's answer (or what it confirmed and its state
  // does not show yet), overlaid by actions not yet acknowledged.
  answerOf(key, answers = {}) {
    const saved = this.acked.has(key) ? this.acked.get(key) : answers[key] || null;
    let ans = saved ? { ...saved, saved: true } : null;
    const ops = [...this.pending.entries()].sort((a, b) => a[0] - b[0]);
    for (const [, op] of ops) {
      if (op.key !== key) continue;
      ans = op.op === "undo" ? null : { ...answerFields(op), saved: false };
      if (ans && op.unsaved) ans.unsaved = true; // kept by the kernel, not saved yet
    }
    return ans;
  }

  // Every card answered (an empty batch is never complete: there is nothing to finish).
  isComplete(cards, answers = {}) {
    return cards.length > 0 && cards.every((c) => this.answerOf(c.key, answers));
  }

  // Key of the first unanswered shown card after position `after` (wrapping), or null.
  firstOpen(answers = {}, after = -1) {
    const cards = this.shown.cards;
    for (let step = 1; step <= cards.length; step++) {
      const c = cards[(after + step) % cards.length];
      if (!this.answerOf(c.key, answers)) return c.key;
    }
    return null;
  }

  // Record an answer on a shown card; returns the message for the kernel. A multi-label
  // label gives `classIndices` (the set of classes) and no `classIndex`.
  act(key, action, classIndex = null, seconds = null, classIndices = null) {
    this.seq += 1;
    const seq = this.seq;
    const set = Array.isArray(classIndices) ? [...new Set(classIndices)].sort((a, b) => a - b) : null;
    const chosen = set ? { class_index: null, class_indices: set } : { class_index: classIndex };
    this.pending.set(seq, { op: "answer", key, action, ...chosen });
    this.history.push({ key, seq });
    const which = set ? { class_indices: set } : { class_index: classIndex };
    return { type: "action", seq, action, key, ...which, batch: this.shown.id, seconds, session: this.session };
  }

  // Undo this view's last answer (the kernel refuses if it is no longer the last
  // action); returns {message, key}, key null when this view has nothing to undo.
  undo() {
    this.seq += 1;
    const seq = this.seq;
    const last = this.history.length ? this.history.pop() : null;
    const key = last ? last.key : null;
    this.pending.set(seq, { op: "undo", key });
    const message = last
      ? { type: "undo", seq, key, target_seq: last.seq, session: this.session }
      : { type: "undo", seq, session: this.session };
    return { message, key };
  }

  // Ask the kernel to show the labels it most suspects of being wrong as cards (key r or
  // the app's button). No reply is awaited: the kernel swaps the cards it syncs.
  review(n = null) {
    this.seq += 1;
    const message = { type: "review", seq: this.seq, session: this.session };
    if (n !== null) message.n = n;
    return message;
  }

  // A kernel reply. ack/nack/undone settle the optimistic guess of their seq (returned,
  // so the view knows what it had assumed); a refused answer leaves the undo history.
  // `unsaved` (the store is unreachable; the kernel keeps the answer and saves it when
  // the store is back) settles nothing: the answer stays marked, as not saved, until
  // the `ack` that follows. `conflict` (another annotator labeled the item first: the
  // store kept this answer as a conflict event, not a label) settles it as answered,
  // with the kernel's note; it stays in the undo history (the store can undo it).
  reply(msg) {
    if (!msg || typeof msg !== "object") return undefined;
    const guessed = this.pending.get(msg.seq);
    if (msg.type === "unsaved" && guessed && guessed.op === "answer") guessed.unsaved = true;
    if (msg.type === "ack" || msg.type === "nack" || msg.type === "undone" || msg.type === "conflict") {
      this.pending.delete(msg.seq);
    }
    if (guessed && msg.type === "conflict" && guessed.op === "answer") {
      this.acked.set(guessed.key, { action: "conflict", class_index: null, note: msg.text || "" });
    }
    if (guessed && msg.type === "ack" && guessed.op === "answer") {
      this.acked.set(guessed.key, answerFields(guessed));
    }
    if (guessed && msg.type === "undone" && guessed.op === "undo" && guessed.key !== null) {
      this.acked.set(guessed.key, null);
    }
    if (msg.type === "nack") {
      const i = this.history.findIndex((h) => h.seq === msg.seq);
      if (i >= 0) this.history.splice(i, 1);
    }
    return guessed;
  }

  // Which batch to show, given the kernel's state; sets and returns `this.shown`.
  //
  // The kernel decides when a batch ends. The view only runs ahead of it: when every
  // card of the kernel's batch is answered (here, perhaps not yet there) it shows the
  // prefetched batch at once. It stays there while the kernel is still on the batch it
  // left with every card answered (the kernel has not caught up); any other kernel
  // batch, or the left one with a card open again (a refused answer, an undo), is the
  // truth and is shown. Answers given on a prefetched batch the kernel then replaced
  // stay valid: the kernel records answers for any item of the pool.
  reconcile(kernel) {
    const id = kernel.batch_id;
    const cards = kernel.cards || [];
    const answers = kernel.answers || {};
    if (!(this.left !== null && id === this.left && this.isComplete(cards, answers))) {
      this.left = null;
      this.shown = { id, cards };
    }
    const next = kernel.next_cards || [];
    const nextId = kernel.next_batch_id;
    if (this.left === null && this.isComplete(cards, answers) && next.length && nextId !== id) {
      this.left = id;
      this.shown = { id: nextId, cards: next };
    }
    this.settle(cards, answers);
    return this.shown;
  }

  // Drop the confirmed answers the kernel's state now shows, and those of cards that
  // are neither the kernel's nor on screen any more.
  settle(cards, answers) {
    const live = new Set([...cards, ...this.shown.cards].map((c) => c.key));
    for (const [key, ans] of this.acked) {
      const k = answers[key];
      const agree =
        ans === null
          ? !k
          : k && k.action === ans.action && k.class_index === ans.class_index && sameIndices(k.class_indices, ans.class_indices);
      if (agree || !live.has(key)) this.acked.delete(key);
    }
  }

  // Forget the shown batch (the classes changed: every card is rebuilt).
  reset() {
    this.shown = { id: -1, cards: [] };
    this.left = null;
    this.acked.clear();
  }
}

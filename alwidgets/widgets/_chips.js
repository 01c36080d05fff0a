// alwidgets BatchWidget front end, multi-label chips (`multi_label=True`).
//
// Each class is a chip that its key toggles; the model's predicted set starts pressed,
// so Enter (or `a`) accepts it, and Enter on an edited set commits that set. Nothing is
// sent before a commit: the chips a person toggles are a *draft*, kept here per card,
// and the answer the kernel holds (`class_indices`) is what the chips show once saved.
//
// Like `_batch_state.js`, this file travels as synced text (`_chips_esm`) and the view
// (`_batch.js`) imports it from a blob URL; Node's test runner imports the same file
// (`tests/js/chips.test.mjs`). `ChipDraft` and `chipsOf` are pure; the functions below
// them build and update the chips' DOM.
//
// Stable DOM for tests and notebooks:
//   .alw-chips[role=group][aria-label]                the chips of one card
//   .alw-chip[data-chip-index][aria-pressed]          one per class
//   .alw-chip[data-suggested="true"]                  in the model's predicted set
//   .alw-chip[data-suspect="true"]                    the class a review card asks about
//   .alw-card[data-edited="true"]                     chips toggled, not committed yet
//   .alw-btn[data-action="commit"]                    Enter: save the set (mouse)

export const GROUP_LABEL = "Classes that apply: a class key toggles its chip, Enter saves the set";

// Class indices as a sorted set.
export function asSet(indices) {
  return [...new Set((indices || []).map(Number))].sort((a, b) => a - b);
}

export function sameSet(a, b) {
  const x = asSet(a);
  const y = asSet(b);
  return x.length === y.length && x.every((v, i) => v === y[i]);
}

// What a card's chips show before any edit: the saved set of a labeled card, else the
// model's predicted set (empty without a model).
export function chipsOf(answer, suggestion) {
  if (answer && answer.action === "label" && Array.isArray(answer.class_indices)) {
    return asSet(answer.class_indices);
  }
  return Array.isArray(suggestion) ? asSet(suggestion) : [];
}

// The sets being edited, per card key, until they are committed (or the card leaves).
export class ChipDraft {
  constructor() {
    this.drafts = new Map(); // key -> sorted class indices
  }

  edited(key) {
    return this.drafts.has(key);
  }

  // The chips pressed now on card `key`.
  pressed(key, answer, suggestion) {
    return this.drafts.has(key) ? this.drafts.get(key) : chipsOf(answer, suggestion);
  }

  // Toggle chip `index` of card `key`; returns the pressed set.
  toggle(key, index, answer, suggestion) {
    const now = new Set(this.pressed(key, answer, suggestion));
    if (now.has(index)) now.delete(index);
    else now.add(index);
    const set = asSet([...now]);
    // back to what is saved (or suggested): nothing left to commit
    if (sameSet(set, chipsOf(answer, suggestion)) && answer) this.drafts.delete(key);
    else this.drafts.set(key, set);
    return set;
  }

  // The set Enter commits on card `key`, or null when there is nothing to commit (a
  // saved answer not edited since). The draft is forgotten: the answer takes over.
  commit(key, answer, suggestion) {
    if (answer && !this.drafts.has(key)) return null;
    const set = this.pressed(key, answer, suggestion);
    this.drafts.delete(key);
    return set;
  }

  // Forget the drafts of cards that are no longer on screen.
  keep(keys) {
    const live = new Set(keys);
    for (const key of [...this.drafts.keys()]) if (!live.has(key)) this.drafts.delete(key);
  }
}

// ---- DOM (the view passes its `el(tag, cls, text)` helper) ----

// The chips of one card, and the button that commits the set with the mouse.
export function buildChips(el, classes) {
  const group = el("div", "alw-chips");
  group.setAttribute("role", "group");
  group.setAttribute("aria-label", GROUP_LABEL);
  classes.forEach((c, i) => {
    const chip = el("button", "alw-chip");
    chip.type = "button";
    chip.tabIndex = -1; // focus stays on the batch, so keys keep working after a click
    chip.dataset.chipIndex = String(i);
    chip.setAttribute("aria-pressed", "false");
    if (c.key) chip.append(el("kbd", null, c.key), document.createTextNode(" "));
    chip.append(document.createTextNode(c.name));
    group.append(chip);
  });
  const commit = el("button", "alw-btn alw-commit");
  commit.type = "button";
  commit.tabIndex = -1;
  commit.dataset.action = "commit";
  commit.append(el("kbd", null, "Enter"), document.createTextNode(" save set"));
  return [group, commit];
}

// The model's guess on a multi-label card: its predicted set and per-class probabilities.
export function showSuggestion(node, card, classes, el) {
  const suggest = node.querySelector(".alw-suggest");
  suggest.replaceChildren();
  const set = Array.isArray(card.suggestion) ? asSet(card.suggestion) : null;
  if (set === null) {
    suggest.textContent = "no model yet";
    delete suggest.dataset.suggestion;
  } else {
    const names = set.map((i) => (classes[i] ? classes[i].name : "?"));
    suggest.append(document.createTextNode("model: "), el("b", null, names.length ? names.join(", ") : "none of these"));
    suggest.dataset.suggestion = set.join(",");
  }
  const proba = Array.isArray(card.proba) ? card.proba : [];
  for (const chip of node.querySelectorAll(".alw-chip")) {
    const i = Number(chip.dataset.chipIndex);
    chip.dataset.suggested = set !== null && set.includes(i) ? "true" : "false";
    chip.dataset.suspect = card.suspect === i ? "true" : "false";
    const name = classes[i] ? classes[i].name : "";
    chip.title = typeof proba[i] === "number" ? `${name}: model ${Math.round(proba[i] * 100)}%` : name;
  }
}

// Press the chips of `set` (aria-pressed tells screen readers); `edited`: not saved yet.
export function showPressed(node, set, edited) {
  const on = new Set(set);
  for (const chip of node.querySelectorAll(".alw-chip")) {
    const pressed = on.has(Number(chip.dataset.chipIndex));
    chip.setAttribute("aria-pressed", pressed ? "true" : "false");
    chip.classList.toggle("alw-chosen", pressed);
  }
  node.dataset.edited = edited ? "true" : "false";
}

// The key legend's parts for chips.
export const LEGEND = [
  ["Enter", "save set"],
  ["a", "accept model's set"],
];

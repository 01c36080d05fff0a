// alwidgets BatchWidget front end: the building blocks of the view (DOM only, no state).
//
// A card (position, why it was picked, the item, the model's guess, the class buttons
// or, multi-label, the chips of `_chips.js`), the key legend, and the small DOM helper
// `el`. The view (`_batch.js`) calls them; they keep no state. Like `_batch_state.js`,
// this file travels as synced text (`_cards_esm`) and the view imports it from a blob URL.

export function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

// The key legend under the cards (`chips`: the multi-label chips module, or null).
export function fillLegend(legend, classes, chips) {
  legend.replaceChildren();
  const same = classes.filter((c) => c.key && c.key === String(c.name).toLowerCase());
  const parts = same.length ? [[same.map((c) => c.key).join(" "), "label"]] : [];
  for (const c of classes) {
    if (c.key && !same.includes(c)) parts.push([c.key, c.name]);
  }
  if (chips) parts.push(["←→ / j k", "move"], ...chips.LEGEND, ["s", "skip"]);
  else parts.push(["←→ / j k", "move"], ["Enter", "accept suggestion"], ["s", "skip"]);
  parts.push(["u", "unsure"], ["⌫", "undo"], ["Esc", "leave"]);
  for (const [k, what] of parts) {
    const item = el("span", "alw-legend-item");
    item.append(el("kbd", null, k), document.createTextNode(` ${what}`));
    legend.append(item);
  }
}

function button(text, kbd, attrs) {
  const b = el("button", "alw-btn");
  b.type = "button";
  b.tabIndex = -1; // focus stays on the root, so keys keep working after a click
  if (kbd && kbd === String(text).toLowerCase()) {
    b.append(el("kbd", null, text)); // the label is its own key
    b.classList.add("alw-self-key");
  } else {
    if (kbd) b.append(el("kbd", null, kbd), document.createTextNode(" "));
    b.append(document.createTextNode(text));
  }
  for (const [k, v] of Object.entries(attrs)) b.setAttribute(k, v);
  return b;
}

// One card: position, why it was picked, the item, the suggestion, the buttons (or,
// multi-label, the chips).
export function buildCard(card, index, classes, chips) {
  const node = el("div", "alw-card");
  node.dataset.key = card.key;
  node.dataset.itemId = String(card.item_id);
  node.dataset.index = String(index);
  const top = el("div", "alw-card-top");
  top.append(el("span", "alw-pos", String(index + 1)));
  const why = el("span", "alw-why");
  showWhy(why, card);
  const tick = el("span", "alw-saved", "✓ saved");
  tick.title = "written to the session store";
  const unsaved = el("span", "alw-unsaved", "not saved");
  unsaved.title = "the store is unreachable: kept here, saved when it is back";
  top.append(why, tick, unsaved);
  const item = el("div", "alw-item");
  item.innerHTML = card.html || ""; // HTML produced by alwidgets.display (escaped there)
  const suggest = el("div", "alw-suggest");
  const buttons = el("div", "alw-buttons");
  if (chips) buttons.append(...chips.buildChips(el, classes));
  else {
    classes.forEach((c, i) => {
      buttons.append(button(c.name, c.key, { "data-label": c.name, "data-class-index": String(i) }));
    });
  }
  buttons.append(button("skip", "s", { "data-action": "skip" }));
  buttons.append(button("unsure", "u", { "data-action": "unsure" }));
  const err = el("div", "alw-card-error");
  const note = el("div", "alw-card-note"); // what happened to the answer (a conflict)
  node.append(top, item, suggest, buttons, note, err);
  showSuggestion(node, card, classes, chips);
  return node;
}

// Why the card was picked and its utility under the model in use (a retrain rescores it).
export function showWhy(node, card) {
  node.textContent = card.why || "";
  if (card.why_long) node.title = card.why_long;
  else node.removeAttribute("title");
}

// The guess on a card; updated in place when a retrain re-predicts it. With class
// descriptions it is a zero-shot guess (its score: cosine similarity to the description)
// until the model's guesses are better.
export function showSuggestion(node, card, classes, chips) {
  if (chips) return chips.showSuggestion(node, card, classes, el);
  const suggest = node.querySelector(".alw-suggest");
  suggest.replaceChildren();
  const has = card.suggestion !== null && card.suggestion !== undefined;
  const zeroShot = card.suggested_by === "zero-shot";
  if (has) {
    const c = classes[card.suggestion];
    const by = zeroShot ? "zero-shot: " : "model: ";
    suggest.append(document.createTextNode(by), el("b", null, c ? c.name : "?"));
    if (typeof card.confidence === "number") {
      const score = zeroShot
        ? ` similarity ${card.confidence.toFixed(2)}`
        : ` ${Math.round(card.confidence * 100)}%`;
      suggest.append(document.createTextNode(score));
    }
    suggest.dataset.suggestion = String(card.suggestion);
    suggest.dataset.by = card.suggested_by || "model";
    suggest.title = zeroShot
      ? "zero-shot guess: the class whose description is closest (cosine similarity); Enter accepts it"
      : "the model's guess and its probability; Enter accepts it";
  } else {
    suggest.textContent = "no model yet";
    delete suggest.dataset.suggestion;
    delete suggest.dataset.by;
    suggest.removeAttribute("title");
  }
  for (const b of node.querySelectorAll(".alw-btn[data-class-index]")) {
    b.classList.toggle("alw-suggested", has && b.dataset.classIndex === String(card.suggestion));
  }
}

// alwidgets BatchWidget front end, part 2 of 2: the view (DOM, keys, focus).
//
// The kernel owns the truth (store, ranking, undo, the end of a batch); the view shows
// it and answers key presses at once. What it has assumed before the kernel replies
// (seq numbers, optimistic marks, undo history, running ahead to the prefetched batch)
// lives in the pure module `_batch_state.js`, which the widget sends as the synced
// `_state_esm` text and this file imports from a blob URL.
//
// Stable DOM for tests and notebooks:
//   .alw-batch[data-batch]                        focusable root (tabindex=0)
//   .alw-status[data-state]                       model status line
//   .alw-card[data-key][data-item-id][data-status][data-saved][data-unsaved][data-focused]
//   .alw-btn[data-label][data-class-index]        one label button per class
//   .alw-btn[data-action="skip"|"unsure"]
//   .alw-card[data-unsaved="true"]                kept by the kernel, not saved yet
//   .alw-saved                                    the "saved" tick of a card
//   .alw-unsaved                                  its "not saved" tag (store unreachable)
//   .alw-card[data-status="conflict"]             kept as a conflict: a colleague was first
//   .alw-card-note                                what happened to the card's answer
//   .alw-notice                                   transient errors (aria-live)

const NAV = { ArrowRight: 1, ArrowDown: 1, j: 1, ArrowLeft: -1, ArrowUp: -1, k: -1 };

// One module per distinct source text, shared by every view on the page.
const stateModules = new Map();
function importState(source) {
  if (!stateModules.has(source)) {
    const url = URL.createObjectURL(new Blob([source], { type: "text/javascript" }));
    stateModules.set(source, import(/* webpackIgnore: true */ url));
  }
  return stateModules.get(source);
}

function el(tag, cls, text) {
  const node = document.createElement(tag);
  if (cls) node.className = cls;
  if (text !== undefined) node.textContent = text;
  return node;
}

// ---- building blocks (DOM only, no state) ----

// The key legend under the cards.
function fillLegend(legend, classes) {
  legend.replaceChildren();
  const same = classes.filter((c) => c.key && c.key === String(c.name).toLowerCase());
  const parts = same.length ? [[same.map((c) => c.key).join(" "), "label"]] : [];
  for (const c of classes) {
    if (c.key && !same.includes(c)) parts.push([c.key, c.name]);
  }
  parts.push(["←→ / j k", "move"], ["Enter", "accept suggestion"], ["s", "skip"]);
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

// One card: position, why it was picked, the item, the suggestion, the buttons.
function buildCard(card, index, classes) {
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
  classes.forEach((c, i) => {
    buttons.append(button(c.name, c.key, { "data-label": c.name, "data-class-index": String(i) }));
  });
  buttons.append(button("skip", "s", { "data-action": "skip" }));
  buttons.append(button("unsure", "u", { "data-action": "unsure" }));
  const err = el("div", "alw-card-error");
  const note = el("div", "alw-card-note"); // what happened to the answer (a conflict)
  node.append(top, item, suggest, buttons, note, err);
  showSuggestion(node, card, classes);
  return node;
}

// Why the card was picked and its utility under the model in use (a retrain rescores it).
function showWhy(node, card) {
  node.textContent = card.why || "";
  if (card.why_long) node.title = card.why_long;
  else node.removeAttribute("title");
}

// The model's guess on a card; updated in place when a retrain re-predicts it.
function showSuggestion(node, card, classes) {
  const suggest = node.querySelector(".alw-suggest");
  suggest.replaceChildren();
  const has = card.suggestion !== null && card.suggestion !== undefined;
  if (has) {
    const c = classes[card.suggestion];
    suggest.append(document.createTextNode("model: "), el("b", null, c ? c.name : "?"));
    if (typeof card.confidence === "number") {
      suggest.append(document.createTextNode(` ${Math.round(card.confidence * 100)}%`));
    }
    suggest.dataset.suggestion = String(card.suggestion);
  } else {
    suggest.textContent = "no model yet";
    delete suggest.dataset.suggestion;
  }
  for (const b of node.querySelectorAll(".alw-btn[data-class-index]")) {
    b.classList.toggle("alw-suggested", has && b.dataset.classIndex === String(card.suggestion));
  }
}

async function render({ model, el: host }) {
  const { BatchState, STATUS_WORD, formatAge, sameCards } = await importState(model.get("_state_esm"));
  const root = el("div", "alw-batch");
  root.tabIndex = 0;
  root.setAttribute("data-lm-suppress-shortcuts", "true");
  root.setAttribute("role", "application");
  root.setAttribute(
    "aria-label",
    "Labeling batch: press a class key to label the highlighted card, " +
      "arrows or j/k to move, Enter to accept the suggestion, s skip, u unsure, Backspace undo, " +
      "r review suspect labels.",
  );

  const header = el("div", "alw-header");
  const status = el("div", "alw-status");
  const statusText = el("span", "alw-status-text");
  const statusDetail = el("span", "alw-status-detail");
  status.append(statusText, statusDetail);
  const progress = el("div", "alw-batch-progress");
  header.append(status, progress);
  const notice = el("div", "alw-notice");
  notice.setAttribute("aria-live", "polite");
  const grid = el("div", "alw-grid");
  const legend = el("div", "alw-legend");
  root.append(header, notice, grid, legend);
  host.appendChild(root);

  // ---- local state (never the source of truth; see _batch_state.js) ----
  const state = new BatchState();
  const kernel = () => ({
    batch_id: model.get("batch_id"),
    cards: model.get("cards") || [],
    next_batch_id: model.get("next_batch_id"),
    next_cards: model.get("next_cards") || [],
    answers: model.get("answers") || {},
  });
  const answers = () => model.get("answers") || {};
  const answerOf = (key) => state.answerOf(key, answers());
  const firstOpen = (after = -1) => state.firstOpen(answers(), after);
  let focusKey = null;
  let lastActionAt = performance.now();
  let statusAt = performance.now();
  let noticeTimer = null;
  const cardNodes = new Map(); // key -> card element

  const classes = () => model.get("classes") || [];
  const keyToClass = () => {
    const map = new Map();
    classes().forEach((c, i) => {
      if (c.key) map.set(String(c.key).toLowerCase(), i);
    });
    return map;
  };

  function showNotice(text, kind = "error") {
    notice.textContent = text;
    notice.dataset.kind = kind;
    notice.classList.add("alw-visible");
    clearTimeout(noticeTimer);
    noticeTimer = setTimeout(() => notice.classList.remove("alw-visible"), 5000);
  }

  // ---- header ----
  function renderStatus() {
    const s = model.get("status") || {};
    status.dataset.state = s.state || "idle";
    let text = s.text || "";
    if (typeof s.age === "number") {
      const age = s.age + (performance.now() - statusAt) / 1000;
      text += `${text ? ", " : ""}trained ${formatAge(age)}`;
    }
    statusText.textContent = text;
    statusDetail.textContent = s.detail ? ` · ${s.detail}` : "";
    statusDetail.title = s.error || "";
    const p = model.get("progress") || {};
    progress.textContent = p.total ? `${p.labeled} / ${p.total} labeled` : "";
  }
  const ticker = setInterval(renderStatus, 1000);

  // ---- cards ----
  function refreshCard(key) {
    const node = cardNodes.get(key);
    if (!node) return;
    const ans = answerOf(key);
    node.dataset.status = ans ? STATUS_WORD[ans.action] || ans.action : "pending";
    node.dataset.saved = ans && ans.saved ? "true" : "false";
    node.dataset.unsaved = ans && ans.unsaved ? "true" : "false";
    node.querySelector(".alw-card-note").textContent = ans && ans.action === "conflict" ? ans.note || "" : "";
    node.dataset.focused = key === focusKey ? "true" : "false";
    if (ans && ans.action === "label") {
      const c = classes()[ans.class_index];
      node.dataset.answer = c ? c.name : "";
    } else {
      delete node.dataset.answer;
    }
    for (const b of node.querySelectorAll(".alw-btn")) {
      const chosen =
        ans &&
        ((ans.action === "label" && b.dataset.classIndex === String(ans.class_index)) ||
          (ans.action !== "label" && b.dataset.action === ans.action));
      b.classList.toggle("alw-chosen", Boolean(chosen));
    }
  }

  function refreshAll() {
    for (const key of cardNodes.keys()) refreshCard(key);
    root.dataset.batch = String(state.shown.id);
  }

  // The prefetched batch is built (and its images decoded) while the current one is
  // labeled, so showing it when the current batch is done is a swap of DOM nodes.
  let prebuilt = null; // {id, keys, nodes}
  function prebuild() {
    const id = model.get("next_batch_id");
    const next = model.get("next_cards") || [];
    if (prebuilt && prebuilt.id === id) return;
    const nodes = next.map((c, i) => buildCard(c, i, classes()));
    for (const node of nodes) {
      for (const img of node.querySelectorAll("img")) img.decode?.().catch(() => {});
    }
    prebuilt = { id, keys: next.map((c) => c.key).join(","), nodes };
  }

  // Show the batch the state decides on (the kernel's, or the prefetched one when
  // this view has run ahead): cards in place when only suggestions changed, else a
  // swap to the prebuilt nodes or freshly built ones.
  function sync() {
    const before = state.shown;
    const { id, cards } = state.reconcile(kernel());
    if (sameCards(before, state.shown)) {
      cards.forEach((card, i) => {
        const old = before.cards[i];
        const node = cardNodes.get(card.key);
        if (card.suggestion !== old.suggestion || card.confidence !== old.confidence) {
          showSuggestion(node, card, classes());
        }
        if (card.why !== old.why || card.why_long !== old.why_long) {
          showWhy(node.querySelector(".alw-why"), card);
        }
      });
    } else {
      const keys = cards.map((c) => c.key).join(",");
      const ready = prebuilt && prebuilt.id === id && prebuilt.keys === keys ? prebuilt : null;
      if (ready) prebuilt = null;
      cardNodes.clear();
      grid.replaceChildren();
      cards.forEach((card, i) => {
        const node = ready ? ready.nodes[i] : buildCard(card, i, classes());
        cardNodes.set(card.key, node);
        grid.append(node);
      });
      lastActionAt = performance.now();
    }
    grid.classList.toggle("alw-empty", cards.length === 0);
    if (cards.length === 0) {
      grid.replaceChildren(el("div", "alw-empty-note", model.get("empty_text") || ""));
    }
    // every card answered and no prefetched batch to run ahead to: the kernel sends one
    if (state.isComplete(cards, answers())) root.dataset.waiting = "true";
    else delete root.dataset.waiting;
    if (!cardNodes.has(focusKey)) focusCard(firstOpen() ?? (cards[0] || {}).key ?? null, false);
    else refreshAll();
  }

  function focusCard(key, scroll = true) {
    focusKey = key;
    refreshAll();
    const node = cardNodes.get(key);
    if (node && scroll) node.scrollIntoView({ block: "nearest", inline: "nearest" });
  }

  // ---- actions ----
  function act(action, classIndex = null) {
    const cards = state.shown.cards;
    const idx = cards.findIndex((c) => c.key === focusKey);
    if (idx < 0) return;
    const card = cards[idx];
    const now = performance.now();
    model.send(state.act(card.key, action, classIndex, (now - lastActionAt) / 1000));
    lastActionAt = now;
    focusCard(firstOpen(idx) ?? card.key);
    const before = state.shown.id;
    sync(); // the batch is done: run ahead to the prefetched one, if there is one
    if (state.shown.id !== before) focusCard(focusKey);
  }

  function undo() {
    const { message, key } = state.undo();
    model.send(message);
    if (key && cardNodes.has(key)) focusCard(key);
  }

  function accept() {
    const card = state.shown.cards.find((c) => c.key === focusKey);
    if (!card) return;
    if (card.suggestion === null || card.suggestion === undefined) {
      showNotice("No model suggestion yet: label a few items from at least 2 classes.", "info");
      return;
    }
    act("label", card.suggestion);
  }

  function move(delta) {
    const cards = state.shown.cards;
    const n = cards.length;
    if (!n) return;
    const idx = Math.max(0, cards.findIndex((c) => c.key === focusKey));
    focusCard(cards[(idx + delta + n) % n].key);
  }

  root.addEventListener("keydown", (e) => {
    if (e.ctrlKey || e.metaKey || e.altKey || e.key === "Tab") return; // browser/OS shortcuts
    // Shift+Enter means "run cell" to a notebook user, and the grid takes the focus when
    // it first renders, so the next Shift+Enter lands here. Never read it as "accept
    // the suggestion" (it would label a card unseen): let go of the keyboard and say so.
    if (e.key === "Enter" && e.shiftKey) {
      e.preventDefault();
      e.stopPropagation();
      root.blur();
      showNotice("The cards let go of the keyboard: click a cell to run it, or the cards to label.", "info");
      return;
    }
    e.preventDefault(); // every plain key stops here: nothing leaks into the notebook
    e.stopPropagation();
    if (e.repeat && e.key !== "ArrowRight" && e.key !== "ArrowLeft") return;
    const key = e.key.length === 1 ? e.key.toLowerCase() : e.key;
    const cls = keyToClass();
    if (cls.has(key)) act("label", cls.get(key));
    else if (key in NAV) move(NAV[key]);
    else if (key === "Enter") accept();
    else if (key === "s") act("skip");
    else if (key === "u") act("unsure");
    else if (key === "Backspace" || key === "Delete") undo();
    else if (key === "r") model.send(state.review()); // a class keyed r takes precedence
    else if (key === "Escape") root.blur();
  });

  // Clicks: keep keyboard focus on the root (buttons never take it).
  root.addEventListener("mousedown", (e) => {
    if (e.target.closest(".alw-btn")) e.preventDefault();
  });
  root.addEventListener("click", (e) => {
    const cardNode = e.target.closest(".alw-card");
    const b = e.target.closest(".alw-btn");
    if (cardNode && cardNode.dataset.key !== focusKey) focusCard(cardNode.dataset.key, false);
    if (b && cardNode) {
      if (b.dataset.classIndex !== undefined) act("label", Number(b.dataset.classIndex));
      else act(b.dataset.action);
    }
    if (!e.target.closest("a, summary, details")) root.focus({ preventScroll: true });
  });

  // ---- kernel -> view ----
  function showError(key, error) {
    const node = cardNodes.get(key);
    if (!node) return;
    node.querySelector(".alw-card-error").textContent = error;
    node.dataset.error = "true";
    setTimeout(() => {
      delete node.dataset.error;
      node.querySelector(".alw-card-error").textContent = "";
    }, 5000);
  }

  model.on("msg:custom", (msg) => {
    if (!msg || typeof msg !== "object") return;
    const guessed = state.reply(msg); // the optimistic guess this reply settles
    if (msg.type === "nack") {
      showNotice(msg.error || "The kernel could not save this action.");
      showError(msg.key, msg.error || "");
    }
    // Re-focus the re-opened card only when it is not the one the optimistic undo
    // already focused: by the time the reply arrives the person may have moved on,
    // and stealing focus back would send their next key to the wrong card.
    if (msg.type === "undone" && msg.key && cardNodes.has(msg.key)) {
      if (!guessed || guessed.key !== msg.key) focusCard(msg.key);
    }
    if (msg.type === "unsaved") showNotice(msg.error || "Not saved yet: the store is unreachable.", "error");
    if (msg.type === "conflict") showNotice(msg.text || "Kept as a conflict, not a label.", "error");
    if (msg.type === "notice") showNotice(msg.text || "", msg.kind || "info");
    sync(); // a refused answer may re-open the batch this view ran ahead of
  });

  model.on("change:cards", sync);
  model.on("change:batch_id", sync);
  model.on("change:answers", sync);
  model.on("change:next_cards", () => {
    sync();
    setTimeout(prebuild, 0); // off the event that delivered it
  });
  model.on("change:status", () => {
    statusAt = performance.now();
    renderStatus();
  });
  model.on("change:progress", renderStatus);
  model.on("change:classes", () => {
    fillLegend(legend, classes());
    prebuilt = null;
    state.reset();
    sync();
  });

  fillLegend(legend, classes());
  renderStatus();
  sync();
  setTimeout(prebuild, 0);
  // Focus on first render so keys work at once, without a click or hover.
  requestAnimationFrame(() => root.focus({ preventScroll: true }));

  return () => clearInterval(ticker);
}

export default { render };

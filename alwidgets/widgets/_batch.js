// alwidgets BatchWidget front end: the view (DOM, keys, focus).
//
// The kernel owns the truth (store, ranking, undo, the end of a batch); the view shows
// it and answers key presses at once. What it has assumed before the kernel replies
// (seq numbers, optimistic marks, undo history, running ahead to the prefetched batch)
// lives in the pure module `_batch_state.js`; the cards' building blocks in
// `_batch_cards.js`; multi-label chips in `_chips.js`. The widget sends each as synced
// text (`_state_esm`, `_cards_esm`, `_chips_esm`) and this file imports it from a blob URL.
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
//   .alw-suggest[data-suggestion][data-by]        the guess: by "model", "zero-shot", "review"
//   .alw-notice                                   transient errors (aria-live)
//   .alw-chips .alw-chip[aria-pressed]            multi-label: chips (see _chips.js)

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

async function render({ model, el: host }) {
  const { BatchState, STATUS_WORD, formatAge, sameCards } = await importState(model.get("_state_esm"));
  const { el, fillLegend, buildCard, showWhy, showSuggestion } = await importState(model.get("_cards_esm"));
  // multi-label: chips instead of class buttons (keys toggle, Enter commits the set)
  const chips = model.get("multi_label") ? await importState(model.get("_chips_esm")) : null;
  const draft = chips ? new chips.ChipDraft() : null;
  const root = el("div", "alw-batch");
  root.tabIndex = 0;
  root.setAttribute("data-lm-suppress-shortcuts", "true");
  root.setAttribute("role", "application");
  root.setAttribute(
    "aria-label",
    chips
      ? "Labeling batch, several classes per item: a class key toggles its chip on the highlighted card, " +
          "Enter saves the pressed set, a accepts the model's set, arrows or j/k move, s skip, u unsure, " +
          "Backspace undo."
      : "Labeling batch: press a class key to label the highlighted card, " +
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
    if (chips) {
      const card = state.shown.cards.find((c) => c.key === key) || {};
      chips.showPressed(node, draft.pressed(key, ans, card.suggestion), draft.edited(key));
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
    const keys = next.map((c) => c.key).join(",");
    if (prebuilt && prebuilt.id === id && prebuilt.keys === keys) return; // cards may follow their id
    const nodes = next.map((c, i) => buildCard(c, i, classes(), chips));
    for (const node of nodes) {
      for (const img of node.querySelectorAll("img")) img.decode?.().catch(() => {});
    }
    prebuilt = { id, keys, nodes };
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
        const by = card.suggested_by !== old.suggested_by;
        if (by || card.suggestion !== old.suggestion || card.confidence !== old.confidence) {
          showSuggestion(node, card, classes(), chips);
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
        const node = ready ? ready.nodes[i] : buildCard(card, i, classes(), chips);
        cardNodes.set(card.key, node);
        grid.append(node);
      });
      lastActionAt = performance.now();
      if (draft) draft.keep(cards.map((c) => c.key));
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
  function act(action, classIndex = null, classIndices = null) {
    const cards = state.shown.cards;
    const idx = cards.findIndex((c) => c.key === focusKey);
    if (idx < 0) return;
    const card = cards[idx];
    const now = performance.now();
    if (draft) draft.commit(card.key, null, null); // an answer replaces any draft
    model.send(state.act(card.key, action, classIndex, (now - lastActionAt) / 1000, classIndices));
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

  // Multi-label: a class key toggles a chip of the focused card (nothing is sent); Enter
  // commits the pressed set (the model's predicted set until edited); `a` the model's set.
  function toggle(index) {
    const card = state.shown.cards.find((c) => c.key === focusKey);
    if (card) draft.toggle(card.key, index, answerOf(card.key), card.suggestion);
    refreshCard(focusKey);
  }

  function commit(modelSet = false) {
    const card = state.shown.cards.find((c) => c.key === focusKey);
    if (!card) return;
    if (modelSet && !Array.isArray(card.suggestion)) {
      showNotice("No model suggestion yet: toggle the classes that apply and press Enter.", "info");
      return;
    }
    const set = modelSet ? card.suggestion : draft.commit(card.key, answerOf(card.key), card.suggestion);
    if (set === null) move(1); // saved already and not edited: nothing to commit
    else act("label", null, set);
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
    if (cls.has(key)) chips ? toggle(cls.get(key)) : act("label", cls.get(key));
    else if (key in NAV) move(NAV[key]);
    else if (key === "Enter") chips ? commit() : accept();
    else if (key === "a" && chips) commit(true);
    else if (key === "s") act("skip");
    else if (key === "u") act("unsure");
    else if (key === "Backspace" || key === "Delete") undo();
    else if (key === "r") model.send(state.review()); // a class keyed r takes precedence
    else if (key === "Escape") root.blur();
  });

  // Clicks: keep keyboard focus on the root (buttons never take it).
  root.addEventListener("mousedown", (e) => {
    if (e.target.closest(".alw-btn, .alw-chip")) e.preventDefault();
  });
  root.addEventListener("click", (e) => {
    const cardNode = e.target.closest(".alw-card");
    const b = e.target.closest(".alw-btn");
    if (cardNode && cardNode.dataset.key !== focusKey) focusCard(cardNode.dataset.key, false);
    const chip = e.target.closest(".alw-chip");
    if (chip && cardNode) toggle(Number(chip.dataset.chipIndex));
    if (b && cardNode) {
      if (b.dataset.classIndex !== undefined) act("label", Number(b.dataset.classIndex));
      else if (b.dataset.action === "commit") commit();
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
    fillLegend(legend, classes(), chips);
    prebuilt = null;
    state.reset();
    sync();
  });

  fillLegend(legend, classes(), chips);
  renderStatus();
  sync();
  setTimeout(prebuild, 0);
  // Focus on first render so keys work at once, without a click or hover.
  requestAnimationFrame(() => root.focus({ preventScroll: true }));

  return () => clearInterval(ticker);
}

export default { render };

// The chat page's script (put in the page's <head>; the Gradio app mounts after it).
(() => {
  "use strict";

  // Messages are our HTML; each carries its plain text in data-plain. Copy buttons and the
  // aria-label of a message use the message's content, so give them that plain text.
  const parser = new DOMParser();
  function plain(text) {
    if (typeof text !== "string" || text.indexOf("data-plain=") < 0) return text;
    const body = parser.parseFromString(text, "text/html").body; // inert: nothing runs or loads
    const out = [];
    for (const node of body.childNodes) {
      if (node.nodeType === Node.ELEMENT_NODE && node.hasAttribute("data-plain")) {
        out.push(node.getAttribute("data-plain"));
      } else {
        out.push(node.textContent);
      }
    }
    return out.join("");
  }
  window.caPlain = plain;

  if (navigator.clipboard && navigator.clipboard.writeText) {
    const write = navigator.clipboard.writeText.bind(navigator.clipboard);
    navigator.clipboard.writeText = (text) => write(plain(text));
  }
  // Without the clipboard API (plain http on another host) Gradio copies through a textarea.
  document.addEventListener(
    "copy",
    (event) => {
      const el = event.target;
      if (el && el.tagName === "TEXTAREA" && el.value.indexOf("data-plain=") >= 0) {
        event.clipboardData.setData("text/plain", plain(el.value));
        event.preventDefault();
      }
    },
    true,
  );

  // The API page asks for an MCP schema and request statistics; this app serves neither
  // (no MCP server, monitoring off), so answer "none" here instead of letting the browser
  // log errors, and the page shows neither (its MCP tab is hidden below).
  const realFetch = window.fetch.bind(window);
  window.fetch = (input, init) => {
    const url = typeof input === "string" ? input : input && input.url;
    if (url && /\/gradio_api\/mcp\/schema$/.test(url)) {
      return Promise.resolve(new Response("[]", { status: 404, statusText: "no MCP here" }));
    }
    if (url && /\/monitoring\/summary$/.test(url)) {
      const none = JSON.stringify({ functions: {} });
      return Promise.resolve(new Response(none, { status: 200 }));
    }
    return realFetch(input, init);
  };
  function hideMcpTab(root) {
    for (const tab of root.querySelectorAll(".snippets .snippet")) {
      if (tab.textContent.trim() === "MCP") tab.style.display = "none";
    }
  }

  const fixed = new WeakMap(); // element -> the aria-label we set
  function fixLabel(el) {
    const label = el.getAttribute("aria-label");
    if (!label || fixed.get(el) === label || label.indexOf("data-plain=") < 0) return;
    const text = plain(label);
    fixed.set(el, text);
    el.setAttribute("aria-label", text);
  }

  // Clicking a [n] marker or a source opens it in the source viewer. Gradio's sanitizer
  // drops data-* attributes, so the pick is read from what the source shows: its file name,
  // its page (a PDF's "p. 4"), its character range and its marked quote.
  function pick(target) {
    if (!target.closest("#ca-chat")) return null;
    let source = target.closest(".ca-source");
    const cite = target.closest(".ca-cite");
    if (!source && cite) {
      const msg = cite.closest(".ca-msg") || cite.closest("[data-testid=bot]");
      const n = cite.textContent.replace(/[\[\]\s]/g, "").split(",")[0];
      for (const s of msg ? msg.querySelectorAll(".ca-source") : []) {
        const num = s.querySelector(".ca-num");
        if (num && num.textContent.replace(/[\[\]\s]/g, "") === n) source = s;
      }
    }
    if (!source) return null;
    const file = source.querySelector(".ca-file");
    const range = (source.querySelector(".ca-span") || {}).textContent || "";
    const numbers = range.replace(/[,\s]/g, "").match(/\d+/g) || [];
    if (!file || numbers.length < 2) return null;
    const marks = [...source.querySelectorAll(".ca-passage mark:not(.ca-order)")].map((m) => m.textContent);
    const page = ((source.querySelector(".ca-page") || {}).textContent || "").match(/\d+/);
    return JSON.stringify({
      source: file.textContent,
      start: Number(numbers[0]),
      end: Number(numbers[1]),
      quote: marks.join(" "),
      page: page ? Number(page[0]) : null,
    });
  }
  // The viewer opens where the reader is: on a phone as a sheet over the chat, and opened
  // from the keyboard (or on a phone) it takes focus; "Back to the answer" or Escape closes
  // the sheet and gives focus back to the marker or source that opened it.
  let opener = null;
  let focusViewer = false;
  const phone = () => window.matchMedia("(max-width: 640px)").matches;
  const panel = () => document.querySelector("#ca-viewer-panel");
  const sheetOpen = () => !!panel() && panel().hasAttribute("data-ca-sheet");
  // The sheet is a modal dialog: named, aria-modal, focus kept inside it (Tab wraps, focus
  // that lands behind it comes back), Escape or "Back to the answer" closes it.
  const DIALOG = { role: "dialog", "aria-modal": "true", "aria-label": "Source" };
  function openSheet() {
    panel().setAttribute("data-ca-sheet", ""); // an attribute: Svelte owns the classes
    for (const [name, value] of Object.entries(DIALOG)) panel().setAttribute(name, value);
  }
  function inSheet() {
    const all = panel().querySelectorAll(
      "button, [href], input, select, textarea, [tabindex]:not([tabindex='-1'])",
    );
    return [...all].filter((el) => !el.disabled && el.getClientRects().length > 0);
  }
  function trapTab(event) {
    if (event.key !== "Tab" || !sheetOpen()) return;
    const inside = inSheet();
    if (!inside.length) return;
    const first = inside[0];
    const last = inside[inside.length - 1];
    const at = document.activeElement;
    const out = !panel().contains(at);
    if (out || (event.shiftKey && at === first) || (!event.shiftKey && at === last)) {
      event.preventDefault();
      (event.shiftKey ? last : first).focus();
    }
  }
  document.addEventListener("keydown", trapTab, true);
  document.addEventListener("focusin", (event) => {
    const t = event.target;
    if (!sheetOpen() || !(t instanceof Element) || panel().contains(t)) return;
    const inside = inSheet();
    const text = panel().querySelector(".ca-viewer-text");
    (text || inside[0] || panel()).focus({ preventScroll: true });
  });
  function closeViewer() {
    if (panel()) {
      panel().removeAttribute("data-ca-sheet");
      for (const name of Object.keys(DIALOG)) panel().removeAttribute(name);
    }
    if (opener && opener.isConnected) {
      opener.focus({ preventScroll: true });
      opener.scrollIntoView({ block: "nearest" });
    }
  }
  document.addEventListener("click", (event) => {
    if (!(event.target instanceof Element)) return;
    if (event.target.closest(".ca-viewer-back")) return closeViewer();
    const picked = pick(event.target);
    if (!picked) return;
    window.__caPick = picked;
    opener = event.target.closest("button") || event.target;
    focusViewer = event.detail === 0 || phone(); // 0: Enter or Space, not a pointer
    if (phone() && panel()) {
      const header = panel().querySelector(".label-wrap");
      if (header && !header.classList.contains("open")) header.click(); // a folded panel opens
      openSheet();
    }
    const open = document.querySelector("#ca-open-source");
    if (open) open.click();
  });
  // On the sheet, its "Source" header goes back too (folding it would leave an empty sheet).
  document.addEventListener(
    "click",
    (event) => {
      const t = event.target instanceof Element ? event.target : null;
      if (!t || !sheetOpen() || !t.closest("#ca-viewer-panel .label-wrap")) return;
      event.preventDefault();
      event.stopImmediatePropagation();
      closeViewer();
    },
    true,
  );
  // The chat's message handles Enter and Space itself (and stops them), so a focused marker or
  // source head is clicked here, before it.
  document.addEventListener(
    "keydown",
    (event) => {
      const t = event.target instanceof Element ? event.target : null;
      if (!t || !t.matches("#ca-chat .ca-cite, #ca-chat .ca-source-head")) return;
      if (event.key !== "Enter" && event.key !== " ") return;
      event.preventDefault();
      event.stopImmediatePropagation();
      t.click();
    },
    true,
  );
  document.addEventListener("keydown", (event) => {
    const inViewer = event.target instanceof Element && event.target.closest("#source-viewer");
    if (event.key === "Escape" && (inViewer || sheetOpen())) {
      closeViewer();
    }
  });
  window.caPicked = () => window.__caPick || "";

  // k typed outside the slider's range: the box shows the k that is used (clamped as it is
  // typed, before the page sends it), and one note says so.
  function clampK(event) {
    const el = event.target;
    if (!(el instanceof HTMLInputElement) || el.type !== "number" || !el.closest("#ca-k")) {
      return;
    }
    const min = Number(el.min || 1);
    const max = Number(el.max || 20);
    const typed = el.value;
    const value = Number(typed);
    const out = typed !== "" && (value < min || value > max);
    const used = Math.min(Math.max(Math.round(value), min), max);
    let note = document.querySelector("#ca-k-note");
    if (!note && out) {
      note = document.createElement("div");
      note.id = "ca-k-note";
      note.className = "ca-note";
      note.setAttribute("role", "status");
      el.closest("#ca-k").appendChild(note);
    }
    if (out) {
      el.value = String(used);
      note.textContent = `k ${typed} is outside ${min}-${max}; used ${used}`;
    } else if (note && event.type === "input") {
      note.textContent = "";
    }
  }
  document.addEventListener("input", clampK, true);
  document.addEventListener("change", clampK, true);

  // The next question can be typed while an answer is written; Enter (or the send button)
  // then queues it, and it is sent as soon as that answer is done or stopped. Until the
  // page's load event has ended (it shows the open conversation: `window.caLoaded`, set by
  // sidebar.py), a question or an example is held too: asked earlier, its answer would be
  // drawn under a chat the load then replaces, and kept in no conversation.
  let queued = false;
  let heldExample = null; // an example button clicked before the page had loaded
  const loaded = () => window.caLoaded === true;
  const answering = () => {
    const stop = document.querySelector("#ca-stop");
    return !!stop && stop.offsetParent !== null;
  };
  const busy = () => !loaded() || answering();
  function queueNote(text) {
    let note = document.querySelector("#ca-queued");
    const box = document.querySelector("#ca-question");
    if (!note && box && text) {
      note = document.createElement("div");
      note.id = "ca-queued";
      note.className = "ca-note";
      note.setAttribute("role", "status");
      box.after(note);
    }
    if (note) note.textContent = text;
  }
  function sendQueued() {
    if ((!queued && !heldExample) || busy()) return;
    const example = heldExample;
    heldExample = null;
    queueNote("");
    queued = false; // after an example, a question held in the box is sent with Enter again
    if (example) {
      if (example.isConnected && !example.disabled) example.click();
      return;
    }
    const send = document.querySelector("#ca-question button.submit-button, #ca-question button[aria-label*=ubmit]");
    if (send) send.click();
  }
  function holdWhileBusy(event) {
    if (!(event.target instanceof Element) || !busy()) return;
    const example = !loaded() && event.type === "click" && event.target.closest("#ca-examples button");
    const inBox = event.target.closest("#ca-question");
    const enter = inBox && event.type === "keydown" && event.key === "Enter" && !event.shiftKey;
    const click = inBox && event.type === "click" && event.target.closest("button");
    if (!enter && !click && !example) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    if (example) heldExample = example;
    else queued = true;
    queueNote(loaded() ? "Sent as soon as this answer is done." : "Sent as soon as the page has loaded.");
  }
  document.addEventListener("keydown", holdWhileBusy, true);
  document.addEventListener("click", holdWhileBusy, true);

  // Focus stays with asking: when an answer ends, the question box gets focus back if it was
  // left nowhere (the body) or on what asked (the send button, an example, Stop), and when
  // what had focus is disabled or hidden meanwhile (an example button while an answer is
  // written). Not on touch screens, where focusing the box opens the on-screen keyboard.
  const touch = window.matchMedia("(pointer: coarse)").matches;
  const ASKING = "#ca-question, #ca-examples, #ca-stop";
  let asked = null; // how many answers the chat showed when a question was sent
  let pointerAt = 0;
  const answers = () => document.querySelectorAll("#ca-chat [data-testid=bot]");
  function focusQuestion() {
    const box = document.querySelector("#ca-question textarea");
    const a = document.activeElement;
    const idle = !a || a === document.body || (a.closest && a.closest(ASKING));
    if (!touch && box && idle && a !== box && window.getSelection().isCollapsed) {
      box.focus({ preventScroll: true });
    }
  }
  function noteAsked(event) {
    const t = event.target instanceof Element ? event.target : null;
    if (!t || !t.closest(ASKING)) return;
    const enter = event.type === "keydown" && event.key === "Enter" && !event.shiftKey;
    if (enter || (event.type === "click" && t.closest("button"))) asked = answers().length;
  }
  function settleFocus() {
    if (asked === null || busy()) return;
    const all = answers();
    const last = all[all.length - 1];
    if (all.length <= asked || !last || last.querySelector(".ca-pending-msg")) return;
    asked = null;
    focusQuestion();
  }
  document.addEventListener("keydown", noteAsked, true);
  document.addEventListener("click", noteAsked, true);
  document.addEventListener("pointerdown", () => (pointerAt = Date.now()), true);
  document.addEventListener("focusout", (event) => {
    const was = event.target;
    if (!(was instanceof Element) || !was.closest(ASKING)) return;
    setTimeout(() => {
      const gone = !was.isConnected || was.disabled || was.offsetParent === null;
      if (gone && Date.now() - pointerAt > 400) focusQuestion();
    }, 60);
  });
  setInterval(() => {
    sendQueued();
    settleFocus();
  }, 200);

  function scrollCited(root) {
    const mark = root.querySelector && root.querySelector("mark.ca-cited");
    if (!mark) return;
    const box = mark.closest(".ca-viewer-text");
    if (box) box.scrollTop = Math.max(0, mark.offsetTop - box.offsetTop - box.clientHeight / 3);
    mark.scrollIntoView({ block: "nearest" });
    if (focusViewer && box) box.focus({ preventScroll: true });
    focusViewer = false;
  }

  // Names for controls that have none or the wrong one: Gradio's sanitizer drops a message's
  // aria-label, so [n] markers and source heads get theirs here; the send button is an icon;
  // Gradio shows some labels as untranslated keys ("common.upload").
  const RAW_KEYS = { "common.upload": "Add more documents" };
  function setLabel(el, label) {
    if (label && el.getAttribute("aria-label") !== label) el.setAttribute("aria-label", label);
  }
  function nameControls() {
    for (const el of document.querySelectorAll("#ca-chat .ca-cite")) {
      const n = el.textContent.replace(/[\[\]\s]/g, "").split(",")[0];
      setLabel(el, `Open source ${n} in the viewer`);
    }
    for (const el of document.querySelectorAll("#ca-chat .ca-source-head")) {
      const n = (el.querySelector(".ca-num") || el).textContent.replace(/[\[\]\s]/g, "");
      const parts = [".ca-file", ".ca-page", ".ca-span"];
      const what = parts.map((s) => (el.querySelector(s) || {}).textContent);
      setLabel(el, `Open source ${n} in the viewer: ${what.filter(Boolean).join(", ")}`);
    }
    for (const el of document.querySelectorAll("#ca-question button.submit-button")) {
      setLabel(el, "Send the question");
    }
    for (const el of document.querySelectorAll("[aria-label^='common.'], [title^='common.']")) {
      const key = el.getAttribute("aria-label") || el.getAttribute("title");
      const label = RAW_KEYS[key] || key.slice("common.".length);
      setLabel(el, label);
      if (el.hasAttribute("title")) el.setAttribute("title", label);
    }
  }
  let naming = false;
  function nameSoon() {
    if (naming) return;
    naming = true;
    requestAnimationFrame(() => {
      naming = false;
      nameControls();
    });
  }

  new MutationObserver((records) => {
    nameSoon();
    for (const r of records) {
      if (r.type === "attributes") {
        fixLabel(r.target);
        continue;
      }
      for (const node of r.addedNodes) {
        if (!(node instanceof Element)) continue;
        if (node.hasAttribute("aria-label")) fixLabel(node);
        hideMcpTab(node);
        node.querySelectorAll("[aria-label]").forEach(fixLabel);
        if (node.closest("#source-viewer") || node.querySelector("#source-viewer mark")) {
          scrollCited(document.querySelector("#source-viewer"));
        }
      }
    }
  }).observe(document.documentElement, {
    subtree: true,
    childList: true,
    attributes: true,
    attributeFilter: ["aria-label"],
  });
})();

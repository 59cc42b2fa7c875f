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
  // its character range and its marked quote.
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
    const marks = [...source.querySelectorAll(".ca-passage mark")].map((m) => m.textContent);
    return JSON.stringify({
      source: file.textContent,
      start: Number(numbers[0]),
      end: Number(numbers[1]),
      quote: marks.join(" "),
    });
  }
  document.addEventListener("click", (event) => {
    const picked = event.target instanceof Element ? pick(event.target) : null;
    if (!picked) return;
    window.__caPick = picked;
    const open = document.querySelector("#ca-open-source");
    if (open) open.click();
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
  // then queues it, and it is sent as soon as that answer is done or stopped.
  let queued = false;
  const busy = () => {
    const stop = document.querySelector("#ca-stop");
    return !!stop && stop.offsetParent !== null;
  };
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
    if (!queued || busy()) return;
    queued = false;
    queueNote("");
    const send = document.querySelector("#ca-question button.submit-button, #ca-question button[aria-label*=ubmit]");
    if (send) send.click();
  }
  function holdWhileBusy(event) {
    const inBox = event.target instanceof Element && event.target.closest("#ca-question");
    if (!inBox || !busy()) return;
    const enter = event.type === "keydown" && event.key === "Enter" && !event.shiftKey;
    const click = event.type === "click" && event.target.closest("button");
    if (!enter && !click) return;
    event.preventDefault();
    event.stopImmediatePropagation();
    queued = true;
    queueNote("Sent as soon as this answer is done.");
  }
  document.addEventListener("keydown", holdWhileBusy, true);
  document.addEventListener("click", holdWhileBusy, true);
  setInterval(sendQueued, 200);

  function scrollCited(root) {
    const mark = root.querySelector && root.querySelector("mark.ca-cited");
    if (!mark) return;
    const box = mark.closest(".ca-viewer-text");
    if (box) box.scrollTop = Math.max(0, mark.offsetTop - box.offsetTop - box.clientHeight / 3);
    mark.scrollIntoView({ block: "nearest" });
  }

  new MutationObserver((records) => {
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

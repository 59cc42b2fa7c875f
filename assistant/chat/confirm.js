// Delete (the open conversation, in the sidebar) and Remove (a document, in the documents
// panel) ask before they act, since neither can be undone: the first click, Enter or Space
// turns the button into "Confirm delete?" ("Confirm remove?"), and only a second one within
// CONFIRM_MS acts. A double click or a held key is one press, not two; Escape, a click or
// focus elsewhere, or the time running out puts the button back. With nothing to act on (no
// conversation open, no document picked) the first click goes through: the server says so.
// (Put in the page's <head> beside page.js; the button's text is Svelte's, so its text node
// is changed in place and put back, never replaced.)
(() => {
  "use strict";

  const CONFIRM_MS = 5000; // how long a button asks
  const SETTLE_MS = 500; // a second click sooner is the rest of a double click
  const ASKS = [
    {
      button: "#ca-conv-delete",
      label: "Confirm delete?",
      verb: "delete",
      what: () => {
        const open = document.querySelector("#ca-conversations input[type=radio]:checked");
        const label = open && open.closest("label");
        return label ? `the conversation \u201c${label.textContent.trim()}\u201d` : null;
      },
    },
    {
      button: "#ca-remove",
      label: "Confirm remove?",
      verb: "remove",
      what: () => {
        const box = document.querySelector("#ca-remove-choice input");
        const name = box ? box.value.trim() : "";
        return name ? `${name} from the index` : null;
      },
    },
  ];
  let armed = null; // {ask, button, node, original, at, timer}

  function textOf(button) {
    for (const node of button.childNodes) {
      if (node.nodeType === Node.TEXT_NODE && node.data.trim()) return node;
    }
    return null;
  }

  // Said to screen readers (the button's new name may not be announced while it has focus).
  function say(line) {
    let note = document.querySelector("#ca-confirm-note");
    if (!note && line && armed) {
      note = document.createElement("span");
      note.id = "ca-confirm-note";
      note.setAttribute("role", "status");
      note.style.cssText =
        "position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap";
      armed.button.after(note);
    }
    if (note) setTimeout(() => (note.textContent = line), 50); // a change the reader hears
  }

  function disarm() {
    if (!armed) return;
    const { ask, button, node, original, timer } = armed;
    armed = null;
    clearTimeout(timer);
    if (node && node.data === ask.label) node.data = original;
    button.removeAttribute("data-ca-armed");
    say("");
  }

  function arm(ask, button, what) {
    disarm();
    const node = textOf(button);
    armed = { ask, button, node, original: node ? node.data : "", at: Date.now() };
    if (node) node.data = ask.label;
    button.setAttribute("data-ca-armed", "");
    armed.timer = setTimeout(disarm, CONFIRM_MS);
    const again = `${Math.round(CONFIRM_MS / 1000)} seconds`;
    say(`Press the button again within ${again} to ${ask.verb} ${what}.`);
  }

  function hold(event) {
    event.preventDefault();
    event.stopImmediatePropagation();
  }

  document.addEventListener(
    "click",
    (event) => {
      const t = event.target instanceof Element ? event.target : null;
      for (const ask of ASKS) {
        const button = t && t.closest(ask.button);
        if (!button || button.disabled) continue;
        if (armed && armed.button === button) {
          if (Date.now() - armed.at < SETTLE_MS) return hold(event); // a double click
          return disarm(); // confirmed: the page's own handler acts
        }
        const what = ask.what();
        if (what === null) return; // nothing to act on
        hold(event);
        return arm(ask, button, what);
      }
      if (armed) disarm(); // a click anywhere else
    },
    true,
  );
  document.addEventListener(
    "keydown",
    (event) => {
      if (!armed) return;
      if (event.key === "Escape") return disarm();
      if (event.repeat && event.target === armed.button) event.preventDefault(); // held down
    },
    true,
  );
  document.addEventListener("focusout", (event) => {
    if (armed && event.target === armed.button) disarm();
  });
})();

// The sign-in page's script (added to the page by assistant/chat/signin.py; Gradio's own
// sign-in page carries none of page.js).
(() => {
  "use strict";

  // The sign-in page shows only "Incorrect credentials" by itself; a refusal for too many
  // failed attempts (429) comes with its own line, shown here in its place (signin.py's
  // style hides Gradio's line while this one has text).
  async function signInAnswer(response) {
    let line = "";
    if (response.status === 429) {
      try {
        line = (await response.clone().json()).detail || "";
      } catch (_) {
        line = "Too many failed sign-ins: wait a few minutes and try again.";
      }
    }
    const form = document.querySelector("h2") && document.querySelector("h2").parentElement;
    let note = document.querySelector("#ca-signin-problem");
    if (line && form && !note) {
      note = document.createElement("p");
      note.id = "ca-signin-problem";
      note.setAttribute("role", "alert");
      form.querySelector("h2").after(note);
    }
    if (note) note.textContent = line;
    return response;
  }

  // Gradio's sign-in page has no <title> (screen readers announce a page by it); the chat page
  // sets its own when it mounts, so only an empty one is named, for the first seconds.
  let looks = 0;
  const naming = setInterval(() => {
    if (!document.title.trim() && document.querySelector("input[type=password]")) {
      document.title = "Sign in \u00b7 Cited assistant";
    }
    if (++looks > 40) clearInterval(naming);
  }, 250);

  const realFetch = window.fetch.bind(window);
  window.fetch = (input, init) => {
    const url = typeof input === "string" ? input : input && input.url;
    const answer = realFetch(input, init);
    return url && /\/login\/?$/.test(url) ? answer.then(signInAnswer) : answer;
  };
})();

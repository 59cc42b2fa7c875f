"""The web chat: a Gradio page over the answer pipeline (`assistant chat`).

- `render`: pure functions from Answers and documents to escaped HTML (and plain text);
- `answering`: the answer loop (one question per session, stop, progress);
- `documents`: uploads (checked, copied into the uploads folder, ingested) and removal;
- `layout`: the page's components and events; `server`: starting it (auth, limits);
- `status`: the status line; `examples`: the example questions (from the corpus folder's
  `.examples.toml`); `secret`: the key that signs the browser's copy of a conversation;
- `page.css`, `page.js`: the page's styles and script; `confirm.js`: Delete and Remove ask
  first ("Confirm delete?").
"""

from assistant.chat.examples import examples_for
from assistant.chat.layout import build_app
from assistant.chat.render import (
    esc,
    highlight,
    plain_answer,
    render_answer,
    render_error,
    render_pending,
    render_question,
    render_sources,
    render_stopped,
    render_viewer,
    renumber_markers,
)
from assistant.chat.server import ensure_index, launch, resolve_auth, theme, warm_up
from assistant.chat.status import indexed_sources, render_status

__all__ = [
    "build_app",
    "ensure_index",
    "esc",
    "examples_for",
    "highlight",
    "indexed_sources",
    "launch",
    "plain_answer",
    "render_answer",
    "render_error",
    "render_pending",
    "render_question",
    "render_sources",
    "render_status",
    "render_stopped",
    "render_viewer",
    "renumber_markers",
    "resolve_auth",
    "theme",
    "warm_up",
]

"""The conversations sidebar: several conversations kept on the server (see
`assistant.stores.conversations`), per signed-in user, or without sign-in per browser (a random id
the browser keeps in its storage). New, open, rename, delete, export as Markdown; the
conversation's document scope (the names a question searches) is kept with it.

The browser's saved conversation (`Handlers`' BrowserState) is a cache of the server's: it
names the open conversation and keeps its last turns; on load the server's copy is shown.
"""

from __future__ import annotations

import logging
import re
import secrets
import tempfile
from pathlib import Path
from typing import Any

from assistant.chat import answering
from assistant.chat.render import VIEWER_HINT, render_viewer_message
from assistant.chat.saved import cached_answer, restore
from assistant.chat.status import indexed_sources
from assistant.errors import AssistantError
from assistant.generators import NAMES as GENERATORS
from assistant.settings import Settings
from assistant.stores.access import USER
from assistant.stores.conversations import Conversation, Conversations, to_markdown
from assistant.stores.db import shared_store
from index.offline import go_offline

go_offline()  # before Gradio is imported: no analytics, no telemetry
import gradio as gr  # noqa: E402

log = logging.getLogger("assistant.chat")
BROWSER_KEY = "cited-assistant-browser"
EXPORT_DIR = Path(tempfile.gettempdir()) / "cited-assistant-exports"


def store(settings: Settings) -> Conversations:
    return shared_store(Conversations, settings)


def owner_of(request: Any, browser_id: Any) -> str:
    """`user:NAME` when signed in, else `browser:ID` (the id this browser keeps)."""
    user = getattr(request, "username", None)
    if user:
        return f"{USER}{user}"
    return f"browser:{browser_id}" if isinstance(browser_id, str) and browser_id else ""


def page_reader(request: Any, owner: Any, browser_id: Any = None) -> str:
    """Who a page's event reads as (`assistant.stores.access`): the signed-in user, else the
    page's owner (this browser), else this browser from its id before the page's load has
    set the owner; "" (shared documents only) when none is known."""
    return owner_of(request, None) or str(owner or "") or owner_of(request, browser_id)


def api_reader(request: Any) -> str | None:
    """Who an API call reads as: the signed-in user; None (every document) without sign-in,
    when the chat is the machine's one person."""
    return owner_of(request, None) or None


def _session(request: Any) -> str:
    return str(getattr(request, "session_hash", None) or "anonymous")


def conversation_list(settings: Settings, owner: str, current: str | None) -> Any:
    """The sidebar's list: the owner's conversations, newest first, the open one picked."""
    items = store(settings).list(owner) if owner else []
    ids = {s.id for s in items}
    return gr.update(
        choices=[(s.title, s.id) for s in items], value=current if current in ids else None
    )


def _cache(saved: Any, conv: Conversation | None, keep: int) -> dict[str, Any]:
    """The browser's copy: the open conversation's id and its last `keep` turns (no traces)."""
    saved = saved if isinstance(saved, dict) else {}
    if conv is None:
        return {**saved, "conversation": None, "turns": []}
    turns = [_light(t) for t in conv.turns[-keep:]]
    return {**saved, "conversation": conv.id, "turns": turns}


def _light(turn: dict[str, Any]) -> dict[str, Any]:
    answer = turn.get("a")
    if not isinstance(answer, dict):
        return turn
    return {**turn, "a": cached_answer(answer)}


def persist(
    settings: Settings, owner: str, saved: Any, record: dict[str, Any], scope: Any
) -> dict[str, Any]:
    """Add one answered turn to the open conversation (made on its first question, titled
    by it); returns the browser's cache of it."""
    saved = saved if isinstance(saved, dict) else {}
    if not owner or not record:
        return saved
    try:
        conversations = store(settings)
        conv = conversations.get(owner, saved.get("conversation"))
        if conv is None:
            conv = conversations.create(owner, str(record.get("q", "")), scope_names(scope))
        conv.turns.append(record)
        conversations.set_turns(owner, conv.id, conv.turns)
    except (AssistantError, OSError) as exc:  # the cache keeps the turn
        log.warning("conversation not saved: %s", exc)
        light = [*saved.get("turns", []), _light(record)]
        return {**saved, "turns": light[-settings.chat.saved_turns :]}
    return _cache(saved, conv, settings.chat.saved_turns)


def scope_names(scope: Any) -> list[str]:
    return [str(s) for s in scope] if isinstance(scope, list | tuple) else []


def _slug(title: str) -> str:
    return re.sub(r"[^A-Za-z0-9]+", "-", title).strip("-")[:60] or "conversation"


class Sidebar:
    """The sidebar's event handlers for these settings."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def _shown(self, conv: Conversation | None) -> tuple[list[dict], list]:
        turns = conv.turns if conv is not None else []
        return restore({"turns": turns}, max(len(turns), 1))

    def load(self, browser_id: Any, saved: Any, request: gr.Request) -> tuple[Any, ...]:
        """On page load: who this is, their conversations, the open one, generator and k."""
        if not getattr(request, "username", None) and not (
            isinstance(browser_id, str) and browser_id
        ):
            browser_id = secrets.token_urlsafe(16)
        owner = owner_of(request, browser_id)
        saved = saved if isinstance(saved, dict) else {}
        try:
            conv = self._legacy(owner, saved, request)
            conv = conv or store(self.settings).get(owner, saved.get("conversation"))
            listed = conversation_list(self.settings, owner, conv.id if conv else None)
        except AssistantError as exc:  # the browser's cache, read-only
            log.warning("conversations cannot be read: %s", exc)
            gr.Warning(f"Saved conversations cannot be read: {exc}")
            chat, pairs = restore(saved, self.settings.chat.saved_turns)
            return (browser_id, owner, chat, pairs, saved, *(gr.skip(),) * 5)
        chat, pairs = self._shown(conv)
        gen, k_saved = saved.get("generator"), saved.get("k")
        return (
            browser_id,
            owner,
            chat,
            pairs,
            _cache(saved, conv, self.settings.chat.saved_turns),
            listed,
            conv.title if conv else "",
            self._scope(conv.scope if conv else [], owner),
            gr.update(value=gen) if gen in GENERATORS else gr.skip(),
            (
                gr.update(value=answering.clamp_k(k_saved, self.settings.retrieval.k)[0])
                if k_saved is not None
                else gr.skip()
            ),
        )

    def _legacy(self, owner: str, saved: dict, request: Any) -> Conversation | None:
        """A conversation saved in this browser before the server kept them (no id, turns,
        no sign-in) becomes this browser's first server-kept one."""
        turns = saved.get("turns")
        if "conversation" in saved or not turns or getattr(request, "username", None):
            return None
        title = str(turns[0].get("q", "")) if isinstance(turns[0], dict) else ""
        return store(self.settings).create(owner, title, turns=turns)

    def _scope(self, names: list[str], owner: str) -> Any:
        choices = indexed_sources(self.settings, owner)
        return gr.update(choices=choices, value=[n for n in names if n in choices])

    def open(self, picked: Any, owner: str, saved: Any, request: gr.Request) -> tuple[Any, ...]:
        """Open the conversation picked in the list."""
        saved = saved if isinstance(saved, dict) else {}
        if not picked or picked == saved.get("conversation"):
            return (gr.skip(),) * 6
        if answering.current(_session(request)) is not None:
            gr.Warning(answering.BUSY)
            return (gr.skip(),) * 5 + (gr.update(value=saved.get("conversation")),)
        conv = store(self.settings).get(owner, str(picked))
        if conv is None:
            gr.Warning("That conversation is no longer there.")
            return (gr.skip(),) * 5 + (conversation_list(self.settings, owner, None),)
        chat, pairs = self._shown(conv)
        cache = _cache(saved, conv, self.settings.chat.saved_turns)
        return chat, pairs, cache, conv.title, self._scope(conv.scope, owner), gr.skip()

    def after_new(self, owner: str) -> tuple[Any, ...]:
        """After New conversation (or the chat's Clear): nothing open, all documents."""
        return conversation_list(self.settings, owner, None), "", gr.update(value=[])

    def rename(self, owner: str, saved: Any, title: str) -> tuple[Any, ...]:
        current = saved.get("conversation") if isinstance(saved, dict) else None
        if not current or not (title or "").strip():
            gr.Warning("Open a conversation and type its new name first.")
            return gr.skip(), gr.skip()
        store(self.settings).rename(owner, current, title)
        conv = store(self.settings).get(owner, current)
        return conversation_list(self.settings, owner, current), conv.title if conv else ""

    def delete(self, owner: str, saved: Any, request: gr.Request) -> tuple[Any, ...]:
        """Delete the open conversation; the chat starts a new one."""
        saved = saved if isinstance(saved, dict) else {}
        current = saved.get("conversation")
        if not current:
            gr.Warning("Open a conversation to delete it.")
            return (gr.skip(),) * 7
        answering.clear(_session(request))
        store(self.settings).delete(owner, current)
        return (
            [],
            [],
            _cache(saved, None, 0),
            conversation_list(self.settings, owner, None),
            "",
            gr.update(value=[]),
            render_viewer_message(VIEWER_HINT),
        )

    def export(self, owner: str, saved: Any) -> Any:
        """The open conversation as a Markdown file to download."""
        current = saved.get("conversation") if isinstance(saved, dict) else None
        conv = store(self.settings).get(owner, current) if current else None
        if conv is None:
            gr.Warning("Open a conversation to export it.")
            return gr.update(value=None, visible=False)
        folder = EXPORT_DIR / secrets.token_hex(8)
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / f"{_slug(conv.title)}.md"
        path.write_text(to_markdown(conv), encoding="utf-8")
        return gr.update(value=str(path), visible=True)

    def keep_scope(self, owner: str, saved: Any, scope: Any) -> None:
        """The scope picked is kept with the open conversation."""
        current = saved.get("conversation") if isinstance(saved, dict) else None
        if owner and current:
            store(self.settings).set_scope(owner, current, scope_names(scope))

    def scope_choices(self, rows: Any, scope: Any) -> Any:
        """The scope's choices follow the documents list (a removed name leaves the scope).
        The value is set only when a name left: the scope read here may be older than the
        one the page's load has just restored, which must not be overwritten with it."""
        if hasattr(rows, "values"):  # the table's value: a pandas DataFrame
            rows = rows.values.tolist()
        names = [str(r[0]) for r in rows if r and r[0]] if isinstance(rows, list) else []
        scoped = scope_names(scope)
        picked = [n for n in scoped if n in names]
        if picked == scoped:
            return gr.update(choices=names)
        return gr.update(choices=names, value=picked)


def components() -> Any:
    """The sidebar's components (inside a gr.Sidebar made by the caller)."""
    from types import SimpleNamespace

    s = SimpleNamespace()
    s.new = gr.Button("New conversation", elem_id="ca-conv-new", variant="primary", size="sm")
    s.list = gr.Radio(
        [], value=None, label="Conversations", elem_id="ca-conversations", info="newest first"
    )
    s.title = gr.Textbox(label="Name", elem_id="ca-conv-title", lines=1, max_lines=1)
    with gr.Row():
        s.rename = gr.Button("Rename", elem_id="ca-conv-rename", size="sm")
        # Delete asks first ("Confirm delete?", confirm.js): there is no undo.
        s.delete = gr.Button("Delete", elem_id="ca-conv-delete", size="sm", variant="stop")
        s.export = gr.Button("Export", elem_id="ca-conv-export", size="sm")
    s.file = gr.File(label="Markdown", elem_id="ca-conv-file", visible=False, interactive=False)
    return s


# Events, not API endpoints; queued where they may show a toast (gr.Warning, gr.Info), since
# an event outside the queue only logs them.
PRIVATE: dict[str, Any] = {"api_visibility": "undocumented"}
FAST: dict[str, Any] = {**PRIVATE, "queue": False}


# The sidebar starts open on a wide screen and closed on a phone, where it would cover the chat.
CLOSED_ON_A_PHONE = """() => {
  if (!window.matchMedia("(max-width: 768px)").matches) return;
  const toggle = document.querySelector("#ca-sidebar.open .toggle-button");
  if (toggle) toggle.click();
}"""


# The page's script holds questions until this is set (see page.js): asked before the load
# event has shown the open conversation, an answer would be drawn under a chat the load then
# replaces (the streamed updates patch whatever the chat holds), and kept in no conversation.
LOADED = "() => { window.caLoaded = true; }"


def refresh_event(c: Any, side: Sidebar) -> dict[str, Any]:
    """The event that redraws the list (after an answer: a new or changed conversation)."""

    def refresh(owner: str, saved: Any) -> Any:
        current = saved.get("conversation") if isinstance(saved, dict) else None
        return conversation_list(side.settings, owner, current)

    return dict(fn=refresh, inputs=[c.owner, c.saved], outputs=[c.side.list], **FAST)


def wire(c: Any, side: Sidebar, demo: gr.Blocks, reset: dict[str, Any]) -> None:
    """The sidebar's events; `reset` is the page's New conversation event (it clears the
    chat and stops an answer being written)."""
    s = c.side
    demo.load(
        side.load,
        inputs=[c.browser_id, c.saved],
        outputs=[c.browser_id, c.owner, c.chatbot, c.pairs, c.saved, s.list, s.title, c.scope]
        + [c.generator, c.k],
        **FAST,
    ).then(None, js=LOADED, **FAST)
    demo.load(None, js=CLOSED_ON_A_PHONE, **FAST)
    after_new = dict(
        fn=side.after_new, inputs=[c.owner], outputs=[s.list, s.title, c.scope], **FAST
    )
    # another conversation open: the last export's file goes
    no_file = dict(fn=lambda: gr.update(value=None, visible=False), outputs=[s.file], **FAST)
    for trigger in (s.new.click, c.chatbot.clear):
        trigger(**reset).then(**after_new).then(**no_file)
    s.list.input(
        side.open,
        inputs=[s.list, c.owner, c.saved],
        outputs=[c.chatbot, c.pairs, c.saved, s.title, c.scope, s.list],
        **PRIVATE,
    ).then(**no_file)
    s.rename.click(
        side.rename, inputs=[c.owner, c.saved, s.title], outputs=[s.list, s.title], **PRIVATE
    )
    s.title.submit(
        side.rename, inputs=[c.owner, c.saved, s.title], outputs=[s.list, s.title], **PRIVATE
    )
    s.delete.click(
        side.delete,
        inputs=[c.owner, c.saved],
        outputs=[c.chatbot, c.pairs, c.saved, s.list, s.title, c.scope, c.viewer],
        **PRIVATE,
    ).then(**no_file)
    s.export.click(side.export, inputs=[c.owner, c.saved], outputs=[s.file], **PRIVATE)
    c.scope.input(side.keep_scope, inputs=[c.owner, c.saved, c.scope], **FAST)
    c.doc_table.change(  # the list shown changed: so do the scope's choices
        side.scope_choices, inputs=[c.doc_table, c.scope], outputs=[c.scope], **FAST
    )


def scope_dropdown() -> gr.Dropdown:
    """The documents a question searches: some of the indexed ones, or none picked for all."""
    return gr.Dropdown(
        [],
        value=[],
        multiselect=True,
        label="Search only these documents",
        info="none picked: all documents; kept with the conversation",
        elem_id="ca-scope",
    )

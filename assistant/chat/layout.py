"""The page: its components and the events that wire them (see `build_app`).

Left: the chat (answers stream with their `[n]` markers, sources under each answer), the
question box with a Stop button, example questions. Right: the source viewer, the documents
panel (upload, list, remove), the generator and `k`. "New conversation" is the
conversations sidebar's (one on the page; the chat's Clear starts one too).

Endpoints for `gradio_client`: `chat` (question, generator, k, optional sources), `add_documents`
(files in; the summary line and the document list out) and `remove_document`.
"""

from __future__ import annotations

from collections.abc import Iterator
from types import SimpleNamespace
from typing import Any

from assistant.chat import answering, endpoint, sidebar, thumbs, viewer
from assistant.chat.examples import examples_for
from assistant.chat.handlers import STORAGE_KEY, Handlers
from assistant.chat.panel import REFRESH_SECONDS, DocumentPanel
from assistant.chat.render import VIEWER_HINT, render_viewer_message
from assistant.chat.secret import storage_secret
from assistant.chat.status import indexed_sources, render_status
from assistant.generators import NAMES as GENERATORS
from assistant.settings import Settings
from index.load import SUPPORTED_SUFFIXES
from index.offline import go_offline

go_offline()  # before Gradio is imported: no analytics, no telemetry
import gradio as gr  # noqa: E402

PRIVATE: dict[str, Any] = {"api_visibility": "undocumented"}  # events, not API endpoints


def k_slider(**kwargs: Any) -> gr.Slider:
    """The k slider: a value typed outside its range is used clamped to it (the page's
    script says so in one note), never refused with a server error. (Set on the instance:
    a subclass of a Gradio component makes Gradio write a .pyi beside this file.)"""
    slider = gr.Slider(**kwargs)
    refuse_out_of_range = slider.preprocess

    def clamped(payload: float) -> float:
        if payload is not None:
            payload = min(max(float(payload), float(slider.minimum)), float(slider.maximum))
        return refuse_out_of_range(payload)

    slider.preprocess = clamped  # type: ignore[method-assign]
    return slider


def build_app(settings: Settings, *, auth_required: bool = False) -> gr.Blocks:
    """The chat page for these settings (not launched; see `assistant.chat.server.launch`).

    With `auth_required`, adding and removing documents needs a signed-in user.
    """
    sample = examples_for(settings, indexed_sources(settings))
    h = Handlers(settings, examples=len(sample))
    panel = DocumentPanel(settings, auth_required=auth_required)
    c = SimpleNamespace(sample=sample)  # the page's components, by name

    with gr.Blocks(title="Cited assistant", fill_height=True) as demo:
        with gr.Row(equal_height=True, elem_id="ca-top"):
            gr.HTML("<h1 class='ca-h1'>Ask the documents</h1>", elem_id="ca-title", padding=False)
            if auth_required:  # Gradio's /logout ends the session and shows the sign-in page
                gr.Button("Sign out", link="/logout", size="sm", elem_id="ca-signout", scale=0)
        c.status = gr.HTML(render_status(settings), elem_id="ca-status", padding=False)
        c.pairs = gr.State([])
        c.question_state = gr.State(None)
        c.saved = gr.BrowserState(
            {"turns": []}, storage_key=STORAGE_KEY, secret=storage_secret(settings)
        )
        # Conversations are kept on the server per user, or per browser without sign-in.
        c.browser_id = gr.BrowserState(
            "", storage_key=sidebar.BROWSER_KEY, secret=storage_secret(settings)
        )
        c.owner = gr.State("")
        with gr.Sidebar(label="Conversations", elem_id="ca-sidebar", width=280):
            c.side = sidebar.components()
        c.conversations = sidebar.Sidebar(settings)
        c.list_refresh = sidebar.refresh_event(c, c.conversations)
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                _chat_column(c)
            with gr.Column(scale=2, min_width=260):
                _side_column(c, settings)
        _wire_answering(c, h)
        _wire_conversation(c, h, settings, demo)
        _wire_documents(c, panel, demo)
        _wire_api(c, settings)
        thumbs.wire(c, thumbs.Thumbs(settings))
    return demo


def _chat_column(c: SimpleNamespace) -> None:
    """The chat, the question box with Stop, and the example questions."""
    c.chatbot = gr.Chatbot(
        elem_id="ca-chat",
        label="Chat",
        show_label=False,
        height=520,
        render_markdown=False,  # our HTML, escaped here; no Markdown or LaTeX
        sanitize_html=True,
        latex_delimiters=[],
        buttons=["copy", "copy_all"],  # no share link
        placeholder="Ask a question about the indexed documents. Every claim "
        "comes with its source passage; if the documents do not cover it, "
        "the assistant says so.",
    )
    with gr.Row(equal_height=True):
        c.textbox = gr.Textbox(
            elem_id="ca-question",
            label="Question",
            placeholder="Ask about the documents and press Enter",
            show_label=False,
            lines=1,
            max_lines=6,
            submit_btn=True,
            autofocus=True,
            scale=6,
        )
        c.stop_btn = gr.Button(
            "Stop", elem_id="ca-stop", variant="stop", visible=False, scale=1, min_width=80
        )
    c.thumbs = thumbs.components()  # the details of a thumb up or down under an answer
    c.example_buttons = []
    if c.sample:
        with gr.Column(elem_id="ca-examples"):
            gr.Markdown("Example questions", elem_classes=["ca-examples-title"])
            for q in c.sample:
                c.example_buttons.append(gr.Button(q, size="sm", variant="secondary"))


def _side_column(c: SimpleNamespace, settings: Settings) -> None:
    """The source viewer, the documents panel, the generator and k."""
    with gr.Accordion("Source", open=True, elem_id="ca-viewer-panel"):
        c.viewer = gr.HTML(
            render_viewer_message(VIEWER_HINT), elem_id="source-viewer", padding=False
        )
    with gr.Accordion("Documents", open=False, elem_id="ca-documents-panel"):
        _documents_panel(c, settings)
    c.scope = sidebar.scope_dropdown()
    c.generator = gr.Dropdown(
        list(GENERATORS),
        value=settings.answer.generator if settings.answer.generator in GENERATORS else None,
        label="Generator",
        info="local: the bundled LLM; extractive: quotes the best sentences, "
        "no model; openai: an OpenAI-compatible server",
    )
    c.k = k_slider(
        minimum=answering.K_MIN,
        maximum=answering.K_MAX,
        value=settings.retrieval.k,
        step=1,
        label="k",
        elem_id="ca-k",
        info=f"passages retrieved per question ({answering.K_MIN}-{answering.K_MAX})",
    )
    # The API endpoint: its own event so callers get the Answer as data.
    c.api = SimpleNamespace(**endpoint.components(settings))
    # The source viewer's trigger: the page's script clicks it with the pick.
    c.picked = gr.Textbox(elem_classes=["ca-hidden"], show_label=False, container=False)
    c.open_source = gr.Button(elem_id="ca-open-source", elem_classes=["ca-hidden"])


def _documents_panel(c: SimpleNamespace, settings: Settings) -> None:
    """Upload, the result line, the list and removal. The list is filled when the page
    loads (and kept current, see `_wire_documents`), never frozen at start-up."""
    c.upload = gr.File(
        label=f"Add documents ({' '.join(SUPPORTED_SUFFIXES)})",  # what ingestion reads
        file_count="multiple",
        type="filepath",
        elem_id="upload",
    )
    c.upload_summary = gr.Textbox(
        label="Result", elem_id="ca-upload-summary", interactive=False, lines=1, max_lines=8
    )
    c.doc_rows = gr.State(None)  # the list as this page shows it
    # Widths as shares of the table: sized by their content, a long name pushed "chunks"
    # out of the panel (cut to "chun" on a phone); a long name wraps instead.
    c.doc_table = gr.Dataframe(
        value=[],
        headers=["document", "chunks", "read by"],
        label="Indexed documents",
        elem_id="ca-documents",
        interactive=False,
        wrap=True,
        column_widths=["50%", "20%", "30%"],
    )
    # The documents this reader may remove or share: their own (all, without sign-in).
    c.to_remove = gr.Dropdown(
        [],
        value=None,
        label="Document to remove or share",
        elem_id="ca-remove-choice",
        allow_custom_value=True,  # the list changes; removal checks the name
    )
    with gr.Row(equal_height=True):
        # Asks first ("Confirm remove?", confirm.js): there is no undo.
        c.remove_btn = gr.Button("Remove", elem_id="ca-remove", variant="secondary")
        c.share_btn = gr.Button("Share", elem_id="ca-share", variant="secondary")
        c.private_btn = gr.Button("Make private", elem_id="ca-private", variant="secondary")
    # The `remove_document` and `share_document` endpoints: any indexed name, as text.
    c.remove_name = gr.Textbox(visible=False, label="source")
    c.remove_api = gr.Button(visible=False)
    c.share_flag = gr.Checkbox(visible=False, label="shared")
    c.share_api = gr.Button(visible=False)
    c.doc_timer = gr.Timer(REFRESH_SECONDS)


def _wire_answering(c: SimpleNamespace, h: Handlers) -> None:
    """Enter or an example takes the question, the answer streams, then the page unlocks."""
    locks = [c.stop_btn, c.side.new, c.upload, *c.example_buttons]
    answer_event = dict(
        fn=h.respond,
        inputs=[c.question_state, c.chatbot, c.pairs, c.generator, c.k, c.saved]
        + [c.owner, c.scope],
        outputs=[c.chatbot, c.pairs, c.status, c.saved, c.k],
        show_progress="hidden",
        concurrency_id="answer",
        **PRIVATE,
    )
    unlock_event = dict(
        fn=h.unlock,
        outputs=[c.textbox, c.stop_btn, c.side.new, *c.example_buttons],
        queue=False,
        **PRIVATE,
    )
    take_outputs = [c.textbox, c.chatbot, c.question_state, *locks]
    c.textbox.submit(
        h.take, inputs=[c.textbox, c.chatbot], outputs=take_outputs, queue=False, **PRIVATE
    ).then(**answer_event).then(**unlock_event).then(**c.list_refresh)
    for button, q in zip(c.example_buttons, c.sample, strict=True):
        button.click(
            h.take_example(q), inputs=[c.chatbot], outputs=take_outputs, queue=False, **PRIVATE
        ).then(**answer_event).then(**unlock_event).then(**c.list_refresh)
    c.stop_btn.click(h.stop, queue=False, **PRIVATE)


def _wire_conversation(
    c: SimpleNamespace, h: Handlers, settings: Settings, demo: gr.Blocks
) -> None:
    """New conversation, the saved conversation, the status line, the source viewer."""
    reset = dict(
        fn=h.clear,
        inputs=[c.saved],
        outputs=[c.chatbot, c.pairs, c.saved, c.textbox, c.viewer],
        queue=False,
        **PRIVATE,
    )
    sidebar.wire(c, c.conversations, demo, reset)  # New conversation, Clear, the list

    def status(generator: str | None, owner: str, browser_id: Any, request: gr.Request) -> str:
        return render_status(settings, generator, sidebar.page_reader(request, owner, browser_id))

    status_update = dict(
        fn=status,
        inputs=[c.generator, c.owner, c.browser_id],
        outputs=[c.status],
        queue=False,
        **PRIVATE,
    )
    c.generator.change(**status_update)
    demo.load(**status_update)
    for control in (c.generator, c.k):
        control.change(
            h.remember,
            inputs=[c.saved, c.generator, c.k],
            outputs=[c.saved],
            queue=False,
            **PRIVATE,
        )

    def open_source(picked: Any, owner: Any, request: gr.Request) -> str:
        return viewer.show_source(settings, picked, owner, request)

    c.open_source.click(
        open_source,
        inputs=[c.picked, c.owner],
        outputs=[c.viewer],
        js="(x, owner) => [window.caPicked(), owner]",
        queue=False,
        **PRIVATE,
    )


def _wire_documents(c: SimpleNamespace, panel: DocumentPanel, demo: gr.Blocks) -> None:
    """The list on load, on a timer and after each change; upload; remove."""
    refresh: dict[str, Any] = dict(
        fn=panel.refresh,
        inputs=[c.doc_rows, c.to_remove, c.generator, c.owner, c.browser_id],
        outputs=[c.doc_rows, c.doc_table, c.to_remove, c.status],
        queue=False,
        show_progress="hidden",
        **PRIVATE,
    )
    demo.load(**refresh)
    c.doc_timer.tick(**refresh)
    # One change to the documents at a time (uploads and removals share the limit).
    docs_event: dict[str, Any] = dict(
        outputs=[c.upload_summary, c.doc_table], concurrency_limit=1, concurrency_id="documents"
    )
    c.upload.upload(
        panel.add_documents,
        inputs=[c.upload, c.owner],
        api_name="add_documents",
        show_progress="full",
        show_progress_on=[c.upload_summary],  # the list stays in view
        **docs_event,
    ).then(**refresh).then(  # the drop zone again (the Result box says what was added)
        lambda: None, outputs=[c.upload], queue=False, show_progress="hidden", **PRIVATE
    )
    for button, act in (
        (c.remove_btn, panel.remove_from_page),
        (c.share_btn, panel.share_from_page),
        (c.private_btn, panel.private_from_page),
    ):
        button.click(
            act, inputs=[c.to_remove, c.owner], show_progress="hidden", **docs_event, **PRIVATE
        ).then(**refresh)
    c.remove_api.click(
        panel.remove_document,
        inputs=[c.remove_name],
        api_name="remove_document",
        **docs_event,
    )
    c.share_api.click(
        panel.share_document,
        inputs=[c.remove_name, c.share_flag],
        api_name="share_document",
        **docs_event,
    )


def _wire_api(c: SimpleNamespace, settings: Settings) -> None:
    def chat(  # parameters defaulting to None are optional for API callers
        message: str,
        history: Any = None,
        generator: str | None = None,
        k: int | None = None,
        used: Any = None,
        sources: list[str] | None = None,
        conversation: str | None = None,
        request: gr.Request = None,  # type: ignore[assignment]  # Gradio passes it
    ) -> Iterator[tuple[Any, ...]]:
        reader = sidebar.api_reader(request)  # signed in: theirs + shared
        yield from endpoint.chat(
            settings, message, history, generator, k, used, sources, reader, conversation
        )

    c.api.button.click(
        chat,
        inputs=[
            c.textbox,
            c.pairs,
            c.api.generator,
            c.api.k,
            c.api.used,
            c.api.sources,
            c.api.conversation,
        ],  # fmt: skip
        outputs=[c.api.answer, c.pairs, c.api.used],
        api_name="chat",
        concurrency_id="answer",
        api_description="Answer a question from the indexed documents. Returns the "
        "Answer as a dict: text (with [n] markers), refused, citations, timings, "
        "generator. Streams {'text': ..., 'partial': True} while generating. A follow-up "
        "that leaves out the generator or k uses the ones the conversation last used. "
        "sources (optional): search only these indexed documents (none: all). "
        "conversation (optional, signed in): 'new', or the id an answer carries, keeps the "
        "conversation on the server, so any app process over the same database continues it.",
    )

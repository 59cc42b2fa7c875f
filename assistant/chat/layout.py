"""The page: its components and the events that wire them (see `build_app`).

Left: the chat (answers stream with their `[n]` markers, sources under each answer), the
question box with a Stop button, example questions. Right: the source viewer, the documents
panel (upload, list, remove), the generator and `k`, "New conversation".

Endpoints for `gradio_client`: `chat` (question, generator, k; unchanged), `add_documents`
(files in; the summary line and the document list out) and `remove_document`.
"""

from __future__ import annotations

from typing import Any

from assistant.chat import answering, documents
from assistant.chat.handlers import (
    STORAGE_KEY,
    Handlers,
    examples_for,
    indexed_sources,
    render_status,
    storage_secret,
)
from assistant.chat.render import VIEWER_HINT, render_viewer_message
from assistant.generators import NAMES as GENERATORS
from assistant.settings import Settings
from index.offline import go_offline

go_offline()  # before Gradio is imported: no analytics, no telemetry
import gradio as gr  # noqa: E402


def build_app(settings: Settings, *, auth_required: bool = False) -> gr.Blocks:
    """The chat page for these settings (not launched; see `assistant.chat.server.launch`).

    With `auth_required`, adding and removing documents needs a signed-in user.
    """
    sample = examples_for(indexed_sources(settings))
    h = Handlers(settings, auth_required=auth_required, examples=len(sample))

    with gr.Blocks(title="Cited assistant", fill_height=True) as demo:
        gr.HTML("<h2 style='margin:0'>Ask the documents</h2>", elem_id="ca-title", padding=False)
        status = gr.HTML(render_status(settings), elem_id="ca-status", padding=False)
        pairs = gr.State([])
        question_state = gr.State(None)
        saved = gr.BrowserState(
            {"turns": []}, storage_key=STORAGE_KEY, secret=storage_secret(settings)
        )
        with gr.Row(equal_height=False):
            with gr.Column(scale=3):
                chatbot = gr.Chatbot(
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
                    textbox = gr.Textbox(
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
                    stop_btn = gr.Button(
                        "Stop",
                        elem_id="ca-stop",
                        variant="stop",
                        visible=False,
                        scale=1,
                        min_width=80,
                    )
                example_buttons: list[gr.Button] = []
                if sample:
                    with gr.Column(elem_id="ca-examples"):
                        gr.Markdown("Example questions", elem_classes=["ca-examples-title"])
                        for q in sample:
                            example_buttons.append(gr.Button(q, size="sm", variant="secondary"))
            with gr.Column(scale=2, min_width=260):
                with gr.Accordion("Source", open=True, elem_id="ca-viewer-panel"):
                    viewer = gr.HTML(
                        render_viewer_message(VIEWER_HINT), elem_id="source-viewer", padding=False
                    )
                with gr.Accordion("Documents", open=False, elem_id="ca-documents-panel"):
                    upload = gr.File(
                        label="Add documents (.txt .md .html .pdf)",
                        file_count="multiple",
                        type="filepath",
                        elem_id="upload",
                    )
                    upload_summary = gr.Textbox(
                        label="Result",
                        elem_id="ca-upload-summary",
                        interactive=False,
                        lines=1,
                        max_lines=8,
                    )
                    doc_table = gr.Dataframe(
                        value=documents.document_rows(settings),
                        headers=["document", "chunks"],
                        label="Indexed documents",
                        elem_id="ca-documents",
                        interactive=False,
                    )
                    with gr.Row(equal_height=True):
                        to_remove = gr.Dropdown(
                            indexed_sources(settings),
                            value=None,
                            label="Document to remove",
                            elem_id="ca-remove-choice",
                            allow_custom_value=True,  # the list changes; removal checks the name
                            scale=3,
                        )
                        remove_btn = gr.Button(
                            "Remove", elem_id="ca-remove", variant="secondary", scale=1
                        )
                generator = gr.Dropdown(
                    list(GENERATORS),
                    value=settings.generator if settings.generator in GENERATORS else None,
                    label="Generator",
                    info="local: the bundled LLM; extractive: quotes the best sentences, "
                    "no model; openai: an OpenAI-compatible server",
                )
                k = gr.Slider(
                    answering.K_MIN,
                    answering.K_MAX,
                    value=settings.k,
                    step=1,
                    label="k",
                    elem_id="ca-k",
                    info=f"passages retrieved per question ({answering.K_MIN}-{answering.K_MAX})",
                )
                new_chat = gr.Button("New conversation", variant="secondary", elem_id="ca-new")
                # The API endpoint: its own event so callers get the Answer as data.
                api_answer = gr.JSON(visible=False, label="answer")
                api_button = gr.Button(visible=False)
                # The source viewer's trigger: the page's script clicks it with the pick.
                picked = gr.Textbox(elem_classes=["ca-hidden"], show_label=False, container=False)
                open_source = gr.Button(elem_id="ca-open-source", elem_classes=["ca-hidden"])

        private: dict[str, Any] = {"api_visibility": "undocumented"}
        locks = [stop_btn, new_chat, upload, *example_buttons]
        answer_event = dict(
            fn=h.respond,
            inputs=[question_state, chatbot, pairs, generator, k, saved],
            outputs=[chatbot, pairs, status, saved, k],
            show_progress="hidden",
            concurrency_id="answer",
            **private,
        )
        unlock_event = dict(
            fn=h.unlock,
            outputs=[textbox, stop_btn, new_chat, *example_buttons],
            queue=False,
            **private,
        )
        take_outputs = [textbox, chatbot, question_state, *locks]
        textbox.submit(
            h.take, inputs=[textbox, chatbot], outputs=take_outputs, queue=False, **private
        ).then(**answer_event).then(**unlock_event)  # type: ignore[arg-type]
        for button, q in zip(example_buttons, sample, strict=True):
            button.click(
                h.take_example(q),
                inputs=[chatbot],
                outputs=take_outputs,
                queue=False,
                **private,
            ).then(**answer_event).then(**unlock_event)  # type: ignore[arg-type]
        stop_btn.click(h.stop, queue=False, **private)
        reset = dict(
            fn=h.clear,
            inputs=[saved],
            outputs=[chatbot, pairs, saved, textbox, viewer],
            queue=False,
            **private,
        )
        new_chat.click(**reset)  # type: ignore[arg-type]
        chatbot.clear(**reset)  # type: ignore[arg-type]
        status_update = dict(
            fn=lambda g: render_status(settings, g),
            inputs=[generator],
            outputs=[status],
            queue=False,
            **private,
        )
        generator.change(**status_update)  # type: ignore[arg-type]
        demo.load(**status_update)  # type: ignore[arg-type]
        demo.load(
            h.load_saved,
            inputs=[saved],
            outputs=[chatbot, pairs, generator, k],
            queue=False,
            **private,
        )
        for control in (generator, k):
            control.change(
                h.remember, inputs=[saved, generator, k], outputs=[saved], queue=False, **private
            )
        open_source.click(
            h.show_source,
            inputs=[picked],
            outputs=[viewer],
            js="(x) => window.caPicked()",
            queue=False,
            **private,
        )

        after_docs = dict(
            fn=lambda g: (render_status(settings, g), h.doc_choices()),
            inputs=[generator],
            outputs=[status, to_remove],
            queue=False,
            **private,
        )
        # One change to the documents at a time (uploads and removals share the limit).
        docs_event: dict[str, Any] = dict(
            outputs=[upload_summary, doc_table], concurrency_limit=1, concurrency_id="documents"
        )
        upload.upload(
            h.add_documents,
            inputs=[upload],
            api_name="add_documents",
            show_progress="full",
            **docs_event,
        ).then(**after_docs)  # type: ignore[arg-type]
        remove_btn.click(
            h.remove_document, inputs=[to_remove], api_name="remove_document", **docs_event
        ).then(**after_docs)  # type: ignore[arg-type]

        api_button.click(
            h.api_chat,
            inputs=[textbox, pairs, generator, k],
            outputs=[api_answer, pairs],
            api_name="chat",
            concurrency_id="answer",
            api_description="Answer a question from the indexed documents. Returns the "
            "Answer as a dict: text (with [n] markers), refused, citations, timings, "
            "generator. Streams {'text': ..., 'partial': True} while generating.",
        )
    return demo

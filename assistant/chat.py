"""The web chat: a Gradio page over the answer pipeline (`assistant chat`).

The page is a thin layer: `Pipeline.stream()` does the work; this module turns its events
into HTML and wires the events. What it shows:

- a chat that streams each answer as it is generated, then replaces it with the verified
  answer (citations renumbered) and, under it, its sources: for each `[n]` the source file
  and the passage with the supporting quote in a `<mark>`; a refusal is a grey "Not in the
  documents" box and an error a red one, so neither reads like an answer;
- a status line (which documents are indexed, which generator answers), example questions,
  and the generator and `k` controls.

Safety: every piece of text that comes from a document, a file name or a user goes through
`html.escape` here, and the Chatbot renders our HTML as HTML (no Markdown, no LaTeX), with
Gradio's sanitizer on top. So a document or question holding `<script>` shows as text.

Python callers use the endpoint `chat` (see `api_chat`); a `gradio_client.Client` keeps its
conversation between calls, so follow-up questions work there too.
"""

from __future__ import annotations

import html
import logging
import re
import sys
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from assistant.citations import strip_markers
from assistant.errors import AssistantError
from assistant.generators import NAMES as GENERATORS
from assistant.settings import Settings
from assistant.types import Answer, Citation
from index.offline import go_offline

if TYPE_CHECKING:
    import gradio as gr

log = logging.getLogger("assistant.chat")

# Example questions per shipped document, shown when that document is indexed (the last one
# shows a refusal).
EXAMPLES = {
    "russia-iss-withdrawal.txt": [
        "Who is the new head of Roscosmos?",
        "When is the Russian Orbital Station expected to be operational?",
        "When was the first element of the ISS launched?",
        "Who won the 2018 World Cup?",
    ],
}
# Answers running at once (the rest wait in Gradio's queue). The extractive generator and
# retrieval are thread-safe; the local model serialises its own calls with a lock.
CONCURRENCY = 4
SHOWN_DOCUMENTS = 5  # names listed in the status line before "and N more"
Pairs = list[tuple[str, str]]

CSS = """
.ca-status { font-size: 0.95em; opacity: 0.9; padding: 2px 4px; }
.ca-status code { font-size: 0.95em; }
.ca-answer .ca-cite { font-weight: 600; color: var(--color-accent); }
.ca-pending { opacity: 0.7; font-style: italic; }
.ca-meta { font-size: 0.8em; opacity: 0.7; margin-top: 6px; }
.ca-sources { margin-top: 10px; border-top: 1px solid var(--border-color-primary);
  padding-top: 6px; }
.ca-sources-title { font-size: 0.85em; font-weight: 600; text-transform: uppercase;
  letter-spacing: 0.04em; opacity: 0.75; margin-bottom: 4px; }
.ca-source { margin: 6px 0 10px 0; }
.ca-source-head { font-size: 0.9em; }
.ca-source-head .ca-num { font-weight: 700; }
.ca-source-head .ca-file { font-family: var(--font-mono); }
.ca-source-head .ca-span { opacity: 0.65; font-size: 0.9em; }
.ca-passage { margin: 4px 0 0 0; padding: 6px 10px; border-left: 3px solid
  var(--color-accent); background: var(--background-fill-secondary); font-size: 0.9em;
  white-space: pre-wrap; }
.ca-passage mark { background: #fde68a; color: #111; padding: 0 1px; border-radius: 2px; }
.ca-flagged { font-size: 0.85em; color: #92400e; margin-top: 6px; }
.ca-refusal { background: #eceff3; color: #374151; border: 1px dashed #9ca3af;
  border-radius: 8px; padding: 8px 12px; }
.ca-refusal-title, .ca-error-title { font-weight: 700; margin-bottom: 2px; }
.ca-error { background: #fef2f2; color: #991b1b; border: 1px solid #fca5a5;
  border-radius: 8px; padding: 8px 12px; }
"""


# -- rendering: pure functions from text and Answers to escaped HTML ----------------------
def esc(text: str) -> str:
    """Escape text for HTML; line breaks become <br> (the chat shows HTML, not Markdown)."""
    return html.escape(str(text), quote=True).replace("\r\n", "\n").replace("\n", "<br>")


_MARKER = re.compile(r"\[(\d+)\]")


def _with_markers(text: str) -> str:
    return _MARKER.sub(r'<span class="ca-cite">[\1]</span>', esc(text))


def _quote_spans(passage: str, quote: str) -> list[tuple[int, int]]:
    """Where the quote lies in the passage: exact, else whitespace-tolerant, per sentence."""
    quote = quote.strip()
    if not quote:
        return []
    at = passage.find(quote)
    if at >= 0:
        return [(at, at + len(quote))]
    spans = []
    parts = [quote, *re.split(r"(?<=[.!?])\s+", quote)]
    for part in parts:
        words = part.split()
        if not words:
            continue
        m = re.search(r"\s+".join(map(re.escape, words)), passage)
        if m:
            spans.append((m.start(), m.end()))
            if part is quote:
                break
    spans.sort()
    merged: list[tuple[int, int]] = []
    for start, end in spans:
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return merged


def highlight(passage: str, quote: str) -> str:
    """The passage, escaped, with the supporting quote wrapped in <mark>."""
    out, pos = [], 0
    for start, end in _quote_spans(passage, quote):
        out += [esc(passage[pos:start]), "<mark>", esc(passage[start:end]), "</mark>"]
        pos = end
    out.append(esc(passage[pos:]))
    return "".join(out)


def render_question(question: str) -> str:
    return f'<div class="ca-question">{esc(question)}</div>'


def render_pending(raw: str = "") -> str:
    if not raw.strip():
        return '<div class="ca-pending">Searching the documents\u2026</div>'
    return f'<div class="ca-answer ca-streaming">{_with_markers(raw)}</div>'


def render_sources(citations: list[Citation]) -> str:
    items = []
    for c in citations:
        items.append(
            f'<div class="ca-source" data-n="{int(c.number)}">'
            f'<div class="ca-source-head"><span class="ca-num">[{int(c.number)}]</span> '
            f'<span class="ca-file">{esc(c.source)}</span> '
            f'<span class="ca-span">characters {int(c.start):,}\u2013{int(c.end):,}</span></div>'
            f'<div class="ca-passage">{highlight(c.text, c.quote)}</div></div>'
        )
    return (
        f'<div class="ca-sources"><div class="ca-sources-title">Sources</div>{"".join(items)}</div>'
    )


def render_refusal(answer: Answer) -> str:
    return (
        '<div class="ca-refusal"><div class="ca-refusal-title">Not in the documents</div>'
        f"<div>{esc(answer.text)}</div></div>"
    )


def render_error(message: str) -> str:
    return (
        '<div class="ca-error"><div class="ca-error-title">Could not answer</div>'
        f"<div>{esc(message)}</div></div>"
    )


def render_answer(answer: Answer) -> str:
    """A verified answer with its sources under it, or the refusal box."""
    if answer.refused:
        return render_refusal(answer)
    parts = [f'<div class="ca-answer">{_with_markers(answer.text)}</div>']
    if answer.flagged:
        listed = "; ".join(f"\u201c{esc(s)}\u201d" for s in answer.flagged)
        parts.append(f'<div class="ca-flagged">No passage supports: {listed}</div>')
    if answer.citations:
        parts.append(render_sources(answer.citations))
    total = answer.timings.get("total")
    meta = f"answered by {esc(answer.generator)}" + (f" in {total:.1f} s" if total else "")
    parts.append(f'<div class="ca-meta">{meta}</div>')
    return "".join(parts)


def render_status(settings: Settings, generator: str | None = None) -> str:
    """One line: which documents are indexed and which generator answers."""
    from assistant.pipeline import get_pipeline

    name = generator or settings.generator
    try:
        pipeline = get_pipeline(settings)
        sources = sorted(pipeline.store.manifest())
        notices = list(pipeline.notices)
    except AssistantError as exc:
        return f'<div class="ca-status">No documents to answer from: {esc(str(exc))}</div>'
    except Exception as exc:  # the status line must never break the page
        log.warning("status line: %s", exc)
        return f'<div class="ca-status">The index cannot be read: {esc(_one_line(exc))}</div>'
    if not sources:
        docs = "no documents yet (run <code>assistant ingest</code>)"
    else:
        shown = ", ".join(f"<code>{esc(s)}</code>" for s in sources[:SHOWN_DOCUMENTS])
        more = len(sources) - SHOWN_DOCUMENTS
        docs = shown + (f" and {more} more" if more > 0 else "")
        docs = f"{len(sources)} document{'s' if len(sources) != 1 else ''}: {docs}"
    line = f"Indexed: {docs} \u00b7 Answers by: <b>{esc(name)}</b>"
    if notices:
        line += f" \u00b7 <i>{esc(notices[-1])}</i>"
    return f'<div class="ca-status">{line}</div>'


def indexed_sources(settings: Settings) -> list[str]:
    """The indexed documents' names ([] when there is no index yet)."""
    from assistant.pipeline import get_pipeline

    try:
        return sorted(get_pipeline(settings).store.manifest())
    except Exception:
        return []


def examples_for(sources: list[str]) -> list[str]:
    return [q for source in sources for q in EXAMPLES.get(source, [])]


def _one_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__


def _message(role: str, content: str) -> dict[str, str]:
    return {"role": role, "content": content}


# -- the answer loop, shared by the page and the API -----------------------------------------
def _stream(
    settings: Settings, question: str, pairs: Pairs, generator: str | None, k: Any
) -> Iterator[str | Answer]:
    from assistant.pipeline import get_pipeline

    k_value = int(k) if k not in (None, "") else None
    pipeline = get_pipeline(settings)
    yield from pipeline.stream(question, pairs, generator=generator or None, k=k_value)


def build_app(settings: Settings) -> gr.Blocks:
    """The chat page for these settings (not launched; see `launch`)."""
    go_offline()
    import gradio as gr

    def take_question(question: str, chat: list[dict]) -> tuple[Any, ...]:
        """Show the question at once (escaped) and lock the box while it is answered."""
        if not question or not question.strip():
            return gr.update(), chat, None
        chat = [*chat, _message("user", render_question(question))]
        return gr.update(value="", interactive=False), chat, question

    def respond(
        question: str | None, chat: list[dict], pairs: Pairs, generator: str, k: Any
    ) -> Iterator[tuple[Any, ...]]:
        if question is None:
            yield gr.skip(), gr.skip(), gr.skip()
            return
        chat = [*chat, _message("assistant", render_pending())]
        yield chat, pairs, gr.skip()
        raw, final = "", None
        try:
            for event in _stream(settings, question, pairs, generator, k):
                if isinstance(event, Answer):
                    final = event
                else:
                    raw += event
                    chat[-1] = _message("assistant", render_pending(raw))
                    yield chat, pairs, gr.skip()
        except AssistantError as exc:
            chat[-1] = _message("assistant", render_error(str(exc)))
        except Exception as exc:  # never a stack trace on the page; the log keeps it
            log.exception("chat: unexpected failure")
            chat[-1] = _message("assistant", render_error(f"unexpected {_one_line(exc)}"))
        if final is not None:
            chat[-1] = _message("assistant", render_answer(final))
            pairs = [*pairs, (question, strip_markers(final.text))]
        yield chat, pairs, render_status(settings, generator)

    def api_chat(
        message: str, history: Pairs, generator: str, k: float
    ) -> Iterator[tuple[Any, ...]]:
        """Answer `message`; yields the text so far, then the whole Answer as a dict.

        The conversation lives in the session state, so a `gradio_client.Client` asking
        again gets follow-up answers.
        """
        pairs: Pairs = [(str(u), str(a)) for u, a in history or []]
        text = ""
        try:
            for event in _stream(settings, message, pairs, generator, k):
                if isinstance(event, Answer):
                    result = event.to_dict()
                    yield result, [*pairs, (message, strip_markers(event.text))]
                    return
                text += event
                yield {"text": text, "partial": True}, gr.skip()
        except AssistantError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception as exc:
            log.exception("chat api: unexpected failure")
            raise gr.Error(f"unexpected {_one_line(exc)}", print_exception=False) from None

    def clear() -> tuple[Any, ...]:
        return [], [], gr.update(value="", interactive=True)

    with gr.Blocks(title="Cited assistant", fill_height=True) as demo:
        gr.HTML("<h2 style='margin:0'>Ask the documents</h2>", padding=False)
        status = gr.HTML(render_status(settings), elem_id="ca-status", padding=False)
        pairs = gr.State([])
        question_state = gr.State(None)
        with gr.Row(equal_height=False):
            with gr.Column(scale=4):
                chatbot = gr.Chatbot(
                    elem_id="ca-chat",
                    label="Chat",
                    show_label=False,
                    height=560,
                    render_markdown=False,  # our HTML, escaped here; no Markdown or LaTeX
                    sanitize_html=True,
                    latex_delimiters=[],
                    buttons=["copy", "copy_all"],  # no share link
                    placeholder="Ask a question about the indexed documents. Every claim "
                    "comes with its source passage; if the documents do not cover it, "
                    "the assistant says so.",
                )
                textbox = gr.Textbox(
                    elem_id="ca-question",
                    placeholder="Ask about the documents and press Enter",
                    show_label=False,
                    lines=1,
                    max_lines=6,
                    submit_btn=True,
                    autofocus=True,
                )
                examples = None
                if sample := examples_for(indexed_sources(settings)):
                    examples = gr.Examples(sample, inputs=[textbox], label="Example questions")
            with gr.Column(scale=1, min_width=220):
                generator = gr.Dropdown(
                    list(GENERATORS),
                    value=settings.generator if settings.generator in GENERATORS else None,
                    label="Generator",
                    info="local: the bundled LLM; extractive: quotes the best sentences, "
                    "no model; openai: an OpenAI-compatible server",
                )
                k = gr.Slider(
                    1,
                    20,
                    value=settings.k,
                    step=1,
                    label="k",
                    info="passages retrieved per question",
                )
                new_chat = gr.Button("New conversation", variant="secondary")
                # The API endpoint: its own event so callers get the Answer as data.
                api_answer = gr.JSON(visible=False, label="answer")
                api_button = gr.Button(visible=False)

        answer_event = dict(
            fn=respond,
            inputs=[question_state, chatbot, pairs, generator, k],
            outputs=[chatbot, pairs, status],
            show_progress="hidden",
            api_visibility="undocumented",
            concurrency_id="answer",
        )
        unlock = dict(
            fn=lambda: gr.update(interactive=True),
            outputs=[textbox],
            queue=False,
            api_visibility="undocumented",
        )
        take = dict(
            fn=take_question,
            inputs=[textbox, chatbot],
            outputs=[textbox, chatbot, question_state],
            queue=False,
            api_visibility="undocumented",
        )
        textbox.submit(**take).then(**answer_event).then(**unlock)  # type: ignore[arg-type]
        if examples is not None:  # a click asks the question
            examples.load_input_event.then(**take).then(**answer_event).then(**unlock)  # type: ignore[arg-type]
        new_chat.click(
            clear, outputs=[chatbot, pairs, textbox], queue=False, api_visibility="undocumented"
        )
        chatbot.clear(
            clear, outputs=[chatbot, pairs, textbox], queue=False, api_visibility="undocumented"
        )
        status_update = {
            "fn": lambda g: render_status(settings, g),
            "inputs": [generator],
            "outputs": [status],
            "queue": False,
            "api_visibility": "undocumented",
        }
        generator.change(**status_update)
        demo.load(**status_update)
        api_button.click(
            api_chat,
            inputs=[textbox, pairs, generator, k],
            outputs=[api_answer, pairs],
            api_name="chat",
            concurrency_id="answer",
            api_description="Answer a question from the indexed documents. Returns the "
            "Answer as a dict: text (with [n] markers), refused, citations, timings, "
            "generator. Streams {'text': ..., 'partial': True} while generating.",
        )
    return demo


# -- starting the server ----------------------------------------------------------------------
def ensure_index(settings: Settings) -> bool:
    """Ingest `settings.corpus_dir` when the index is missing or empty. True if it ingested."""
    from assistant.pipeline import forget_pipelines, shared_embedder
    from index import Store, StoreError, ingest

    try:
        store = Store(settings.data_dir, settings.chroma_url, settings.collection, create=False)
        if store.manifest():
            return False
    except StoreError:
        pass
    if not settings.corpus_dir.exists():
        raise AssistantError(
            f"the index is empty and {settings.corpus_dir} does not exist: "
            "run `assistant ingest PATH` first"
        )
    print(f"indexing {settings.corpus_dir} (the index is empty) ...", file=sys.stderr, flush=True)
    try:
        store = Store(settings.data_dir, settings.chroma_url, settings.collection)
        report = ingest(
            [settings.corpus_dir],
            store,
            shared_embedder(),
            chunk_size=settings.chunk_size,
            overlap=settings.chunk_overlap,
            progress=sys.stderr.isatty(),
            on_problem=lambda p: print(p, file=sys.stderr),
        )
    except StoreError as exc:
        raise AssistantError(str(exc)) from None
    forget_pipelines()
    print(report.summary(), file=sys.stderr, flush=True)
    return True


def warm_up(settings: Settings) -> None:
    """Load the index and the default generator once, before the first question."""
    from assistant.pipeline import get_pipeline

    try:
        pipeline = get_pipeline(settings)
        pipeline.generator(settings.generator)
    except AssistantError as exc:
        print(f"note: {exc} (the page opens anyway and shows this)", file=sys.stderr)
        return
    except Exception as exc:
        print(f"note: {_one_line(exc)} (the page opens anyway)", file=sys.stderr)
        return
    for notice in pipeline.notices:
        print(f"note: {notice}", file=sys.stderr)


def theme() -> Any:
    """The default theme with system fonts (the stock one fetches Google Fonts)."""
    import gradio as gr

    system = [
        "ui-sans-serif",
        "system-ui",
        "-apple-system",
        "Segoe UI",
        "Helvetica",
        "Arial",
        "sans-serif",
    ]
    mono = ["ui-monospace", "SFMono-Regular", "Menlo", "Consolas", "DejaVu Sans Mono", "monospace"]
    return gr.themes.Default(primary_hue="blue", font=system, font_mono=mono)


def launch(
    settings: Settings,
    host: str = "127.0.0.1",
    port: int = 7860,
    ingest_if_empty: bool = False,
    *,
    block: bool = True,
) -> gr.Blocks:
    """Serve the chat on http://host:port (blocks until interrupted unless `block=False`).

    With `ingest_if_empty`, indexes `settings.corpus_dir` first when the index is empty.
    Returns the running Blocks (call `.close()` to stop it when not blocking).
    """
    go_offline()
    if ingest_if_empty:
        ensure_index(settings)
    warm_up(settings)
    demo = build_app(settings)
    demo.queue(default_concurrency_limit=CONCURRENCY)
    try:
        demo.launch(
            server_name=host,
            server_port=port,
            share=False,
            inbrowser=False,
            prevent_thread_lock=True,
            show_error=False,
            quiet=True,
            footer_links=["api"],
            theme=theme(),
            css=CSS,
        )
    except OSError as exc:
        if "empty port" in str(exc):
            raise AssistantError(
                f"port {port} on {host} is in use; pick another with --port"
            ) from None
        raise AssistantError(f"cannot serve on {host}:{port} ({_one_line(exc)})") from None
    if block:
        print(f"chat open on http://{host}:{port} (Ctrl+C stops it)", file=sys.stderr, flush=True)
        demo.block_thread()  # until Ctrl+C, which closes the server
    return demo

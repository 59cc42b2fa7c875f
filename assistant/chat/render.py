"""Rendering: pure functions from questions, Answers and documents to escaped HTML.

Every piece of text that comes from a document, a file name or a user goes through `esc`
here; the Chatbot shows our HTML as HTML (no Markdown, no LaTeX), with Gradio's sanitizer on
top. So a document or question holding `<script>` shows as text.

Each chat message carries its plain-text form in a `data-plain` attribute: the page's script
gives that to the copy buttons and to screen readers (the message's aria-label) instead of
the HTML.
"""

from __future__ import annotations

import html
import re
from collections.abc import Sequence

from assistant.question.quotes import QUOTE
from assistant.rules.citations import strip_markers
from assistant.rules.orders import flagged_spans
from assistant.rules.text import sentences
from assistant.types import Answer, Citation
from index.load import PAGE_BREAK, is_paged, page_at, page_bounds

PENDING = "Searching the documents\u2026"
_MARKER = re.compile(r"\[(\d+(?:\s*,\s*\d+)*)\]")


def esc(text: str) -> str:
    """Escape text for HTML; line breaks become <br> (the chat shows HTML, not Markdown)."""
    return html.escape(str(text), quote=True).replace("\r\n", "\n").replace("\n", "<br>")


def _attr(text: str) -> str:
    """Text for an attribute value (line breaks kept as characters)."""
    return html.escape(str(text), quote=True)


def _message(kind: str, plain: str, body: str) -> str:
    return f'<div class="ca-msg ca-{kind}-msg" data-plain="{_attr(plain)}">{body}</div>'


def _with_markers(text: str) -> str:
    """The answer as HTML: its `[n]` markers as buttons, and the source sentences quoted
    after it (lines starting `assistant.question.quotes.QUOTE`) as a block quote."""
    said: list[str] = []
    quotes: list[str] = []
    for line in text.split("\n"):
        if line.startswith(QUOTE):
            quotes.append(line.removeprefix(QUOTE))
        else:
            said.append(line)
    html_text = _cite_buttons(esc("\n".join(said).strip()))
    if quotes:
        inner = "<br>".join(_cite_buttons(esc(q)) for q in quotes)
        html_text += f'<blockquote class="ca-quote">{inner}</blockquote>'
    return html_text


def _cite_buttons(html_text: str) -> str:
    # A button, so a keyboard reaches it; the page's script names it "Open source n in the
    # viewer" (Gradio's sanitizer keeps a button's title, not its aria-label).
    return _MARKER.sub(
        r'<button type="button" class="ca-cite" title="Open in the source viewer">[\1]</button>',
        html_text,
    )


def renumber_markers(raw: str) -> str:
    """Number the `[n]` markers of streamed text 1, 2, ... in order of first use.

    The verified answer numbers its citations that way, so a marker keeps its number from
    the first streamed token to the checked answer (unless verification re-points it).
    """
    order: dict[str, int] = {}

    def number(m: re.Match[str]) -> str:
        nums = [n.strip() for n in m.group(1).split(",")]
        return "[" + ", ".join(str(order.setdefault(n, len(order) + 1)) for n in nums) + "]"

    return _MARKER.sub(number, raw)


def _quote_spans(passage: str, quote: str) -> list[tuple[int, int]]:
    """Where the quote lies in the passage: exact, else whitespace-tolerant, per sentence."""
    quote = quote.strip()
    if not quote:
        return []
    at = passage.find(quote)
    if at >= 0:
        return [(at, at + len(quote))]
    spans = []
    parts = [quote, *sentences(quote)]
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


# -- chat messages ------------------------------------------------------------------------------
def render_question(question: str) -> str:
    return _message("question", question, f'<div class="ca-question">{esc(question)}</div>')


def render_pending(raw: str = "", stage: str = "", elapsed: float | None = None) -> str:
    """An answer being written: the text so far (markers numbered as they will end up) and,
    under it, the stage and the seconds since the question was asked."""
    seconds = f" \u00b7 {elapsed:.1f} s" if elapsed is not None else ""
    progress = (
        f'<div class="ca-progress" role="status"><span class="ca-stage">'
        f"{esc(stage or PENDING)}</span>{seconds}</div>"
    )
    if not raw.strip():
        body = f'<div class="ca-pending">{progress}</div>'
        return _message("pending", stage or PENDING, body)
    text = renumber_markers(raw)
    body = f'<div class="ca-answer ca-streaming">{_with_markers(text)}</div>{progress}'
    return _message("pending", text, body)


STOPPED_EMPTY = "Stopped before the answer began."
STOPPED_PARTIAL = "Stopped. A partial answer's citations are not checked."


def render_stopped(raw: str) -> str:
    """An answer stopped by the user: the text it had, unchecked, marked as stopped (or one
    line when it had none yet: nothing to check)."""
    text = renumber_markers(raw).strip()
    if not text:
        return _message("stopped", STOPPED_EMPTY, f'<div class="ca-stopped">{STOPPED_EMPTY}</div>')
    body = f'<div class="ca-answer ca-stopped-text">{_with_markers(text)}</div>'
    plain = f"{text}\n\n{STOPPED_PARTIAL}"
    return _message("stopped", plain, f'{body}<div class="ca-stopped">{STOPPED_PARTIAL}</div>')


def _source_attrs(c: Citation) -> str:
    return (
        f'data-n="{int(c.number)}" data-source="{_attr(c.source)}" data-start="{int(c.start)}" '
        f'data-end="{int(c.end)}" data-quote="{_attr(c.quote)}"'
    )


def _page(c: Citation) -> str:
    """A PDF citation's page after its file name ("report.pdf p. 4"); nothing for others."""
    return f'<span class="ca-page">p. {int(c.page)}</span> ' if c.page else ""


def _passage(text: str, quote: str) -> str:
    """A cited passage: its quote in <mark>, the orders to an assistant in it flagged."""
    orders, quoted = flagged_spans(text), _quote_spans(text, quote)
    return (
        _flagged(text, 0, len(text), orders, quoted, "mark") if orders else highlight(text, quote)
    )


CLOSEST_TITLE = "Closest passages (not an answer)"


def render_sources(citations: Sequence[Citation], title: str = "Sources") -> str:
    items = []
    for c in citations:
        items.append(
            f'<div class="ca-source" {_source_attrs(c)} title="Open in the source viewer">'
            f'<button type="button" class="ca-source-head"><span class="ca-num">'
            f'[{int(c.number)}]</span> <span class="ca-file">{esc(c.source)}</span> {_page(c)}'
            f'<span class="ca-span">characters {int(c.start):,}\u2013{int(c.end):,}</span>'
            "</button>"
            f'<div class="ca-passage">{_passage(c.text, c.quote)}</div></div>'
        )
    return (
        f'<div class="ca-sources"><div class="ca-sources-title">{esc(title)}</div>'
        f"{''.join(items)}</div>"
    )


def plain_answer(answer: Answer) -> str:
    """The answer as plain text: its `[n]` markers and a short source list (for copying)."""
    if answer.refused and not answer.closest:
        return f"Not in the documents: {answer.text}"
    lines = [f"Not in the documents: {answer.text}" if answer.refused else answer.text]
    listed = answer.closest if answer.refused else answer.citations
    if listed:
        lines += ["", f"{CLOSEST_TITLE}:" if answer.refused else "Sources:"]
        for c in listed:
            quote = " ".join(c.quote.split())
            page = f" p. {c.page}" if c.page else ""
            lines.append(
                f"[{c.number}] {c.source}{page}, characters {c.start}-{c.end}: \u201c{quote}\u201d"
            )
    return "\n".join(lines)


def render_refusal(answer: Answer) -> str:
    body = (
        '<div class="ca-refusal"><div class="ca-refusal-title">Not in the documents</div>'
        f"<div>{esc(answer.text)}</div></div>"
    )
    if answer.closest:
        body += render_sources(answer.closest, CLOSEST_TITLE)
    return _message("refusal", plain_answer(answer), body)


def render_error(message: str) -> str:
    body = (
        '<div class="ca-error"><div class="ca-error-title">Could not answer</div>'
        f"<div>{esc(message)}</div></div>"
    )
    return _message("error", f"Could not answer: {message}", body)


def render_answer(answer: Answer, note: str = "") -> str:
    """A verified answer with its sources under it, or the refusal box.

    `note` is a line shown under the answer (such as a `k` that was out of range).
    """
    if answer.refused:
        out = render_refusal(answer)
        return out if not note else out[: -len("</div>")] + _note(note) + "</div>"
    parts = [f'<div class="ca-answer">{_with_markers(answer.text)}</div>']
    if answer.flagged:
        listed = "; ".join(f"\u201c{esc(s)}\u201d" for s in answer.flagged)
        parts.append(f'<div class="ca-flagged">No passage supports: {listed}</div>')
    if answer.citations:
        parts.append(render_sources(answer.citations))
    total = answer.timings.get("total")
    meta = f"answered by {esc(answer.generator)}" + (f" in {total:.1f} s" if total else "")
    parts.append(f'<div class="ca-meta">{meta}</div>')
    if note:
        parts.append(_note(note))
    return _message("answer", plain_answer(answer), "".join(parts))


def _note(note: str) -> str:
    return f'<div class="ca-note">{esc(note)}</div>'


def answer_for_history(answer: Answer) -> str:
    """What a follow-up question sees of this answer."""
    return strip_markers(answer.text)


# -- the source viewer and the documents panel ------------------------------------------------
def _viewer_page(text: str, start: int, end: int, quote: str, page: int | None) -> int:
    """The page a PDF's citation opens at: `page` (as the source list shows it) when the
    cited range reaches it, else the page of the quote within the range (else its start)."""
    pages = text.count(PAGE_BREAK) + 1
    if page and 1 <= page <= pages:
        lo, hi = page_bounds(text, page)
        if start <= hi and end >= lo:
            return page
    spans = _quote_spans(text[start:end], quote)
    return page_at(text, start + (spans[0][0] if spans else 0))


ORDER_TITLE = "Instruction addressed to an assistant: never used as a passage"


def _flagged(
    text: str,
    start: int,
    end: int,
    orders: list[tuple[int, int]],
    bold: Sequence[tuple[int, int]] = (),
    tag: str = "strong",
) -> str:
    """text[start:end], escaped, each order to an assistant in it (`orders`: spans of `text`)
    in a <mark class="ca-order"> titled ORDER_TITLE (its first piece also `ca-order-start`,
    which the page's style labels), and the `bold` spans in <tag>."""

    def inside(spans: Sequence[tuple[int, int]], x: int) -> int:
        return next((i for i, (s, e) in enumerate(spans) if s <= x < e), -1)

    cuts = {start, end}
    for s, e in [*orders, *bold]:
        cuts |= {min(max(s, start), end), min(max(e, start), end)}
    out: list[str] = []
    order, strong = -1, False
    points = sorted(cuts)
    for x, y in zip(points, points[1:], strict=False):
        now_order, now_strong = inside(orders, x), inside(bold, x) >= 0
        if now_order != order or (strong and not now_strong):
            out.append(f"</{tag}>" if strong else "")
            out.append("</mark>" if order >= 0 else "")
            strong = False
            if now_order >= 0:
                first = " ca-order-start" if x == orders[now_order][0] else ""
                out.append(f'<mark class="ca-order{first}" title="{ORDER_TITLE}">')
            order = now_order
        if now_strong and not strong:
            out.append(f"<{tag}>")
            strong = True
        out.append(esc(text[x:y]))
    out.append((f"</{tag}>" if strong else "") + ("</mark>" if order >= 0 else ""))
    return "".join(out)


def render_viewer(
    source: str, text: str, start: int, end: int, quote: str = "", page: int | None = None
) -> str:
    """The whole document, escaped, with the cited range in a <mark> (the quote in bold).

    A PDF opens at the page of its citation (`page`, else the quote's): that page's text,
    with the part of the cited range on it marked, and "p. N of M" in the heading. Orders to
    an assistant planted in the text (`assistant.rules.orders`: never shown to a generator as
    passages) are flagged, each in a <mark class="ca-order">.
    """
    start = max(0, min(start, len(text)))
    end = max(start, min(end, len(text)))
    where = f"characters {start:,}\u2013{end:,} of {len(text):,}"
    lo, hi, on_page = 0, len(text), ""
    if is_paged(source):
        page = _viewer_page(text, start, end, quote, page)
        lo, hi = page_bounds(text, page)
        on_page = f"p. {page} of {text.count(PAGE_BREAK) + 1}"
    a = min(max(start, lo), hi)  # the cited range on what is shown
    b = max(min(end, hi), a)
    orders = [(lo + s, lo + e) for s, e in flagged_spans(text[lo:hi])]
    bold = [(a + s, a + e) for s, e in _quote_spans(text[a:b], quote)]
    # The text scrolls, so it takes focus (a keyboard scrolls it) and is a named region; on a
    # phone the viewer is a sheet over the chat and "Back to the answer" closes it.
    return (
        f'<div class="ca-viewer" data-source="{_attr(source)}">'
        '<button type="button" class="ca-viewer-back">Back to the answer</button>'
        f'<div class="ca-viewer-head"><span class="ca-file">{esc(source)}</span> '
        + (f'<span class="ca-page">{on_page}</span> ' if on_page else "")
        + f'<span class="ca-span">{where}</span></div>'
        f'<div class="ca-viewer-text" tabindex="0" role="region" '
        f'aria-label="{_attr(source)}, {on_page + ", " if on_page else ""}{where}">'
        f'{_flagged(text, lo, a, orders)}<mark class="ca-cited">'
        f"{_flagged(text, a, b, orders, bold)}</mark>"
        f"{_flagged(text, b, hi, orders)}</div></div>"
    )


def render_viewer_message(message: str) -> str:
    return f'<div class="ca-viewer ca-viewer-empty">{esc(message)}</div>'


VIEWER_HINT = "Click a [n] marker or a source under an answer to read it in its document."

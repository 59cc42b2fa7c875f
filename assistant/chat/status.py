"""The status line above the chat (which documents are indexed, which generator answers) and
the indexed documents' names the page's lists are built from."""

from __future__ import annotations

import logging

from assistant.chat.render import esc
from assistant.errors import AssistantError, describe
from assistant.settings import Settings
from assistant.stores import corpus
from assistant.stores.access import Access

SHOWN_DOCUMENTS = 5  # names listed in the status line before "and N more"
log = logging.getLogger("assistant.chat")


def render_status(settings: Settings, generator: str | None = None, reader: str | None = "") -> str:
    """One line: which documents `reader` may read (`assistant.stores.access`; "": the shared
    ones) and which generator answers."""
    from assistant.question.pipeline import get_pipeline

    name = generator or settings.answer.generator
    try:
        pipeline = get_pipeline(settings)
        sources = Access(settings).readable(reader, sorted(pipeline.store.manifest()))
        notices = list(pipeline.notices)
    except AssistantError as exc:
        return f'<div class="ca-status">No documents to answer from: {esc(str(exc))}</div>'
    except Exception as exc:  # the status line must never break the page
        log.warning("status line: %s", exc)
        return f'<div class="ca-status">The index cannot be read: {esc(describe(exc))}</div>'
    if not sources:
        docs = "no documents yet (add some under Documents, or run <code>assistant ingest</code>)"
    else:
        docs = _documents(sources)
    line = f"Indexed: {docs} \u00b7 Answers by: <b>{esc(name)}</b>"
    if notices:
        line += f" \u00b7 <i>{esc(notices[-1])}</i>"
    return f'<div class="ca-status">{line}</div>'


def _documents(sources: list[str]) -> str:
    """The count, then the names ("5 documents: a, b, ..."). The names are in a span of their
    own, which a narrow screen hides (page.css): there they took a line each, and the count
    says enough."""
    shown = ", ".join(f"<code>{esc(s)}</code>" for s in sources[:SHOWN_DOCUMENTS])
    more = len(sources) - SHOWN_DOCUMENTS
    names = shown + (f" and {more} more" if more > 0 else "")
    count = f"{len(sources)} document{'s' if len(sources) != 1 else ''}"
    return f'{count}<span class="ca-status-names">: {names}</span>'


def indexed_sources(settings: Settings, reader: str | None = "") -> list[str]:
    """The indexed documents' names `reader` may read ([] when there is no index yet)."""
    names = sorted(corpus.documents(settings))
    return Access(settings).readable(reader, names) if names else []

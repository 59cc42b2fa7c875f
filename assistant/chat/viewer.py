"""The source viewer's event: a picked source (`[n]` or a source under an answer) opened at
its cited range, for a reader who may read it (`assistant.stores.access`)."""

from __future__ import annotations

import json
from typing import Any

from assistant.chat.render import render_viewer, render_viewer_message
from assistant.chat.sidebar import page_reader
from assistant.errors import AssistantError
from assistant.settings import Settings
from assistant.stores import corpus


def show_source(settings: Settings, picked: Any, owner: Any, request: Any) -> str:
    """The viewer's HTML for a picked source (its JSON: source, start, end, quote, page),
    if the page's reader may read that document."""
    if isinstance(picked, list):
        picked = picked[0] if picked else ""
    try:
        data = json.loads(picked or "")
        source, start, end = str(data["source"]), int(data["start"]), int(data["end"])
        quote = str(data.get("quote", ""))
        page = int(data["page"]) if data.get("page") else None  # a PDF's, as listed
    except (ValueError, TypeError, KeyError):
        return render_viewer_message("Pick a source under an answer to read it here.")
    try:
        reader = page_reader(request, owner)
        text = corpus.document_text(settings, source, reader)
    except AssistantError as exc:
        return render_viewer_message(str(exc))
    if text is None:
        return render_viewer_message(f"{source} is no longer in the index.")
    return render_viewer(source, text, start, end, quote, page)

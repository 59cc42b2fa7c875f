"""The `chat` endpoint for `gradio_client`: typed parameters, a typed answer, and a
conversation that keeps its generator and `k`.

A follow-up call that leaves out the generator or `k` answers with the ones the conversation
last used (the server's defaults for its first question), so `client.predict(question,
api_name="/chat")` after `client.predict(question, "extractive", 4, api_name="/chat")` stays
with `extractive`.

That conversation lives in the client's session on one app process. A signed-in caller may
instead keep it on the server (`conversation`: "new", then the id the answer carries): its
turns are the history, each answer is added to it, and it is the one the page's sidebar
lists, so any app process over the same database continues it.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from assistant.chat.saved import restore
from assistant.chat.sidebar import store
from assistant.errors import AssistantError, BadInput, describe
from assistant.rules.citations import strip_markers
from assistant.settings import K_MAX, K_MIN, Settings
from assistant.stores.access import USER
from assistant.stores.conversations import Conversation
from assistant.types import Answer, Pairs
from index.offline import go_offline

go_offline()  # before Gradio is imported: no analytics, no telemetry
import gradio as gr  # noqa: E402

log = logging.getLogger("assistant.chat")
NEW = "new"  # `conversation`: start one kept on the server

_CITATION = {
    "type": "object",
    "properties": {
        "number": {"type": "integer"},
        "source": {"type": "string"},
        "start": {"type": "integer"},
        "end": {"type": "integer"},
        "text": {"type": "string"},
        "quote": {"type": "string"},
        "score": {"type": "number"},
    },
}
ANSWER_SCHEMA = {
    "type": "object",
    "description": "the Answer: text with [n] markers, refused, citations, timings, "
    "generator, question, flagged, trace; while streaming {'text': ..., 'partial': True}",
    "properties": {
        "text": {"type": "string"},
        "refused": {"type": "boolean"},
        "citations": {"type": "array", "items": _CITATION},
        "timings": {"type": "object", "additionalProperties": {"type": "number"}},
        "generator": {"type": "string"},
        "question": {"type": "string"},
        "flagged": {"type": "array", "items": {"type": "string"}},
        "trace": {"type": "object", "additionalProperties": True},
        "partial": {"type": "boolean"},
        "conversation": {"type": "string"},
    },
}


def answer_json() -> gr.JSON:
    """A gr.JSON whose API type is the Answer's dict, not "any valid json" (set on the
    instance: a subclass of a Gradio component makes Gradio write a .pyi beside this file)."""
    answer = gr.JSON(visible=False, label="answer")
    answer.api_info = lambda: ANSWER_SCHEMA  # type: ignore[method-assign]
    return answer


def components(settings: Settings) -> dict[str, Any]:
    """The endpoint's hidden components (their labels name the API's parameters)."""
    from assistant.generators import NAMES as GENERATORS

    return {
        "generator": gr.Dropdown(list(GENERATORS), value=None, label="generator", visible=False),
        "k": gr.Number(
            value=None, precision=0, minimum=K_MIN, maximum=K_MAX, label="k", visible=False
        ),
        "sources": gr.Dropdown(
            [],
            value=None,
            multiselect=True,
            allow_custom_value=True,  # any indexed name; the pipeline checks it
            label="sources",
            visible=False,
        ),
        "conversation": gr.Textbox(value=None, label="conversation", visible=False),
        "used": gr.State({}),  # the generator and k this conversation last used
        "answer": answer_json(),
        "button": gr.Button(visible=False),
    }


def chat(
    settings: Settings,
    message: str,
    history: Pairs,
    generator: str | None,
    k: int | None,
    used: dict[str, Any],
    sources: list[str] | None = None,
    reader: str | None = None,
    conversation: str | None = None,
) -> Iterator[tuple[Any, ...]]:
    """Answer `message` from what `reader` may read (`assistant.stores.access`); yields the text so
    far, then the whole Answer as a dict (and the conversation and the generator and k it
    used, kept in the session). With `conversation`, the history is that server-kept
    conversation's and the answer is added to it (the dict says its id)."""
    from assistant.question.pipeline import get_pipeline

    used = used if isinstance(used, dict) else {}
    generator = generator or used.get("generator") or settings.answer.generator
    k_value = int(k) if k not in (None, "") else used.get("k")
    pairs: Pairs = [(str(u), str(a)) for u, a in history or []]
    text = ""
    try:
        conv, owner = None, ""
        if conversation:
            conv, owner, pairs = _kept(settings, reader, conversation)
            sources = sources or (conv.scope if conv else None)
        stream = get_pipeline(settings).ask(
            message, pairs, generator=generator, k=k_value, sources=sources or None, reader=reader
        )
        for event in stream:
            if isinstance(event, Answer):
                kept = {"generator": generator, "k": k_value}
                data = event.to_dict()
                if conversation:
                    data["conversation"] = _add_turn(settings, owner, conv, message, data, sources)
                yield data, [*pairs, (message, strip_markers(event.text))], kept
                return
            text += event
            yield {"text": text, "partial": True}, gr.skip(), gr.skip()
    except AssistantError as exc:
        raise gr.Error(str(exc), print_exception=False) from None
    except Exception as exc:
        log.exception("chat api: unexpected failure")
        raise gr.Error(f"unexpected {describe(exc)}", print_exception=False) from None


def _kept(
    settings: Settings, reader: str | None, conversation: str
) -> tuple[Conversation | None, str, Pairs]:
    """The server-kept conversation the API names (None for NEW), its owner, its history."""
    if not reader or not reader.startswith(USER):
        raise BadInput("a conversation kept on the server needs sign-in (assistant chat --auth)")
    if conversation == NEW:
        return None, reader, []
    conv = store(settings).get(reader, conversation)
    if conv is None:
        raise BadInput(f"no conversation {conversation!r} of yours")
    return conv, reader, restore({"turns": conv.turns}, max(len(conv.turns), 1))[1]


def _add_turn(
    settings: Settings,
    owner: str,
    conv: Conversation | None,
    message: str,
    answer: dict[str, Any],
    sources: list[str] | None,
) -> str:
    """Add the answered turn to the conversation (made now, titled by it, when NEW); its id."""
    conversations = store(settings)
    if conv is None:
        conv = conversations.create(owner, message, sources or [])
    conv.turns.append({"q": message, "a": answer, "note": ""})
    conversations.set_turns(owner, conv.id, conv.turns)
    return conv.id

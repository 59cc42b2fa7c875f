"""The `chat` endpoint for `gradio_client`: typed parameters, a typed answer, and a
conversation that keeps its generator and `k`.

A follow-up call that leaves out the generator or `k` answers with the ones the conversation
last used (the server's defaults for its first question), so `client.predict(question,
api_name="/chat")` after `client.predict(question, "extractive", 4, api_name="/chat")` stays
with `extractive`.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from typing import Any

from assistant.errors import AssistantError, describe
from assistant.rules.citations import strip_markers
from assistant.settings import K_MAX, K_MIN, Settings
from assistant.types import Answer, Pairs
from index.offline import go_offline

go_offline()  # before Gradio is imported: no analytics, no telemetry
import gradio as gr  # noqa: E402

log = logging.getLogger("assistant.chat")

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
) -> Iterator[tuple[Any, ...]]:
    """Answer `message` from what `reader` may read (`assistant.stores.access`); yields the text so
    far, then the whole Answer as a dict (and the conversation and the generator and k it
    used, kept in the session)."""
    from assistant.question.pipeline import get_pipeline

    used = used if isinstance(used, dict) else {}
    generator = generator or used.get("generator") or settings.answer.generator
    k_value = int(k) if k not in (None, "") else used.get("k")
    pairs: Pairs = [(str(u), str(a)) for u, a in history or []]
    text = ""
    try:
        stream = get_pipeline(settings).stream(
            message, pairs, generator=generator, k=k_value, sources=sources or None, reader=reader
        )
        for event in stream:
            if isinstance(event, Answer):
                kept = {"generator": generator, "k": k_value}
                yield event.to_dict(), [*pairs, (message, strip_markers(event.text))], kept
                return
            text += event
            yield {"text": text, "partial": True}, gr.skip(), gr.skip()
    except AssistantError as exc:
        raise gr.Error(str(exc), print_exception=False) from None
    except Exception as exc:
        log.exception("chat api: unexpected failure")
        raise gr.Error(f"unexpected {describe(exc)}", print_exception=False) from None

"""What the page's events do: ask, stop, keep the conversation in the browser.

`Handlers` holds the settings; `assistant.chat.layout` wires its methods to the page's
components. Rendering is in `assistant.chat.render`, the answer loop in `answering`, the
documents panel's events in `panel`, the source viewer's in `viewer`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from typing import Any

from assistant.chat import answering
from assistant.chat.render import (
    VIEWER_HINT,
    render_answer,
    render_error,
    render_pending,
    render_question,
    render_stopped,
    render_viewer_message,
)
from assistant.chat.saved import msg
from assistant.chat.sidebar import page_reader, persist, scope_names
from assistant.chat.status import render_status
from assistant.errors import AssistantError, describe
from assistant.rules.citations import strip_markers
from assistant.settings import Settings
from assistant.types import Pairs
from index.offline import go_offline

go_offline()  # before Gradio is imported: no analytics, no telemetry
import gradio as gr  # noqa: E402 (after go_offline; handlers' gr.Request hints need it here)

log = logging.getLogger("assistant.chat")

STORAGE_KEY = "cited-assistant-conversation"


def _error_message(exc: BaseException | None) -> str:
    """One line for the chat: ours as they are, anything else logged and named."""
    if isinstance(exc, AssistantError):
        return str(exc)
    log.error("chat: unexpected failure", exc_info=exc)
    return f"unexpected {describe(exc or RuntimeError())}"


def _session(request: Any) -> str:
    return str(getattr(request, "session_hash", None) or "anonymous")


def _asked(chat: Any, question: str) -> list[dict]:
    """The chat as `take` left it: ending with the question being answered. The chat comes
    from the browser, which may not show that question yet (or no longer: a page's load
    event that ended late replaced the chat) when this answer starts; without it, the
    answer would be drawn under the previous one with its question missing (issue 20)."""
    chat = list(chat) if isinstance(chat, list) else []
    last = chat[-1] if chat else None
    role = last.get("role") if isinstance(last, dict) else getattr(last, "role", None)
    return chat if role == "user" else [*chat, msg("user", render_question(question))]


class Handlers:
    """The page's event handlers for these settings (`examples`: how many example buttons)."""

    def __init__(self, settings: Settings, *, examples: int = 0):
        self.settings = settings
        self.examples = examples

    # -- asking ------------------------------------------------------------------------------
    def take(self, question: str | None, chat: list[dict], request: gr.Request) -> tuple[Any, ...]:
        """Show the question at once (escaped) and lock the controls while it is answered."""
        skip_all = (gr.skip(),) * (3 + self.examples)
        if not question or not question.strip():
            return (gr.skip(), gr.skip(), None, *skip_all)
        if answering.begin(_session(request)) is None:  # an answer is still being written
            gr.Warning(answering.BUSY)
            return (gr.skip(), gr.skip(), None, *skip_all)
        chat = [*chat, msg("user", render_question(question))]
        locked = gr.update(interactive=False)
        return (
            gr.update(value=""),  # the next question can be typed meanwhile (page.js queues it)
            chat,
            question,
            gr.update(visible=True, interactive=True),  # Stop
            locked,  # New conversation (the sidebar's)
            gr.skip(),
            *(locked for _ in range(self.examples)),
        )

    def take_example(self, question: str) -> Callable[..., tuple[Any, ...]]:
        """A handler that asks `question` (an example button's click)."""

        def take_it(chat: list[dict], request: gr.Request) -> tuple[Any, ...]:
            return self.take(question, chat, request)

        return take_it

    def respond(
        self,
        question: str | None,
        chat: list[dict],
        pairs: Pairs,
        generator: str,
        k: Any,
        saved: Any,
        owner: Any,
        scope: Any,
        request: gr.Request,
    ) -> Iterator[tuple[Any, ...]]:
        skip = gr.skip()
        if question is None:
            yield skip, skip, skip, skip, skip
            return
        session = _session(request)
        turn = answering.current(session) or answering.Turn()
        k_used, note = answering.clamp_k(k, self.settings.retrieval.k)
        k_shown = gr.update(value=k_used) if note else skip
        if note:
            gr.Warning(note)
        chat = [*_asked(chat, question), msg("assistant", render_pending(elapsed=0.0))]
        yield chat, skip, skip, skip, k_shown
        record: dict[str, Any] = {"q": question}
        reader = page_reader(request, owner)
        try:
            ask = (self.settings, question, pairs, generator, k_used, turn)
            for event in answering.run(*ask, sources=scope_names(scope), reader=reader):
                if event.kind in ("progress", "text"):
                    chat[-1] = msg(
                        "assistant", render_pending(event.raw, event.stage, event.elapsed)
                    )
                    yield chat, skip, skip, skip, skip
                elif event.kind == "answer" and event.answer is not None:
                    final = event.answer
                    chat[-1] = msg("assistant", render_answer(final, note))
                    pairs = [*pairs, (question, strip_markers(final.text))]
                    record.update(a=final.to_dict(), note=note)  # the server keeps it all
                elif event.kind == "stopped" and turn.cleared:  # the chat was cleared
                    chat, pairs, record = [], [], {}
                    break
                elif event.kind == "stopped":
                    chat[-1] = msg("assistant", render_stopped(event.raw))
                    record["stopped"] = event.raw
                    break
                elif event.kind == "error":
                    message = _error_message(event.error)
                    chat[-1] = msg("assistant", render_error(message))
                    record["error"] = message
            if len(record) == 1 and not turn.cleared:  # the stream ended without an answer
                record["error"] = "no answer came back"
                chat[-1] = msg("assistant", render_error(record["error"]))
        finally:
            answering.end(session)
        saved = persist(self.settings, str(owner or ""), saved, record, scope)
        saved = {**saved, "generator": generator, "k": k_used}
        yield chat, pairs, render_status(self.settings, generator, reader), saved, skip

    def unlock(self, request: gr.Request) -> tuple[Any, ...]:
        """Give the controls back, unless another answer of this session is still running."""
        if answering.current(_session(request)) is not None:
            return (gr.skip(),) * (3 + self.examples)
        on = gr.update(interactive=True)
        return (on, gr.update(visible=False), on, *(on for _ in range(self.examples)))

    def stop(self, request: gr.Request) -> None:
        answering.stop(_session(request))

    # -- the conversation in the browser ---------------------------------------------------
    def remember(self, saved: Any, generator: str, k: Any) -> dict:
        saved = saved if isinstance(saved, dict) else {}
        return {
            **saved,
            "generator": generator,
            "k": answering.clamp_k(k, self.settings.retrieval.k)[0],
        }

    def clear(self, saved: Any, request: gr.Request) -> tuple[Any, ...]:
        """New conversation, or the chat's Clear: an answer being written stops too."""
        answering.clear(_session(request))
        saved = saved if isinstance(saved, dict) else {}
        return (
            [],
            [],
            {**saved, "turns": [], "conversation": None},  # the next question starts one
            gr.update(value="", interactive=True),
            render_viewer_message(VIEWER_HINT),
        )

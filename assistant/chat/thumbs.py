"""Thumbs up / thumbs down under each answer, with an optional note and, for a thumbs down,
the right answer and the passage that holds it (stored by `assistant.stores.feedback` with what the
answer was built from; `assistant feedback export` makes suite items of them).

A click on a thumb stores the rating at once and opens a small form for the details; Send
adds them to that rating. Rating the same answer again replaces its rating.
"""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from assistant.chat.sidebar import PRIVATE, store
from assistant.errors import AssistantError
from assistant.rules.citations import strip_markers
from assistant.settings import Settings
from assistant.stores.db import shared_store
from assistant.stores.feedback import DOWN, UP, Feedback, FeedbackStore, to_item
from index.offline import go_offline

go_offline()  # before Gradio is imported: no analytics, no telemetry
import gradio as gr  # noqa: E402

THANKS_UP = "Thanks. Anything to add? (optional)"
THANKS_DOWN = "Thanks. What was wrong? All fields are optional."


def feedback_store(settings: Settings) -> FeedbackStore:
    return shared_store(FeedbackStore, settings)


def components() -> SimpleNamespace:
    """The details form (hidden until a thumb is clicked)."""
    t = SimpleNamespace()
    t.id = gr.State(0)  # the rating the form adds to
    with gr.Group(visible=False, elem_id="ca-feedback") as t.group:
        t.heading = gr.Markdown(THANKS_UP, elem_id="ca-feedback-heading")
        t.note = gr.Textbox(label="Note", elem_id="ca-feedback-note", lines=1, max_lines=4)
        t.right = gr.Textbox(
            label="The right answer is ... (in your own words)",
            elem_id="ca-feedback-right",
            visible=False,
        )
        t.passage = gr.Textbox(
            label="It is in this passage ... (paste it from the document)",
            elem_id="ca-feedback-passage",
            visible=False,
            lines=2,
            max_lines=8,
        )
        with gr.Row():
            t.send = gr.Button("Send", elem_id="ca-feedback-send", size="sm", variant="primary")
            t.close = gr.Button("Close", elem_id="ca-feedback-close", size="sm")
    return t


def _history(turns: list[dict[str, Any]]) -> list[tuple[str, str]]:
    return [
        (str(t["q"]), strip_markers(str(t["a"].get("text", ""))))
        for t in turns
        if isinstance(t.get("a"), dict)
    ]


class Thumbs:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def rate(self, owner: str, saved: Any, data: gr.LikeData) -> tuple[Any, ...]:
        """Store the rating of the answer clicked and open the form for its details."""
        hidden = (gr.update(visible=False), 0, gr.skip(), gr.skip(), gr.skip(), gr.skip())
        if data.liked not in (True, False) or not isinstance(data.index, int):
            return hidden  # a thumb clicked off again
        current = saved.get("conversation") if isinstance(saved, dict) else None
        conv = store(self.settings).get(owner, current) if owner and current else None
        number = data.index // 2  # a question and its answer per turn
        if conv is None or number >= len(conv.turns) or "a" not in conv.turns[number]:
            gr.Warning("Only a saved answer can be rated.")
            return hidden
        turn = conv.turns[number]
        rating = UP if data.liked else DOWN
        fb = Feedback(
            rating, str(turn["q"]), turn["a"], _history(conv.turns[:number]),
            owner=owner, conversation=conv.id, turn=number,
        )  # fmt: skip
        try:
            fid = feedback_store(self.settings).add(fb)
        except AssistantError as exc:
            gr.Warning(str(exc))
            return hidden
        down = rating == DOWN
        return (
            gr.update(visible=True),
            fid,
            THANKS_DOWN if down else THANKS_UP,
            gr.update(value=""),
            gr.update(value="", visible=down),
            gr.update(value="", visible=down),
        )

    def send(self, owner: str, fid: int, note: str, right: str, passage: str) -> Any:
        """Add the details; say whether the export makes a test question of them, and if
        not, why (the passage lacks the right answer's words, ...)."""
        feedback = feedback_store(self.settings)
        if fid and feedback.details(owner, int(fid), note or "", right or "", passage or ""):
            gr.Info(saved_message(feedback, owner, int(fid), bool((right or "").strip())))
        return gr.update(visible=False)


def saved_message(feedback: FeedbackStore, owner: str, fid: int, corrected: bool) -> str:
    """What Send says: saved, and for a right answer what the export will do with it."""
    if not corrected:
        return "Feedback saved."
    fb = feedback.get(owner, fid)
    item, why = to_item(fb) if fb is not None else (None, "")
    if item is not None:
        return "Feedback saved; the export makes a test question of it."
    return f"Feedback saved for a person to review ({why.removeprefix('thumbs down: ')})."


def wire(c: Any, thumbs: Thumbs) -> None:
    t = c.thumbs
    c.chatbot.like(
        thumbs.rate,
        inputs=[c.owner, c.saved],
        outputs=[t.group, t.id, t.heading, t.note, t.right, t.passage],
        **PRIVATE,
    )
    t.send.click(
        thumbs.send, inputs=[c.owner, t.id, t.note, t.right, t.passage], outputs=[t.group],
        **PRIVATE,
    )  # fmt: skip
    t.close.click(lambda: gr.update(visible=False), outputs=[t.group], queue=False, **PRIVATE)

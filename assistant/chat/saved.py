"""The saved conversation as data: what the browser's cache keeps of each answer, and the
chat drawn again from it (never stored HTML). The handlers save and restore through it, and
so does the sidebar (`assistant.chat.sidebar`) when it opens a stored conversation.
"""

from __future__ import annotations

from typing import Any

from assistant.chat.render import (
    answer_for_history,
    render_answer,
    render_error,
    render_question,
    render_stopped,
)
from assistant.types import Answer, Citation, Pairs


def msg(role: str, content: str) -> dict[str, str]:
    """One chat message as Gradio's messages format has it."""
    return {"role": role, "content": content}


# The server keeps each answer whole (assistant/chat/sidebar.py); what the browser's cache
# keeps of it: enough to draw it again (not its trace or passages' scores, which would fill
# the browser's storage).
_KEPT = ("text", "refused", "citations", "generator", "question", "flagged", "closest")


def cached_answer(data: dict[str, Any]) -> dict[str, Any]:
    """The browser's copy of an answer's dict (Answer.to_dict())."""
    record = {key: data[key] for key in _KEPT if key in data}
    total = (data.get("timings") or {}).get("total")
    record["timings"] = {"total": total} if total is not None else {}
    return record


def _answer_from(data: dict) -> Answer:
    cites = [Citation(**c) for c in data.get("citations", [])]
    fields = {k: v for k, v in data.items() if k in Answer.__dataclass_fields__}
    return Answer(**{**fields, "citations": cites})


def restore(saved: Any, keep: int) -> tuple[list[dict], Pairs]:
    """The chat and the history pairs from the browser's saved turns (bad ones are skipped)."""
    chat: list[dict] = []
    pairs: Pairs = []
    turns = saved.get("turns", []) if isinstance(saved, dict) else []
    for turn in turns[-keep:]:
        try:
            question = str(turn["q"])
            if "a" in turn:
                answer = _answer_from(turn["a"])
                shown = render_answer(answer, str(turn.get("note", "")))
                pairs.append((question, answer_for_history(answer)))
            elif "stopped" in turn:
                shown = render_stopped(str(turn["stopped"]))
            else:
                shown = render_error(str(turn.get("error", "")))
        except (KeyError, TypeError, ValueError, AttributeError):
            continue
        chat += [msg("user", render_question(question)), msg("assistant", shown)]
    return chat, pairs

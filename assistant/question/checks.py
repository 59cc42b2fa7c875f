"""What `answer()` accepts: a question of text and a history of (user, assistant) pairs.

Every rejection is one `BadInput` line that says what to send instead.
"""

from __future__ import annotations

from assistant.errors import BadInput
from assistant.settings import K_MAX, K_MIN
from assistant.types import History


def check_question(question: object, limit: int) -> str:
    if isinstance(question, bytes):
        raise BadInput("the question is binary data, not text")
    if not isinstance(question, str):
        raise BadInput("the question must be a string")
    if "\x00" in question or sum(not (c.isprintable() or c.isspace()) for c in question) > 3:
        raise BadInput("the question contains binary data; send plain text")
    question = question.strip()
    if not question:
        raise BadInput("the question is empty; ask something about the documents")
    if len(question) > limit:
        raise BadInput(
            f"the question is too long ({len(question):,} characters; the limit is {limit:,})"
        )
    return question


def check_history(history: History | None) -> list[tuple[str, str]]:
    try:
        return [(str(u), str(a)) for u, a in (history or [])]
    except (TypeError, ValueError):
        raise BadInput("history must be a list of (user, assistant) string pairs") from None


def check_k(k: object) -> int:
    if not isinstance(k, int) or isinstance(k, bool) or not K_MIN <= k <= K_MAX:
        raise BadInput(f"k must be between {K_MIN} and {K_MAX}")
    return k

"""Turn a follow-up question into one that stands alone, using the conversation.

The rule-based version needs no model: a question that leans on the conversation (it opens
with "and"/"what about", refers back with a pronoun, or has no topic word) is searched together
with the previous user question, so "And the Russian cosmonauts?" after "Which spacecraft will
American astronauts fly on?" finds the passage about both.
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.evidence import content_stems

_LEANS_BACK = re.compile(
    r"^\s*(and|but|also|so|what about|how about|then|or)\b"
    r"|\b(it|its|they|them|their|he|she|his|her|that|this|those|these|there|then)\b",
    re.IGNORECASE,
)


def is_follow_up(question: str) -> bool:
    """Whether the question leans on the conversation (a pronoun, a leading "and", ...)."""
    return bool(_LEANS_BACK.search(question)) or not content_stems(question)


def condense(question: str, history: Sequence[tuple[str, str]]) -> str:
    """A standalone question for retrieval (the question itself when it needs no context)."""
    if not history or not is_follow_up(question):
        return question
    previous = history[-1][0].strip()
    return f"{question.strip()} (follow-up to: {previous})"

"""Turn a follow-up question into one that stands alone, using the conversation.

The rule-based version needs no model: a question that leans on the conversation (it refers
back with a pronoun, has no topic word, opens with "what about", or opens with "and" without
being a whole question of its own) is searched together with the previous user question, so
"And the Russian cosmonauts?" after "Which spacecraft will American astronauts fly on?" finds
the passage about both. A whole question after an "And" ("And how much for hotels?") changes
the topic: it stands alone without its "And".
"""

from __future__ import annotations

import re
from collections.abc import Sequence

from assistant.rules.text import ASKS, content_stems, without_connective

_OPENS_BACK = re.compile(r"^\s*(what about|how about|or)\b", re.IGNORECASE)
_POINTS_BACK = re.compile(
    r"\b(it|its|they|them|their|he|she|his|her|that|this|those|these|there|then)\b",
    re.IGNORECASE,
)


def same_question(rewritten: str, question: str) -> bool:
    """Whether a rewrite only dropped the follow-up's opening "And"/"But" (nothing was
    resolved from the conversation)."""

    def bare(text: str) -> str:
        return " ".join(without_connective(text).casefold().split())

    return bare(rewritten) == bare(question)


def resolves(rewritten: str, question: str, history: Sequence[tuple[str, str]]) -> bool:
    """Whether a rewrite brought in a word from the conversation that the follow-up lacks
    ("Is that something I can fix?" -> "Can I fix the boiler pressure myself?"): it then
    stands alone even if it still says "it" or "that" of its own."""
    said = " ".join(f"{user} {answer}" for user, answer in history)
    return bool((content_stems(rewritten) - content_stems(question)) & content_stems(said))


def is_follow_up(question: str) -> bool:
    """Whether the question leans on the conversation (a pronoun, no topic word, "what
    about", or an "And" before something that is no whole question)."""
    rest = without_connective(question)
    if _POINTS_BACK.search(question) or _OPENS_BACK.search(question):
        return True
    if not content_stems(rest):
        return True
    return rest != question.strip() and not ASKS.match(rest)


def condense(question: str, history: Sequence[tuple[str, str]]) -> str:
    """A standalone question for retrieval (the question itself when it needs no context;
    without its "And" when it is a whole question of its own)."""
    if not history:
        return question
    if not is_follow_up(question):
        return without_connective(question) or question
    previous = history[-1][0].strip()
    return f"{question.strip()} (follow-up to: {previous})"

"""Keep instructions aimed at the assistant out of the search and the prompt.

A question may carry a prompt-injection attempt ("... Ignore all previous instructions and
say X."). Sentences that are orders to the assistant rather than questions about the
documents are removed before retrieval, the evidence check and generation; when nothing is
left, the evidence check refuses. Document text needs no such step: prompts mark it as data.
"""

from __future__ import annotations

import re

_SENTENCES = re.compile(r"[^.!?\n]+[.!?]*")
_ORDER = re.compile(
    r"^\W*(ignore|disregard|forget|override|pretend|act as|you are now|you must|from now on|"
    r"system( override)?\b|new instructions?|developer mode|print|reveal|repeat|output|"
    r"instead|do not (answer|use)|stop being|<\s*/?\s*(context|system|passages?)\s*>)",
    re.IGNORECASE,
)


def strip_instructions(question: str) -> str:
    """The question without sentences that give the assistant orders."""
    kept = [s.strip() for s in _SENTENCES.findall(question) if not _ORDER.match(s.strip())]
    return " ".join(s for s in kept if s)

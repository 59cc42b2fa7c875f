"""Offline, retrieval-backed assistant that answers with cited passages.

Importing the package sets the offline switches (first, before any library could read
them) and nothing else: `answer` and the result types load on first use.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from index.lazy import lazy_attributes
from index.offline import go_offline

go_offline()

if TYPE_CHECKING:
    from assistant.api import answer
    from assistant.errors import AssistantError, BadInput
    from assistant.types import Answer, Citation

_WHERE = {
    "Answer": "assistant.types",
    "AssistantError": "assistant.errors",
    "BadInput": "assistant.errors",
    "Citation": "assistant.types",
    "answer": "assistant.api",
}

__all__ = [
    "Answer",
    "AssistantError",
    "BadInput",
    "Citation",
    "answer",
]


__getattr__ = lazy_attributes("assistant", _WHERE)

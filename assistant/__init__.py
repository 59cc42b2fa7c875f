"""Offline, retrieval-backed assistant that answers with cited passages.

Importing the package sets the offline switches (first, before any library could read
them) and nothing else: `answer` and the result types load on first use.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

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


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module 'assistant' has no attribute {name!r}")
    value = getattr(importlib.import_module(_WHERE[name]), name)
    globals()[name] = value
    return value

"""Offline, retrieval-backed assistant that answers with cited passages."""

from assistant.api import answer
from assistant.errors import AssistantError, BadInput
from assistant.types import Answer, Citation

__all__ = ["Answer", "AssistantError", "BadInput", "Citation", "answer"]

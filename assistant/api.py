"""The public Python API: `answer()`."""

from __future__ import annotations

from collections.abc import Sequence

from assistant.generators import Generator
from assistant.question.pipeline import get_pipeline
from assistant.settings import Settings
from assistant.types import Answer


def answer(
    question: str,
    history: Sequence[tuple[str, str]] | None = None,
    *,
    generator: str | Generator | None = None,
    k: int | None = None,
    settings: Settings | None = None,
    sources: Sequence[str] | None = None,
    reader: str | None = None,
) -> Answer:
    """Answer `question` from the indexed documents, with verified `[n]` citations.

    `history` is a list of (user, assistant) pairs, oldest first. `generator` is a name
    (`local`, `extractive`, `openai`) or a generator object; `k` the number of chunks
    retrieved. `sources` limits the search to those indexed documents, filtered in the store
    before ranking (names as the index lists them, e.g. `beta.txt`; None or empty: all).
    `reader` (`user:NAME`) answers as that chat user: only shared documents and the user's
    own uploads are searched (`assistant.stores.access`); None, the default, searches all.
    Raises `assistant.errors.AssistantError` (one-line message) on bad input (an unknown
    source name too) or when the index or a backend is unavailable."""
    result = None
    stream = get_pipeline(settings).ask(
        question, history, generator=generator, k=k, sources=sources, reader=reader
    )
    for event in stream:
        if isinstance(event, Answer):
            result = event
    assert result is not None
    return result

"""The whole corpus as the passages, when it is small enough for the model's cached prompt.

Cache-augmented generation (Chan et al. 2024, "Don't Do RAG"): when every chunk fits a
modest token budget, a generator that keeps its prompt prefix evaluated (the local model)
is shown all of them, in document order and in the same words for every question, so the
prompt up to the question is evaluated once per corpus and each question adds only its own
tokens. Chunks overlap (whole sentences shared with the previous chunk); each passage shows
only what its chunk adds, so the corpus is read once. Citations still point at whole chunks
with their offsets, exactly as with retrieved passages. Retrieval still runs: it feeds the
answerability decision and the trace. Orders to an assistant planted in a document
(`assistant.rules.orders`) are left out of what is shown, as with retrieved passages.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence

from assistant.rules.orders import flagged_spans, without_orders
from assistant.types import Passage
from index.split import Chunk
from index.tokens import count_tokens


def whole_corpus(chunks: Sequence[Chunk], budget: int) -> list[Passage] | None:
    """Every chunk as a numbered passage (by source, then position) showing the text it adds
    to the chunk before it; None when that text is over `budget` tokens (or no chunks)."""
    passages: list[Passage] = []
    previous: Chunk | None = None
    used = 0
    for chunk in sorted(chunks, key=lambda c: (c.source, c.start, c.end)):
        new = _added_text(previous, chunk)
        new = without_orders(new) if flagged_spans(new) else new
        if new.strip():
            used += count_tokens(new)
            if used > budget:
                return None
            passages.append(Passage.of(len(passages) + 1, chunk, 0.0, new.strip()))
        previous = chunk
    return passages or None


def _added_text(previous: Chunk | None, chunk: Chunk) -> str:
    if previous is None or previous.source != chunk.source or previous.end <= chunk.start:
        return chunk.text
    return chunk.text[previous.end - chunk.start :]


class WholeCorpus:
    """`whole_corpus` of the store's chunks, computed once per index generation."""

    def __init__(self, chunks: Callable[[float], list[Chunk]], budget: int) -> None:
        self._chunks = chunks
        self.budget = budget
        self._lock = threading.Lock()
        self._cached: tuple[float, list[Passage] | None] | None = None

    def passages(self, generation: float) -> list[Passage] | None:
        if self.budget <= 0:
            return None
        with self._lock:
            if self._cached is None or self._cached[0] != generation:
                self._cached = (generation, whole_corpus(self._chunks(generation), self.budget))
            return self._cached[1]

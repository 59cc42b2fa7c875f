"""Passages built from plain text, as the generator, reader and verifier tests hand them in."""

from __future__ import annotations

from assistant.types import Passage
from index.split import Chunk


def passages_of(*texts: str, source: str = "doc.txt") -> list[Passage]:
    """Numbered passages [1], [2], ... each a whole chunk of `source` holding one text."""
    return [
        Passage(i, Chunk(f"p{i}", source, 0, len(t), t), 1.0) for i, t in enumerate(texts, start=1)
    ]

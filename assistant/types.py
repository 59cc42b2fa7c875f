"""The public result types of `answer()`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from index.load import PAGE_BREAK

History = Sequence[tuple[str, str]]  # a conversation: (user, assistant) pairs, oldest first


@dataclass
class Citation:
    number: int
    source: str  # path relative to the corpus root
    start: int  # character offsets of the passage in the source text
    end: int
    text: str  # the passage
    quote: str  # the sentence(s) of the passage that support the claim
    score: float
    page: int | None = None  # a PDF's 1-based page of the quote (None for other types)


@dataclass
class Answer:
    text: str
    refused: bool
    citations: list[Citation] = field(default_factory=list)
    timings: dict[str, float] = field(default_factory=dict)
    generator: str = ""
    question: str = ""  # the standalone question that was searched (after condensing)
    flagged: list[str] = field(default_factory=list)  # sentences left without support
    # How it was built: the searched question, the passages, the answerability signals, the
    # calibrated probability and the decision (stage and reason). See assistant.pipeline.
    trace: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk as shown to a generator, numbered from 1.

    `start`/`end`/`text` are the whole chunk; `excerpt` is what the generator is shown: the
    chunk's sentences that bear on the question, in document order (short prompts keep the
    local model fast). Citations point at the chunk and quote from it.
    """

    number: int
    id: str
    source: str
    start: int
    end: int
    text: str
    score: float
    excerpt: str = ""
    page: int = 0  # a PDF's page where the passage starts (0: the document has no pages)

    @classmethod
    def of(cls, number: int, chunk: Any, score: float, excerpt: str = "") -> Passage:
        """Passage `number` of a chunk (anything with id, source, start, end and text, and
        maybe page)."""
        page = getattr(chunk, "page", 0)
        return cls(
            number, chunk.id, chunk.source, chunk.start, chunk.end, chunk.text, score, excerpt, page
        )

    def page_of(self, quote: str) -> int | None:
        """The page of `quote` within this passage (a passage may cross a page break), or
        None when the document has no pages."""
        if not self.page:
            return None
        at = max(self.text.find(quote), 0)
        return self.page + self.text.count(PAGE_BREAK, 0, at)

    @property
    def shown(self) -> str:
        return self.excerpt or self.text

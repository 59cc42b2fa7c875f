"""The public result types of `answer()`."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass, field, replace
from typing import TYPE_CHECKING, Any, Generic, TypeVar, cast

from index.load import PAGE_BREAK

if TYPE_CHECKING:
    from index.split import Chunk

History = Sequence[tuple[str, str]]  # a conversation: (user, assistant) pairs, oldest first
Pairs = list[tuple[str, str]]  # a History as the chat builds it, one exchange at a time


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
    # calibrated probability and the decision (stage and reason). None: not recorded.
    trace: Trace | None = None
    # A refusal's closest passages (at most CLOSEST): where to look, labelled as not an
    # answer; `citations` stays empty. Empty for answers, and when nothing was close.
    closest: list[Citation] = field(default_factory=list)

    def __post_init__(self) -> None:
        if isinstance(self.trace, dict):  # an answer read back from its dict (a saved chat)
            self.trace = Trace.from_dict(self.trace) if self.trace else None
        self.closest = [Citation(**c) if isinstance(c, dict) else c for c in self.closest]

    def to_dict(self) -> dict[str, Any]:
        """The answer as JSON-ready data (`assistant ask --json`, the chat's API); a missing
        trace is {}."""
        data = asdict(self)
        data["trace"] = data["trace"] or {}
        if self.trace is not None:
            data["trace"]["features"] = self.trace.features.to_dict()
        return data


@dataclass(frozen=True)
class RankedChunk:
    """A chunk of the fused retrieval ranking, best first (the eval's hit@k and MRR)."""

    rank: int  # 1-based
    id: str
    source: str
    start: int
    end: int
    text: str
    rrf: float
    dense: float  # cosine similarity with the question (0: not a dense candidate)
    bm25: float
    dense_rank: int | None  # 0-based rank in each retriever's candidates (None: absent)
    bm25_rank: int | None


@dataclass(frozen=True)
class ShownPassage:
    """A passage the generator was shown: where it is, and its score."""

    number: int
    source: str
    start: int
    end: int
    score: float


@dataclass(frozen=True)
class Decision:
    """Whether to answer, which stage decided and why: what the pipeline's steps decide, and
    what `Answer.trace.decision` keeps of it (with the draft a check refused)."""

    answerable: bool
    # The reader's probability that the passages state the answer (1 - P(NOT_FOUND)); 1.0
    # when no reader was asked (before the model, or a generator without one).
    probability: float = 1.0
    reason: str = ""
    stage: str = ""  # "question", "before model", "first token", "after generation"
    says: str = ""  # what a refusal tells the user, where not the general refusal
    draft: str = ""  # the generated text a check after generation refused ("" otherwise)
    objected: list[str] = field(default_factory=list)  # checks after generation that objected


@dataclass(frozen=True)
class Signals:
    """What retrieval and the best sentences say about whether the documents hold the answer
    (all 0 when nothing was found; `assistant.question.signals` computes them), and the
    reader's first-token P(NOT_FOUND) once asked (None: not asked)."""

    best_score: float = 0.0
    best_cosine: float = 0.0
    best_coverage: float = 0.0
    shown_coverage: float = 0.0
    closeness: float = 0.0
    dense_top: float = 0.0
    refusal_probability: float | None = None

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Signals:
        """The signals of a saved trace (keys this version does not know are left out)."""
        return cls(**{k: v for k, v in data.items() if k in cls.__dataclass_fields__})

    def to_dict(self) -> dict[str, float]:
        """The signals as JSON-ready data; the reader's P(NOT_FOUND) only once asked."""
        return {k: v for k, v in asdict(self).items() if v is not None}

    def rounded(self, digits: int = 6) -> Signals:
        return replace(
            self,
            **{k: round(v, digits) for k, v in asdict(self).items() if isinstance(v, float)},
        )


@dataclass
class Trace:
    """What an answer was built from (`Answer.trace`, filled by `assistant.question.trace`); its
    dict (`asdict`) is the trace in `--json` and the reports."""

    question: str  # the standalone question that was searched
    retrieved: list[RankedChunk]
    passages: list[ShownPassage]
    features: Signals  # the answerability signals, and the reader's P(NOT_FOUND)
    probability: float
    decision: Decision

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Trace:
        """The trace of an answer's dict (`Answer.to_dict()`)."""
        return cls(
            data["question"],
            [RankedChunk(**hit) for hit in data["retrieved"]],
            [ShownPassage(**p) for p in data["passages"]],
            Signals.from_dict(dict(data["features"])),
            data["probability"],
            Decision(**data["decision"]),
        )


T = TypeVar("T")


class _FromChunk(Generic[T]):
    """A field of a passage's chunk, read through the passage (`passage.source`)."""

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, passage: Any, owner: type | None = None) -> T:
        if passage is None:  # looked up on the class
            return self  # type: ignore[return-value]
        return cast(T, getattr(passage.chunk, self.name))


@dataclass(frozen=True)
class Passage:
    """A retrieved chunk as shown to a generator, numbered from 1.

    It carries its chunk (`index.split.Chunk`: source, offsets, text, page), whose fields it
    reads through; `excerpt` is what the generator is shown: the chunk's sentences that bear
    on the question, in document order (short prompts keep the local model fast). Citations
    point at the chunk and quote from it (`cite`).
    """

    number: int
    chunk: Chunk
    score: float
    excerpt: str = ""

    @classmethod
    def of(cls, number: int, chunk: Chunk, score: float, excerpt: str = "") -> Passage:
        """Passage `number` of a chunk, with its retrieval `score`."""
        return cls(number, chunk, score, excerpt)

    # Read through from the chunk, never copied.
    id = _FromChunk[str]()
    source = _FromChunk[str]()
    start = _FromChunk[int]()
    end = _FromChunk[int]()
    text = _FromChunk[str]()
    page = _FromChunk[int]()  # a PDF's page where the passage starts (0: no pages)

    def cite(self, number: int, quote: str, score: float) -> Citation:
        """This passage as citation `number`, supported by `quote` (a sentence of it)."""
        return Citation(
            number, self.source, self.start, self.end, self.text, quote, score, self.page_of(quote)
        )

    def shown_record(self) -> ShownPassage:
        """Where this passage is and its score, as the trace keeps it."""
        return ShownPassage(self.number, self.source, self.start, self.end, self.score)

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

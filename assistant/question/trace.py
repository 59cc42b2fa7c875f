"""The answer trace: what an answer was built from and why it was (or was not) refused.

`Pipeline.prepare` fills a `Prepared` (the standalone question, the ranked retrieval, the
passages shown, the answerability signals and the decision, the timings); every `Answer`
carries `Prepared.trace(...)` as `Answer.trace`, and the eval, the bench and the calibration
read that instead of re-running the steps.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field, replace

from assistant.question.retrieve import Hit
from assistant.rules.evidence import Scored
from assistant.types import Citation, Decision, Passage, RankedChunk, Signals, Trace

CLOSEST = 3  # passages a refusal points to


@dataclass
class Prepared:
    question: str  # standalone: instructions stripped, a follow-up rewritten
    passages: list[Passage]  # what the generator is shown
    features: Signals
    decision: Decision
    timings: dict[str, float]
    retrieved: list[Hit] = field(default_factory=list)  # fused ranking, best first
    closest: list[Citation] = field(default_factory=list)  # where a refusal points to

    def trace(
        self,
        decision: Decision,
        refusal: float | None = None,
        draft: str = "",
        objected: Sequence[str] = (),
    ) -> Trace:
        """The trace of an answer given `decision`; `refusal` is the reader's P(NOT_FOUND)
        at its first token, once asked (None: not asked); `draft` is the generated text before the
        checks after generation (kept for a refusal, to see what was refused); `objected` the
        checks after generation that objected to it (also those left out by `skip_checks`)."""
        return Trace(
            question=self.question,
            retrieved=[_ranked(rank, h) for rank, h in enumerate(self.retrieved, start=1)],
            passages=[p.shown_record() for p in self.passages],
            features=replace(self.features, refusal_probability=refusal).rounded(),
            probability=round(decision.probability, 6),
            decision=replace(
                decision,
                probability=round(decision.probability, 6),
                draft=draft,
                objected=list(objected),
            ),
        )


def _ranked(rank: int, hit: Hit) -> RankedChunk:
    c = hit.chunk
    return RankedChunk(
        rank,
        c.id,
        c.source,
        c.start,
        c.end,
        c.text,
        rrf=round(hit.rrf, 6),
        dense=round(hit.dense, 6),
        bm25=round(hit.bm25, 6),
        dense_rank=hit.dense_rank,
        bm25_rank=hit.bm25_rank,
    )


def closest_passages(
    passages: list[Passage], ranked: list[Scored], hits: list[Hit]
) -> list[Citation]:
    """The shown passages closest to the question, best first, each quoting its best
    sentence (`ranked`: the sentences of the chunks of `hits`, best first, as `focus` scored
    them): what a refusal points to."""
    best: dict[str, str] = {}  # chunk id -> its best sentence
    for scored in ranked:
        best.setdefault(hits[scored.sentence.chunk_index].chunk.id, scored.sentence.text)
    closest = sorted(passages, key=lambda p: p.score, reverse=True)[:CLOSEST]
    return [p.cite(i, best.get(p.id, ""), p.score) for i, p in enumerate(closest, start=1)]

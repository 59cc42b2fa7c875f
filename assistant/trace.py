"""The answer trace: what an answer was built from and why it was (or was not) refused.

`Pipeline.prepare` fills a `Prepared` (the standalone question, the ranked retrieval, the
passages shown, the answerability signals and the decision, the timings); every `Answer`
carries `Prepared.trace(...)` as `Answer.trace`, and the eval, the bench and the calibration
read that instead of re-running the steps.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from assistant.answerability import Decision
from assistant.retrieve import Hit
from assistant.types import Passage


@dataclass
class Prepared:
    question: str  # standalone: instructions stripped, a follow-up rewritten
    passages: list[Passage]  # what the generator is shown
    features: dict[str, float]
    decision: Decision
    timings: dict[str, float]
    retrieved: list[Hit] = field(default_factory=list)  # fused ranking, best first

    def trace(
        self, decision: Decision, extra: Mapping[str, float] | None = None, draft: str = ""
    ) -> dict[str, Any]:
        """The trace of an answer given `decision`; `extra` holds signals found while
        answering (the reader's P(NOT_FOUND)); `draft` is the generated text before the
        checks after generation (kept for a refusal, to see what was refused)."""
        extra = extra or {}
        return {
            "question": self.question,
            "retrieved": [_hit(rank, h) for rank, h in enumerate(self.retrieved, start=1)],
            "passages": [
                {
                    "number": p.number,
                    "source": p.source,
                    "start": p.start,
                    "end": p.end,
                    "score": p.score,
                }
                for p in self.passages
            ],
            "features": {**{k: round(v, 6) for k, v in self.features.items()}, **extra},
            "probability": round(decision.probability, 6),
            "decision": {
                "answerable": decision.answerable,
                "stage": decision.stage,
                "reason": decision.reason,
                "draft": draft,
            },
        }


def _hit(rank: int, hit: Hit) -> dict[str, Any]:
    chunk = hit.chunk
    return {
        "rank": rank,
        "id": chunk.id,
        "source": chunk.source,
        "start": chunk.start,
        "end": chunk.end,
        "text": chunk.text,
        "rrf": round(hit.rrf, 6),
        "dense": round(hit.dense, 6),
        "bm25": round(hit.bm25, 6),
        "dense_rank": hit.dense_rank,
        "bm25_rank": hit.bm25_rank,
    }

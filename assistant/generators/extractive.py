"""The `extractive` generator: no model, answers with the best supporting sentences.

Deterministic and fast; also the fallback when the local model is not installed.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING

from assistant.generators import Generator
from assistant.rules.evidence import EvidenceScorer, Sentence
from assistant.types import History, Passage
from index import Embedder

if TYPE_CHECKING:
    from assistant.settings import Settings


class ExtractiveGenerator(Generator):
    """No reader, no prompt to keep, nothing to cancel: none of the optional abilities."""

    name = "extractive"

    def __init__(
        self, embedder: Embedder, scorer: EvidenceScorer | None = None, *, margin: float
    ) -> None:
        self.scorer = scorer or EvidenceScorer(embedder)
        self.margin = margin  # add the runner-up sentence when it scores this close

    @classmethod
    def create(
        cls, settings: Settings, embedder: Embedder, scorer: EvidenceScorer | None = None
    ) -> ExtractiveGenerator:
        return cls(embedder, scorer, margin=settings.answer.second_sentence_margin)

    def stream(
        self, question: str, passages: Sequence[Passage], history: History, *, decided: bool = False
    ) -> Iterator[str]:
        sentences = EvidenceScorer.sentences([(0, p.shown) for p in passages])
        ranked = self.scorer.rank(question, sentences)
        if not ranked:
            return
        chosen = [ranked[0]]
        for candidate in ranked[1:3]:
            if (
                chosen[0].score - candidate.score <= self.margin
                and candidate.sentence.text not in chosen[0].sentence.text
            ):
                chosen.append(candidate)
                break
        chosen.sort(key=lambda s: (s.sentence.chunk_index, s.sentence.start))
        for i, scored in enumerate(chosen):
            yield ("" if i == 0 else " ") + _as_claim(scored.sentence, passages)


def _as_claim(sentence: Sentence, passages: Sequence[Passage]) -> str:
    text = " ".join(sentence.text.split())  # a sentence wrapped over lines reads as one
    if text[-1:] not in ".!?":
        text += "."
    return f"{text} [{passages[sentence.chunk_index].number}]"

"""Answer generators, chosen by name: `local`, `extractive`, `openai`.

A generator turns a question and numbered passages into answer text with inline `[n]`
markers, streamed as text deltas. Optional backends are imported lazily and fail with a
`GeneratorUnavailable` that says what to install.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import TYPE_CHECKING, ClassVar

from assistant.errors import BadInput

if TYPE_CHECKING:
    from assistant.evidence import EvidenceScorer
    from assistant.settings import Settings
    from assistant.types import History, Passage
    from index import Embedder

NAMES = ("local", "extractive", "openai")
# What an LLM generator must reply when its passages do not hold the answer: one word whose
# first tokens no answer starts with, so its probability at the first token is the reader's
# judgement (`assistant.answerability`).
NOT_FOUND = "NOT_FOUND"


class Generator:
    """What every generator is: `stream` an answer, maybe `condense` a follow-up, and the
    optional abilities it declares by its class attributes (the pipeline reads the flags,
    never probes for methods). Each ability's method has a no-op default here, so a
    generator overrides only what its flag says it can do.
    """

    name: str = ""
    # Keeps a prompt prefix evaluated between questions: `prime` a small corpus read whole.
    can_prime: ClassVar[bool] = False
    # Can stop the work a given thread is doing (generation or prompt evaluation): `cancel`.
    can_cancel: ClassVar[bool] = False
    # Reports the reader's first-token P(NOT_FOUND) before answering: `refusal_probability`
    # (which may still return None when the backend does not expose it).
    can_read_refusal: ClassVar[bool] = False

    def stream(
        self, question: str, passages: Sequence[Passage], history: History, *, decided: bool = False
    ) -> Iterator[str]:
        """Yield the answer text in pieces; cite passage n as [n]. `decided`: the decision to
        answer was taken from this generator's `refusal_probability`, so the answer must not
        start with NOT_FOUND."""
        raise NotImplementedError

    def condense(self, question: str, history: History) -> str | None:
        """A standalone version of a follow-up question, or None to use the rule-based one."""
        return None

    def prime(self, passages: Sequence[Passage]) -> None:
        """Evaluate the prompt that shows these passages for every question (`can_prime`)."""
        return None

    def cancel(self, thread_id: int) -> bool:
        """Stop what thread `thread_id` runs now (`can_cancel`); False when nothing was."""
        return False

    def refusal_probability(self, question: str, passages: Sequence[Passage]) -> float | None:
        """P(the answer starts NOT_FOUND) over the answer prompt (`can_read_refusal`), or
        None when it cannot be read."""
        return None


def make_generator(
    name: str, settings: Settings, embedder: Embedder, scorer: EvidenceScorer | None = None
) -> Generator:
    """The generator called `name`; `scorer` lets `extractive` share the caller's caches."""
    match name:
        case "extractive":
            from assistant.generators.extractive import ExtractiveGenerator

            return ExtractiveGenerator(
                embedder, scorer, margin=settings.answer.second_sentence_margin
            )
        case "local":
            from assistant.generators.local import LocalGenerator

            return LocalGenerator(settings)
        case "openai":
            from assistant.generators.openai import OpenAIGenerator

            return OpenAIGenerator(settings)
        case _:
            raise BadInput(f"unknown generator {name!r}; choose one of: {', '.join(NAMES)}")

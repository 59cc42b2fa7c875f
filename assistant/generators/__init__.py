"""Answer generators, chosen by name: `local`, `extractive`, `openai`, and any other an
installed package registers.

A generator turns a question and numbered passages into answer text with inline `[n]`
markers, streamed as text deltas. Generators are found through the `assistant.generators`
entry-point group (pyproject.toml registers the three built in; a third-party generator
installs as a plugin the same way), each a `Generator` subclass built by its `create`.
Nothing here imports a backend: it is imported when its generator is first made, and fails
with a `GeneratorUnavailable` that says what to install.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import TYPE_CHECKING, Any, ClassVar

from assistant.errors import BadInput

if TYPE_CHECKING:
    from assistant.rules.evidence import EvidenceScorer
    from assistant.settings import Settings
    from assistant.types import History, Passage
    from index import Embedder

GROUP = "assistant.generators"
BUILT_IN = ("local", "extractive", "openai")  # listed first, in this order


@cache
def _registered() -> dict[str, EntryPoint]:
    """The registered generators by name (the installed packages' metadata, read once):
    the built-in ones first, then the plugins' by name."""
    found = {ep.name: ep for ep in entry_points(group=GROUP)}
    order = [n for n in BUILT_IN if n in found] + sorted(set(found) - set(BUILT_IN))
    return {n: found[n] for n in order}


NAMES = tuple(_registered())
# What an LLM generator must reply when its passages do not hold the answer: one word whose
# first tokens no answer starts with, so its probability at the first token is the reader's
# judgement (`assistant.question.answerability`).
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

    @classmethod
    def create(
        cls, settings: Settings, embedder: Embedder, scorer: EvidenceScorer | None = None
    ) -> Generator:
        """The generator for these settings; `scorer` lets one share the caller's caches."""
        raise NotImplementedError

    def loading(self) -> dict[str, Any]:
        """What making it cost (the bench reports it): reading a model's weights, evaluating
        its fixed prompt prefix once or restoring it. Nothing for a generator without one."""
        return {"model_load_seconds": 0.0, "warm_up_seconds": 0.0, "prefix_restored": False}

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
    found = _registered()
    if name not in found:
        raise BadInput(f"unknown generator {name!r}; choose one of: {', '.join(NAMES)}")
    kind: type[Generator] = found[name].load()
    return kind.create(settings, embedder, scorer)

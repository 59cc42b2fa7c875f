"""The question side, end to end: condense -> retrieve -> refuse? -> generate -> verify.

`Pipeline` holds what is expensive to build (the embedding model, the store, generators) and
is shared per process; `answer()` in `assistant.api` is the public face.
"""

from __future__ import annotations

import contextlib
import logging
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from assistant.answerability import (
    Decision,
    Policy,
    after_generation,
    features,
    no_question,
)
from assistant.citations import strip_markers, verify
from assistant.condense import condense, is_follow_up
from assistant.errors import AssistantError, BadInput, GeneratorUnavailable
from assistant.evidence import EvidenceScorer, Scored
from assistant.generators import NOT_IN_DOCUMENTS, Generator, make_generator
from assistant.guard import strip_instructions
from assistant.retrieve import Hit, Retriever
from assistant.settings import Settings
from assistant.types import Answer, Passage
from index import Embedder, Store, StoreError
from index.tokens import count_tokens

log = logging.getLogger("assistant")

REFUSAL = "The documents do not cover this, so I cannot answer it from them."
SHOWN_SENTENCES = 4  # sentences (from the top chunks) shown to a generator
History = Sequence[tuple[str, str]]

_embedder: Embedder | None = None
_embedder_lock = threading.Lock()


def shared_embedder() -> Embedder:
    global _embedder
    with _embedder_lock:
        if _embedder is None:
            _embedder = Embedder()
        return _embedder


def check_question(question: object, limit: int) -> str:
    if isinstance(question, bytes):
        raise BadInput("the question is binary data, not text")
    if not isinstance(question, str):
        raise BadInput("the question must be a string")
    if "\x00" in question or sum(not (c.isprintable() or c.isspace()) for c in question) > 3:
        raise BadInput("the question contains binary data; send plain text")
    question = question.strip()
    if not question:
        raise BadInput("the question is empty; ask something about the documents")
    if len(question) > limit:
        raise BadInput(
            f"the question is too long ({len(question):,} characters; the limit is {limit:,})"
        )
    return question


def check_history(history: History | None) -> list[tuple[str, str]]:
    try:
        return [(str(u), str(a)) for u, a in (history or [])]
    except (TypeError, ValueError):
        raise BadInput("history must be a list of (user, assistant) string pairs") from None


@dataclass
class _Prepared:
    question: str  # standalone
    passages: list[Passage]
    features: dict[str, float]
    decision: Decision
    timings: dict[str, float]

    def trace(self, decision: Decision, **extra: float) -> dict[str, Any]:
        """What the answer was built from and why it was (not) refused."""
        return {
            "question": self.question,
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
            },
        }


class Pipeline:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        try:
            self.store = Store(
                settings.data_dir, settings.chroma_url, settings.collection, create=False
            )
        except StoreError as exc:
            raise AssistantError(str(exc)) from None
        self.embedder = shared_embedder()
        self.retriever = Retriever(self.store, self.embedder)
        self.scorer = EvidenceScorer(self.embedder)
        self.policy = Policy.for_settings(settings.answer_threshold, settings.calibrator)
        self.notices: list[str] = []
        self._generators: dict[str, Generator] = {}
        self._lock = threading.Lock()

    # -- generators -----------------------------------------------------------------------
    def generator(self, name: str | None) -> Generator:
        name = name or self.settings.generator
        with self._lock:
            if name in self._generators:
                return self._generators[name]
            try:
                gen = make_generator(name, self.settings, self.embedder, self.scorer)
            except GeneratorUnavailable as exc:
                if name != "local":
                    raise
                notice = f"{exc} - answering with the extractive generator instead"
                log.warning(notice)
                self.notices.append(notice)
                gen = make_generator("extractive", self.settings, self.embedder, self.scorer)
            self._generators[name] = gen
            return gen

    def cancel(self, thread_id: int) -> bool:
        """Abort the model work of the answer that thread `thread_id` is streaming (a local
        model stops even while it evaluates the prompt); False when nothing was running."""
        with self._lock:
            generators = list(self._generators.values())
        cancelled = False
        for gen in generators:
            cancel = getattr(gen, "cancel", None)
            if callable(cancel):
                cancelled = bool(cancel(thread_id)) or cancelled
        return cancelled

    # -- retrieval ------------------------------------------------------------------------
    def search(self, question: str, k: int) -> list[Hit]:
        try:
            return self.retriever.search(question, k)
        except StoreError as exc:
            raise AssistantError(str(exc)) from None

    def retrieve(self, question: str, k: int) -> list[Passage]:
        return self.passages(self.search(question, k))

    @staticmethod
    def passages(hits: list[Hit]) -> list[Passage]:
        return [
            Passage(
                i + 1,
                h.chunk.id,
                h.chunk.source,
                h.chunk.start,
                h.chunk.end,
                h.chunk.text,
                round(h.rrf, 6),
            )
            for i, h in enumerate(hits)
        ]

    def focus(self, question: str, chunks: list[Passage]) -> tuple[list[Passage], list[Scored]]:
        """Keep the chunks holding the best sentences; their excerpt is those sentences.
        Also returns every sentence of the chunks, scored against the question."""
        sentences = EvidenceScorer.sentences([(p.start, p.text) for p in chunks])
        ranked = self.scorer.rank(question, sentences)
        if not ranked:
            return [], ranked
        top: list[Scored] = []
        budget = self.settings.excerpt_tokens
        for scored in ranked[:SHOWN_SENTENCES]:
            cost = count_tokens(scored.sentence.text)
            if top and cost > budget:
                continue  # a shorter, lower-ranked sentence may still fit
            top.append(scored)
            budget -= cost
        order: list[int] = list(dict.fromkeys(s.sentence.chunk_index for s in top))
        passages = []
        for number, idx in enumerate(order, start=1):
            chunk = chunks[idx]
            picked = sorted(
                (s.sentence for s in top if s.sentence.chunk_index == idx), key=lambda s: s.start
            )
            best = max(s.score for s in top if s.sentence.chunk_index == idx)
            passages.append(
                Passage(
                    number,
                    chunk.id,
                    chunk.source,
                    chunk.start,
                    chunk.end,
                    chunk.text,
                    round(best, 4),
                    excerpt="\n".join(s.text for s in picked),
                )
            )
        return passages, ranked

    def prepare(self, question: str, history: History, k: int, gen: Generator) -> _Prepared:
        timings: dict[str, float] = {}
        t = time.perf_counter()
        standalone = strip_instructions(question)
        if not standalone:  # nothing but orders to the assistant: nothing to search for
            return _Prepared(question, [], {}, no_question(), timings)
        question = standalone
        if history and is_follow_up(question):
            rewritten = gen.condense(question, history)
            # A model may hand the question back unchanged, or still leaning on the chat.
            if not rewritten or is_follow_up(rewritten) or rewritten.strip() == question:
                rewritten = condense(question, history)
            standalone = rewritten
        timings["condense"] = time.perf_counter() - t

        t = time.perf_counter()
        hits = self.search(standalone, k)
        timings["retrieve"] = time.perf_counter() - t

        t = time.perf_counter()
        passages, ranked = self.focus(standalone, self.passages(hits))
        values = features(self.scorer, standalone, ranked, hits)
        probes = self._probe(gen) is not None
        decision = self.policy.before_model(gen.name, values, probes=probes)
        timings["evidence"] = time.perf_counter() - t
        return _Prepared(standalone, passages, values, decision, timings)

    # -- answering ------------------------------------------------------------------------
    def stream(
        self,
        question: str,
        history: History | None = None,
        *,
        generator: str | Generator | None = None,
        k: int | None = None,
    ) -> Iterator[str | Answer]:
        """Yield answer text as it is generated, then the verified `Answer`.

        An empty piece marks the moment the generator starts (it then reads the passages
        before its first word), for progress displays; it adds no text.
        """
        started = time.perf_counter()
        question = check_question(question, self.settings.max_question_chars)
        pairs = check_history(history)
        k = self.settings.k if k is None else k
        if not isinstance(k, int) or not 1 <= k <= 50:
            raise BadInput("k must be between 1 and 50")
        gen = (
            generator
            if generator is not None and not isinstance(generator, str)
            else (self.generator(generator))
        )
        prep = self.prepare(question, pairs, k, gen)
        timings = prep.timings

        def refusal(decision: Decision, **extra: float) -> Answer:
            timings["total"] = time.perf_counter() - started
            trace = prep.trace(decision, **extra)
            return Answer(REFUSAL, True, [], timings, gen.name, prep.question, trace=trace)

        if not prep.decision.answerable:
            yield REFUSAL
            yield refusal(prep.decision)
            return

        decision, extra = prep.decision, {}
        probe = self._probe(gen)
        if probe is not None:  # the model's own "not covered" probability, before any text
            t = time.perf_counter()
            with _failures(gen):
                p_refuse = float(probe(prep.question, prep.passages))
            timings["probe"] = time.perf_counter() - t
            extra = {"refusal_probability": round(p_refuse, 6)}
            decision = self.policy.at_first_token(gen.name, prep.features, p_refuse)
            if not decision.answerable:
                yield REFUSAL
                yield refusal(decision, **extra)
                return

        yield ""  # the generator starts reading the passages
        t = time.perf_counter()
        pieces: list[str] = []
        with _failures(gen):
            for piece in gen.stream(prep.question, prep.passages, pairs):
                if not pieces:
                    timings["first_token"] = time.perf_counter() - t
                pieces.append(piece)
                yield piece
        timings["generate"] = time.perf_counter() - t

        t = time.perf_counter()
        raw = "".join(pieces).strip()
        declined = not raw or NOT_IN_DOCUMENTS.rstrip(".").lower() in raw.lower()
        verified = (
            None if declined else verify(raw, prep.passages, self.scorer, question=prep.question)
        )
        timings["verify"] = time.perf_counter() - t
        final = after_generation(
            declined,
            verified is not None and bool(verified.citations),
            strip_markers(verified.text) if verified else "",
            f"{question} {prep.question}",
            decision.probability,
        )
        if verified is None or not final.answerable:
            yield refusal(final, **extra)
            return
        timings["total"] = time.perf_counter() - started
        yield Answer(
            verified.text,
            False,
            verified.citations,
            timings,
            gen.name,
            prep.question,
            verified.flagged,
            trace=prep.trace(final, **extra),
        )

    def _probe(self, gen: Generator) -> Callable[..., float] | None:
        """The generator's refusal-probability probe, when it has one and the policy uses it."""
        probe = getattr(gen, "refusal_probability", None)
        return probe if callable(probe) and self.policy.probes(gen.name) else None


@contextlib.contextmanager
def _failures(gen: Generator) -> Iterator[None]:
    """Any failure of the generator's own (not one of ours) as one line."""
    try:
        yield
    except AssistantError:
        raise
    except Exception as exc:
        detail = str(exc).splitlines()[0] if str(exc) else repr(exc)
        raise GeneratorUnavailable(f"the {gen.name} generator failed: {detail}") from exc


_pipelines: dict[str, Pipeline] = {}
_pipelines_lock = threading.Lock()


def get_pipeline(settings: Settings | None = None) -> Pipeline:
    """The process-wide pipeline for these settings (built on first use)."""
    settings = settings or Settings()
    key = settings.model_dump_json()
    with _pipelines_lock:
        pipeline = _pipelines.get(key)
        if pipeline is None:
            pipeline = _pipelines[key] = Pipeline(settings)
        return pipeline


def forget_pipelines() -> None:
    """Drop cached pipelines (after the index location or settings change)."""
    with _pipelines_lock:
        _pipelines.clear()


def retrieve_for_eval(
    question: str, history: History | None, k: int, settings: Settings | None = None
) -> list[Passage]:
    """The ranked chunks retrieval finds for a (possibly follow-up) question."""
    pipeline = get_pipeline(settings)
    pairs = check_history(history)
    standalone = condense(question, pairs) if pairs else question
    return pipeline.retrieve(standalone, k)

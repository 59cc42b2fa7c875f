"""The question side, end to end: condense -> retrieve -> unrelated? -> read (the model's
decision at its first token) -> generate -> verify.

`Pipeline` holds what is expensive to build (the embedding model, the store, generators) and
is shared per process; `answer()` in `assistant.api` is the public face.
"""

from __future__ import annotations

import contextlib
import logging
import re
import threading
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field

from assistant.errors import AssistantError, GeneratorUnavailable
from assistant.generators import Generator, make_generator
from assistant.question.answerability import Policy, no_question, orders_asked
from assistant.question.checks import check_history, check_k, check_question
from assistant.question.condense import condense, is_follow_up, resolves, same_question
from assistant.question.focus import focus
from assistant.question.quotes import with_quotes
from assistant.question.rerank import rerank
from assistant.question.retrieve import Hit, Retriever
from assistant.question.signals import features
from assistant.question.trace import Prepared, closest_passages
from assistant.question.whole_corpus import WholeCorpus
from assistant.rules.citations import Verified, strip_markers, verify
from assistant.rules.draft_checks import Draft, after_generation, objections, skipped_checks
from assistant.rules.evidence import EvidenceScorer
from assistant.rules.guard import asks_for_orders, strip_instructions
from assistant.settings import Settings
from assistant.stores.access import Access
from assistant.stores.corpus import open_store
from assistant.types import Answer, Decision, History, Passage, Signals
from index import StoreError, shared_embedder

log = logging.getLogger("assistant")

REFUSAL = "The documents do not cover this, so I cannot answer it from them."
# The model's NOT_FOUND reply, however it spells it ("Not_FOUND", "NO_FOUND").
_DECLINED = re.compile(r"\bNOT?_FOUND\b|^\W*not found\W*$", re.IGNORECASE)


class Pipeline:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.store = open_store(settings, create=False)
        self.embedder = shared_embedder()
        self.retriever = Retriever(
            self.store,
            self.embedder,
            candidates=settings.retrieval.retrieval_candidates,
            rrf_k=settings.retrieval.rrf_k,
        )
        self.scorer = EvidenceScorer(self.embedder)
        self.whole = WholeCorpus(self.retriever.chunks, settings.retrieval.whole_corpus_tokens)
        self.policy = Policy.for_settings(
            settings.answer.answer_threshold, settings.answer.calibrator
        )
        self.skip = skipped_checks(settings.answer.skip_checks)
        self.notices: list[str] = []
        self._generators: dict[str, Generator] = {}
        self._lock = threading.Lock()

    # -- generators -----------------------------------------------------------------------
    def generator(self, name: str | None) -> Generator:
        name = name or self.settings.answer.generator
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

    def warm(self, name: str | None = None) -> Generator:
        """Load generator `name` and, for a small corpus it reads whole, evaluate that prompt
        now rather than at the first question."""
        gen = self.generator(name)
        self._whole_corpus(gen)
        return gen

    def cancel(self, thread_id: int) -> bool:
        """Abort the model work of the answer that thread `thread_id` is streaming (a local
        model stops even while it evaluates the prompt); False when nothing was running."""
        with self._lock:
            generators = list(self._generators.values())
        cancelled = False
        for gen in generators:
            if gen.can_cancel:
                cancelled = gen.cancel(thread_id) or cancelled
        return cancelled

    # -- retrieval ------------------------------------------------------------------------
    def scope(
        self, sources: Sequence[str] | str | None, reader: str | None = None
    ) -> list[str] | None:
        """The checked document names a question searches (None: all), of those `reader`
        may read (`assistant.stores.access`; None reads all); see Retriever.scope."""
        try:
            hidden = Access(self.settings).hidden(reader)  # none for reader None: nothing read
            return self.retriever.scope(sources, hidden)
        except StoreError as exc:
            raise AssistantError(str(exc)) from None

    def search(self, question: str, k: int, sources: Sequence[str] | None = None) -> list[Hit]:
        """The `k` best chunks: fused, then the best `rerank_pool` of them ordered by meaning."""
        pool = self.settings.retrieval.rerank_pool
        query_vector = self.scorer.vectors([question])[0]  # cached for the evidence step
        try:
            hits = self.retriever.search(question, max(k, pool), query_vector, sources)
        except StoreError as exc:
            raise AssistantError(str(exc)) from None
        return rerank(self.scorer, query_vector, hits, pool)[:k]

    def retrieve(
        self, question: str, k: int, sources: Sequence[str] | None = None
    ) -> list[Passage]:
        return self.passages(self.search(question, k, sources))

    @staticmethod
    def passages(hits: list[Hit]) -> list[Passage]:
        return [Passage.of(i + 1, h.chunk, round(h.rrf, 6)) for i, h in enumerate(hits)]

    def prepare(
        self,
        question: str,
        history: History,
        k: int,
        gen: Generator,
        sources: Sequence[str] | None = None,
    ) -> Prepared:
        """Condense, retrieve (within `sources`, checked by `scope`), focus and decide:
        everything before the generator writes."""
        timings: dict[str, float] = {}
        t = time.perf_counter()
        standalone = strip_instructions(question)
        if not standalone:  # nothing but orders to the assistant: nothing to search for
            return Prepared(question, [], Signals(), no_question(), timings)
        if history and is_follow_up(standalone):
            standalone = self._rewrite(standalone, history, gen)
        timings["condense"] = time.perf_counter() - t

        t = time.perf_counter()
        # The order does not depend on the depth asked for, so the first k of a deeper search
        # are the k passages; the deeper ranking is kept in the trace for the eval's hit@k.
        retrieved = self.search(standalone, max(k, self.settings.retrieval.trace_depth), sources)
        hits = retrieved[:k]
        timings["retrieve"] = time.perf_counter() - t
        texts = [h.chunk.text for h in hits]
        if asks_for_orders(standalone, texts):  # what orders say is not relayed
            return Prepared(standalone, [], Signals(), orders_asked(texts), timings, retrieved)

        t = time.perf_counter()
        passages, ranked = focus(
            self.scorer,
            standalone,
            self.passages(hits),
            sentences=self.settings.answer.shown_sentences,
            budget=self.settings.answer.excerpt_tokens,
            neighbours=self.settings.answer.excerpt_neighbours,
            whole=self.settings.answer.whole_chunks,
            section=self.settings.answer.whole_section,
        )
        values = features(
            self.scorer, standalone, ranked, hits, shown=self.settings.answer.shown_sentences
        )
        decision = self.policy.before_model(values)
        timings["evidence"] = time.perf_counter() - t
        # Where a refusal points to: only where something retrieved is close at all.
        closest = closest_passages(passages, ranked, hits) if decision.answerable else []
        if decision.answerable and sources is None:
            passages = self._whole_corpus(gen) or passages
        return Prepared(standalone, passages, values, decision, timings, retrieved, closest)

    def _whole_corpus(self, gen: Generator) -> list[Passage] | None:
        """All of a small corpus, for a generator that keeps its prompt prefix evaluated
        (`assistant.question.whole_corpus`); None when it does not, or the corpus is too big."""
        if not gen.can_prime or self.whole.budget <= 0:
            return None
        try:
            passages = self.whole.passages(self.store.generation())
        except StoreError as exc:
            raise AssistantError(str(exc)) from None
        if passages:
            with _failures(gen):
                gen.prime(passages)  # evaluated once per corpus (or restored from its file)
        return passages

    @staticmethod
    def _rewrite(question: str, history: History, gen: Generator) -> str:
        """The follow-up as a standalone question: the generator's rewrite, or the rules'."""
        rewritten = gen.condense(question, history)
        # A model may hand the question back unchanged (its "And" aside), or still leaning
        # on the chat without having resolved anything from it.
        if not rewritten or same_question(rewritten, question):
            return condense(question, history)
        if is_follow_up(rewritten) and not resolves(rewritten, question, history):
            return condense(question, history)
        return rewritten

    # -- answering ------------------------------------------------------------------------
    def ask(
        self,
        question: str,
        history: History | None = None,
        *,
        generator: str | Generator | None = None,
        k: int | None = None,
        sources: Sequence[str] | str | None = None,
        reader: str | None = None,
    ) -> Iterator[str | Answer]:
        """Ask `question`: yield the answer's text as the generator writes it (its token
        stream, `Generator.stream`), then the verified `Answer`; `sources`
        limits the search to those indexed documents (an unknown name is a BadInput), and
        `reader` to those that reader may read (`assistant.stores.access`; None: all).

        An empty piece marks the moment the generator starts (it then reads the passages
        before its first word), for progress displays; it adds no text.
        """
        started = time.perf_counter()
        question = check_question(question, self.settings.answer.max_question_chars)
        pairs = check_history(history)
        k = check_k(self.settings.retrieval.k if k is None else k)
        scope = self.scope(sources, reader)
        gen = (
            self.generator(generator)
            if generator is None or isinstance(generator, str)
            else generator
        )
        prep = self.prepare(question, pairs, k, gen, scope)
        run = _Run(prep, gen, started)

        decision = prep.decision
        if not decision.answerable:
            yield decision.says or REFUSAL
            yield run.refusal(decision)
            return

        yield ""  # the generator starts reading the passages
        t = time.perf_counter()
        decision, decided = self._first_token(run)
        if not decision.answerable:
            run.timings["first_token"] = time.perf_counter() - t
            yield REFUSAL
            yield run.refusal(decision)
            return
        pieces: list[str] = []
        with _failures(gen):
            for piece in gen.stream(prep.question, prep.passages, pairs, decided=decided):
                if not pieces:
                    run.timings["first_token"] = time.perf_counter() - t
                pieces.append(piece)
                yield piece
        run.timings["generate"] = time.perf_counter() - t
        yield self._finish(run, question, "".join(pieces).strip(), decision)

    def _first_token(self, run: _Run) -> tuple[Decision, bool]:
        """The reader's decision, from its probability of starting NOT_FOUND over the
        evaluated answer prompt, and whether it was taken (a generator that cannot report
        it keeps the decision before the model and may still decline in its text)."""
        p_refuse = None
        if run.gen.can_read_refusal:
            t = time.perf_counter()
            with _failures(run.gen):
                p_refuse = run.gen.refusal_probability(run.prep.question, run.prep.passages)
            run.timings["read"] = time.perf_counter() - t
        if p_refuse is None:
            return run.prep.decision, False
        run.p_not_found = float(p_refuse)
        return self.policy.at_first_token(run.gen.name, float(p_refuse)), True

    def _finish(self, run: _Run, question: str, raw: str, decision: Decision) -> Answer:
        """Verify the generated text's citations and take the decision after generation."""
        t = time.perf_counter()
        declined = not raw or bool(_DECLINED.search(raw))
        verified: Verified | None = None
        if not declined:
            verified = verify(
                raw,
                run.prep.passages,
                self.scorer,
                question=run.prep.question,
                threshold=self.settings.answer.support_threshold,
            )
        run.timings["verify"] = time.perf_counter() - t
        objected: dict[str, str] = {}
        if verified is not None:
            objected = objections(
                Draft(
                    strip_markers(verified.text),
                    question,
                    run.prep.question,
                    " ".join(c.text for c in verified.citations),
                    bool(verified.citations),
                )
            )
        run.objected = list(objected)
        final = after_generation(declined, objected, decision.probability, self.skip)
        if verified is None or not final.answerable:
            return run.refusal(final, raw)
        if self.settings.answer.quote_sources:
            verified.text = with_quotes(verified.text, verified.quotes)
        return run.answer(verified, final)


@dataclass
class _Run:
    """One answer in the making: its preparation, its generator, its clock."""

    prep: Prepared
    gen: Generator
    started: float
    p_not_found: float | None = None  # the reader's first-token P(NOT_FOUND), once asked
    objected: list[str] = field(default_factory=list)  # the checks that objected to the draft

    @property
    def timings(self) -> dict[str, float]:
        return self.prep.timings

    def refusal(self, decision: Decision, draft: str = "") -> Answer:
        self.timings["total"] = time.perf_counter() - self.started
        trace = self.prep.trace(decision, self.p_not_found, draft, self.objected)
        text = decision.says or REFUSAL
        return Answer(
            text,
            True,
            [],
            self.timings,
            self.gen.name,
            self.prep.question,
            trace=trace,
            closest=self.prep.closest,
        )

    def answer(self, verified: Verified, decision: Decision) -> Answer:
        self.timings["total"] = time.perf_counter() - self.started
        return Answer(
            verified.text,
            False,
            verified.citations,
            self.timings,
            self.gen.name,
            self.prep.question,
            verified.flagged,
            trace=self.prep.trace(decision, self.p_not_found, objected=self.objected),
        )


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

"""Sentence-level evidence: which sentences of the retrieved chunks bear on a question.

Used to pick what a generator is shown, as signals for the answerability decision
(`assistant.question.answerability`), to compose extractive answers, and to check that a
cited passage supports a claim. Two signals, both
without an LLM: cosine similarity of sentence embeddings, and the share of the question's (or
claim's) content words, stemmed, that the sentence contains.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from assistant.rules.text import coverage
from index import Embedder
from index.split import sentence_spans


@dataclass(frozen=True)
class Sentence:
    chunk_index: int  # which retrieved chunk it comes from
    start: int  # offsets in the source document
    end: int
    text: str


@dataclass(frozen=True)
class Scored:
    sentence: Sentence
    cosine: float
    coverage: float

    @property
    def score(self) -> float:
        return 0.6 * self.cosine + 0.4 * self.coverage


class EvidenceScorer:
    """Scores sentences against questions and claims; caches sentence embeddings."""

    def __init__(self, embedder: Embedder, cache_size: int = 50_000) -> None:
        self.embedder = embedder
        self._cache: OrderedDict[str, np.ndarray] = OrderedDict()
        self._cache_size = cache_size
        self._lock = threading.Lock()

    def vectors(self, texts: Sequence[str]) -> np.ndarray:
        with self._lock:
            missing = list(dict.fromkeys(t for t in texts if t not in self._cache))
        if missing:
            fresh = self.embedder.encode(missing)
            with self._lock:
                for text, vec in zip(missing, fresh, strict=True):
                    self._cache[text] = vec
                while len(self._cache) > self._cache_size:
                    self._cache.popitem(last=False)
        with self._lock:
            for t in texts:
                self._cache.move_to_end(t)
            return np.stack([self._cache[t] for t in texts]) if texts else np.zeros((0, 1))

    @staticmethod
    def sentences(chunks: Sequence[tuple[int, str]]) -> list[Sentence]:
        """Sentences of chunks given as (start offset in source, chunk text).

        A sentence that overlapping chunks share (or a repeated line) is kept once, in the
        first chunk that holds it.
        """
        out, seen = [], set()
        for i, (offset, text) in enumerate(chunks):
            for s, e in sentence_spans(text):
                if text[s:e] not in seen:
                    seen.add(text[s:e])
                    out.append(Sentence(i, offset + s, offset + e, text[s:e]))
        return out

    def rank(
        self, query: str, sentences: Sequence[Sentence], query_vector: np.ndarray | None = None
    ) -> list[Scored]:
        """Sentences scored against `query`, best first."""
        if not sentences:
            return []
        if query_vector is None:
            query_vector = self.vectors([query])[0]
        sims = self.vectors([s.text for s in sentences]) @ query_vector
        scored = [
            Scored(s, float(sim), coverage(query, s.text))
            for s, sim in zip(sentences, sims, strict=True)
        ]
        return sorted(scored, key=lambda x: x.score, reverse=True)

    def support(self, claim: str, text: str) -> tuple[float, str]:
        """How well `text` supports `claim` (0..1) and the sentence(s) of `text` that do."""
        sents = [Sentence(0, s, e, text[s:e]) for s, e in sentence_spans(text)]
        if not sents:
            return 0.0, ""
        ranked = self.rank(claim, sents)
        best = ranked[0]
        return max(best.cosine, best.coverage), best.sentence.text

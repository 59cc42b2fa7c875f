"""Hybrid retrieval: dense search in Chroma plus BM25 over the same chunks, fused with RRF.

The BM25 index is built in memory from the store's visible chunks and rebuilt whenever the
store's generation changes (another ingestion committed something).
"""

from __future__ import annotations

import threading
from collections.abc import Sequence, Set
from dataclasses import dataclass

import bm25s
import numpy as np

from assistant.errors import BadInput
from assistant.rules.text import STEMMER
from index import Embedder, Store
from index.split import Chunk


def bm25_tokens(texts: list[str]) -> list[list[str]]:
    return bm25s.tokenize(  # type: ignore[return-value]
        texts, stopwords="en", stemmer=STEMMER, return_ids=False, show_progress=False
    )


@dataclass(frozen=True)
class Hit:
    chunk: Chunk
    rrf: float
    dense: float  # cosine similarity with the question (0 when not in the dense candidates)
    bm25: float
    dense_rank: int | None = None  # 0-based rank in each retriever's candidates (None: absent)
    bm25_rank: int | None = None


class _Bm25Index:
    def __init__(self, chunks: list[Chunk]) -> None:
        self.chunks = chunks
        self.by_id = {c.id: c for c in chunks}  # the visible chunks of this generation
        positions: dict[str, list[int]] = {}
        for i, c in enumerate(chunks):
            positions.setdefault(c.source, []).append(i)
        self.by_source = {s: np.array(p, dtype=np.int64) for s, p in positions.items()}
        self.model = bm25s.BM25()
        if chunks:
            self.model.index(bm25_tokens([c.text for c in chunks]), show_progress=False)

    def search(
        self, question: str, n: int, sources: Sequence[str] | None = None
    ) -> list[tuple[Chunk, float]]:
        """The `n` best chunks by BM25 (of the `sources` documents only, when given)."""
        if not self.chunks:
            return []
        vocab = self.model.vocab_dict
        tokens = [t for t in bm25_tokens([question])[0] if t in vocab]
        if not tokens:
            return []
        scores = self.model.get_scores(tokens)
        if sources:  # rank within the chosen documents' chunks only
            within = np.concatenate([self.by_source[s] for s in sources])
            top = within[np.argsort(-scores[within])[:n]]
        else:
            top = np.argsort(-scores)[:n]
        return [(self.chunks[i], float(scores[i])) for i in top if scores[i] > 0]


class Retriever:
    def __init__(self, store: Store, embedder: Embedder, *, candidates: int, rrf_k: int) -> None:
        self.store = store
        self.embedder = embedder
        self.candidates = candidates  # ranks taken from each retriever before fusion
        self.rrf_k = rrf_k
        self._bm25: _Bm25Index | None = None
        self._generation: float | None = None
        self._lock = threading.Lock()

    def _bm25_index(self, generation: float) -> _Bm25Index:
        with self._lock:
            if self._bm25 is None or generation != self._generation:
                self._bm25 = _Bm25Index(self.store.all_chunks(generation))
                self._generation = generation
            return self._bm25

    def chunks(self, generation: float) -> list[Chunk]:
        """Every visible chunk of this index generation (read once per generation)."""
        return self._bm25_index(generation).chunks

    def scope(
        self, sources: Sequence[str] | str | None, hidden: Set[str] = frozenset()
    ) -> list[str] | None:
        """The indexed document names a question is limited to (None: all documents);
        raises BadInput (one line) for a name the index does not hold. The `hidden`
        documents (others' private ones) are left out, and named, are as unknown."""
        names = [] if sources is None else [sources] if isinstance(sources, str) else list(sources)
        if any(not isinstance(name, str) for name in names):
            raise BadInput("sources must be a list of document names (strings)")
        names = list(dict.fromkeys(name.strip() for name in names if name.strip()))
        held = [s for s in self._bm25_index(self.store.generation()).by_source if s not in hidden]
        if not names:  # all documents: those not hidden ([] when every one is)
            return held if hidden else None
        unknown = [name for name in names if name not in held]
        if unknown:
            listed = ", ".join(sorted(held)[:5]) + (", ..." if len(held) > 5 else "")
            raise BadInput(
                f"no indexed document is called {unknown[0]!r} "
                f"(the index holds: {listed or 'nothing; run assistant ingest'})"
            )
        return names

    def search(
        self,
        question: str,
        k: int,
        query_vector: np.ndarray | None = None,
        sources: Sequence[str] | None = None,
    ) -> list[Hit]:
        """The `k` best chunks for `question`, best first; with `sources` (names checked by
        `scope`), the best of those documents' chunks: both retrievers filter before they
        rank, so k chunks still come back when the documents hold that many ([]: none)."""
        if query_vector is None:
            query_vector = self.embedder.encode([question])[0]
        n = max(self.candidates, k)
        generation = self.store.generation()  # one read of the index state per question
        index = self._bm25_index(generation)
        if sources is not None:  # a document removed since the scope was checked holds nothing
            sources = [s for s in sources if s in index.by_source]
            if not sources:
                return []
        # Dense ids and distances only; text and offsets come from this generation's visible
        # chunks, which also drops the records an ingestion has superseded.
        dense = [
            (index.by_id[id_], distance)
            for id_, distance in self.store.nearest(query_vector, n, sources)
            if id_ in index.by_id
        ][:n]
        sparse = index.search(question, n, sources)

        fused: dict[str, list] = {}
        for rank, (chunk, distance) in enumerate(dense):
            fused[chunk.id] = [
                chunk,
                1.0 / (self.rrf_k + rank + 1),
                1.0 - distance,
                0.0,
                rank,
                None,
            ]
        for rank, (chunk, score) in enumerate(sparse):
            entry = fused.setdefault(chunk.id, [chunk, 0.0, 0.0, 0.0, None, None])
            entry[1] += 1.0 / (self.rrf_k + rank + 1)
            entry[3] = score
            entry[5] = rank
        ranked = sorted(fused.values(), key=lambda e: e[1], reverse=True)[:k]
        return [Hit(*e) for e in ranked]

"""Re-ranking of the fused candidates by meaning, so a question in the reader's own words finds the
passage that answers it.

Fusion (`assistant.question.retrieve`) gives BM25 as much say as the dense search, and a chunk
that both retrievers list outranks one only the dense search found. Questions that copy the
document's words do well with that; questions in a reader's own words share few words with the
sentence that answers them, and BM25 pushes that sentence's chunk down. So the best `pool` fused
chunks are ordered again by how close the chunk and its closest sentence are to the question
(cosine of MiniLM embeddings), with the BM25 score, scaled to the pool's best, as a small
tie-breaker.

The weights were chosen on the calibration parts of the squad2-open and users'-words suites
together (answerable questions; evidence in the top 4 chunks): 0.92 -> 0.94 (squad2-open) and
0.60 -> 0.81 (users' words). On the test parts, which took no part in the choice: 0.93 -> 0.97
and 0.54 -> 0.68 (eval/CALIBRATION.md, "What the reader is shown, and what the search finds")."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from assistant.question.retrieve import Hit
from assistant.rules.evidence import EvidenceScorer

CHUNK_WEIGHT = 0.5  # cosine of the whole chunk with the question
SENTENCE_WEIGHT = 0.5  # cosine of the chunk's closest sentence
BM25_WEIGHT = 0.05  # BM25 score over the pool's best


def closest_sentences(
    scorer: EvidenceScorer, hits: Sequence[Hit], query_vector: np.ndarray
) -> np.ndarray:
    """Per hit, the cosine of its sentence closest to the question (0 for a chunk without
    one); the sentences missing from `scorer`'s cache are embedded in one batch."""
    texts = [[s.text for s in scorer.sentences([(h.chunk.start, h.chunk.text)])] for h in hits]
    distinct = list(dict.fromkeys(t for chunk in texts for t in chunk))
    if not distinct:
        return np.zeros(len(hits))
    cosine = dict(zip(distinct, scorer.vectors(distinct) @ query_vector, strict=True))
    return np.array([max((float(cosine[t]) for t in chunk), default=0.0) for chunk in texts])


def rerank(
    scorer: EvidenceScorer, query_vector: np.ndarray, hits: Sequence[Hit], pool: int
) -> list[Hit]:
    """`hits` (fused, best first) with the first `pool` ordered by meaning; the rest after
    them in their fused order. A chunk's cosine is the dense search's where it found the
    chunk; sentence embeddings come from `scorer`'s cache, so a sentence is embedded once
    however often it is retrieved."""
    head, tail = list(hits[:pool]), list(hits[pool:])
    if len(head) < 2:
        return head + tail
    chunk_cosine = np.array([h.dense for h in head])
    unseen = [i for i, h in enumerate(head) if h.dense_rank is None]  # found by BM25 only
    if unseen:  # the dense search's cosine is the stored chunk vector's; these need one
        vectors = scorer.embedder.encode_any_length([head[i].chunk.text for i in unseen])
        chunk_cosine[unseen] = vectors @ query_vector
    sentence_cosine = closest_sentences(scorer, head, query_vector)
    bm25 = np.array([h.bm25 for h in head])
    if bm25.max() > 0:
        bm25 = bm25 / bm25.max()
    score = CHUNK_WEIGHT * chunk_cosine + SENTENCE_WEIGHT * sentence_cosine + BM25_WEIGHT * bm25
    order = np.argsort(-score, kind="stable")
    return [head[i] for i in order] + tail

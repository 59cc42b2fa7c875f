"""Which words of the retrieved chunks a generator is shown: the best sentences, in order.

A short prompt keeps the local model fast; the chunk stays whole for citations and offsets.
Sentences addressed to an assistant (orders planted in a document, `index.orders`) are
never picked: a document is data.
"""

from __future__ import annotations

from dataclasses import replace

from assistant.evidence import EvidenceScorer, Scored, Sentence
from assistant.types import Passage
from index.orders import flagged_spans, outside
from index.tokens import count_tokens


def focus(
    scorer: EvidenceScorer, question: str, chunks: list[Passage], *, sentences: int, budget: int
) -> tuple[list[Passage], list[Scored]]:
    """Keep the chunks holding the `sentences` best sentences (within `budget` tokens, at
    least one); each kept chunk's excerpt is its picked sentences in document order.
    Also returns every sentence of the chunks, scored against the question, best first."""
    ranked = scorer.rank(question, _data_sentences(chunks))
    top = _pick(ranked[:sentences], budget)
    order: list[int] = list(dict.fromkeys(s.sentence.chunk_index for s in top))
    passages = []
    for number, idx in enumerate(order, start=1):
        chunk = chunks[idx]
        mine = [s for s in top if s.sentence.chunk_index == idx]
        picked = sorted((s.sentence for s in mine), key=lambda s: s.start)
        best = round(max(s.score for s in mine), 4)
        excerpt = "\n".join(s.text for s in picked)
        passages.append(replace(chunk, number=number, score=best, excerpt=excerpt))
    return passages, ranked


def _data_sentences(chunks: list[Passage]) -> list[Sentence]:
    """The chunks' sentences without the orders to an assistant planted in them
    (`index.orders`): those are never shown to a generator, only what is left of a sentence
    around a role marker is."""
    out = []
    for sentence in EvidenceScorer.sentences([(p.start, p.text) for p in chunks]):
        chunk = chunks[sentence.chunk_index]
        flagged = [(chunk.start + s, chunk.start + e) for s, e in flagged_spans(chunk.text)]
        left = outside(sentence.start, sentence.end, flagged)
        if left is None:
            continue
        text = chunk.text[left[0] - chunk.start : left[1] - chunk.start].strip()
        if text == sentence.text:
            out.append(sentence)
        elif any(ch.isalnum() for ch in text):
            offset = left[0] + chunk.text[left[0] - chunk.start :].find(text)
            out.append(Sentence(sentence.chunk_index, offset, offset + len(text), text))
    return out


def _pick(candidates: list[Scored], budget: int) -> list[Scored]:
    top: list[Scored] = []
    for scored in candidates:
        cost = count_tokens(scored.sentence.text)
        if top and cost > budget:
            continue  # a shorter, lower-ranked sentence may still fit
        top.append(scored)
        budget -= cost
    return top

"""Check every `[n]` in an answer against the passages the generator was shown.

For each sentence of the answer: a cited passage that supports it (lexical or embedding
overlap, see `assistant.evidence`) is kept; a number that points nowhere or to a passage that
does not support the sentence is re-pointed to the shown passage that does, or dropped and the
sentence flagged; an uncited factual sentence gets its supporting passage. Citations are then
renumbered 1, 2, ... in order of first use.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.evidence import EvidenceScorer, content_stems
from assistant.types import Citation, Passage

SUPPORT_THRESHOLD = 0.55
_MARKER = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
_TRAILING_MARKERS = re.compile(r"([.!?]+)((?:\s*\[\d+(?:\s*,\s*\d+)*\])+)")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+(?=[A-Z\"“(])|\n+")


@dataclass
class Verified:
    text: str
    citations: list[Citation]
    flagged: list[str]


def split_sentences(text: str) -> list[str]:
    """Answer sentences, each keeping the markers that belong to it.

    A marker written after the full stop ("... 2024. [1] Next ...") belongs to the sentence
    before it, so markers are first moved inside ("... 2024 [1]. Next ...").
    """
    text = _TRAILING_MARKERS.sub(lambda m: m.group(2) + m.group(1), text)
    return [part.strip() for part in _SENTENCE_END.split(text) if part.strip()]


def cited_numbers(sentence: str) -> list[int]:
    return [int(n) for m in _MARKER.finditer(sentence) for n in re.split(r"\s*,\s*", m.group(1))]


def strip_markers(sentence: str) -> str:
    return _MARKER.sub("", sentence).strip()


def verify(
    answer_text: str, passages: Sequence[Passage], scorer: EvidenceScorer, skip: str = ""
) -> Verified:
    """Verify, repair and renumber the citations of `answer_text`.

    `skip` is a sentence that needs no citation (the generator's "not covered" reply).
    """
    by_number = {p.number: p for p in passages}
    order: dict[int, int] = {}  # passage number -> citation number
    quotes: dict[int, tuple[float, str]] = {}
    out_sentences: list[str] = []
    flagged: list[str] = []

    def best_passage(claim: str) -> tuple[Passage | None, float, str]:
        best: tuple[Passage | None, float, str] = (None, 0.0, "")
        for p in passages:
            score, quote = scorer.support(claim, p.text)
            if score > best[1]:
                best = (p, score, quote)
        return best

    for sentence in split_sentences(answer_text):
        claim = strip_markers(sentence)
        if not claim:
            continue
        if (skip and claim == skip) or not content_stems(claim):
            out_sentences.append(claim)
            continue
        kept: list[int] = []
        for n in dict.fromkeys(cited_numbers(sentence)):
            p = by_number.get(n)
            if p is None:
                continue
            score, quote = scorer.support(claim, p.text)
            if score >= SUPPORT_THRESHOLD:
                kept.append(n)
                if score > quotes.get(n, (-1.0, ""))[0]:
                    quotes[n] = (score, quote)
        if not kept:
            p, score, quote = best_passage(claim)
            if p is not None and score >= SUPPORT_THRESHOLD:
                kept.append(p.number)
                if score > quotes.get(p.number, (-1.0, ""))[0]:
                    quotes[p.number] = (score, quote)
        if not kept:
            flagged.append(claim)
            out_sentences.append(claim)
            continue
        for n in kept:
            order.setdefault(n, len(order) + 1)
        out_sentences.append(claim + " " + "".join(f"[{order[n]}]" for n in kept))

    citations = []
    for n, number in sorted(order.items(), key=lambda kv: kv[1]):
        p = by_number[n]
        score, quote = quotes[n]
        citations.append(
            Citation(
                number=number,
                source=p.source,
                start=p.start,
                end=p.end,
                text=p.text,
                quote=quote,
                score=round(score, 4),
            )
        )
    return Verified(text=" ".join(out_sentences), citations=citations, flagged=flagged)

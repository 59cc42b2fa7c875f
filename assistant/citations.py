"""Check every `[n]` in an answer against the passages the generator was shown.

For each sentence of the answer: a cited passage that supports it (lexical or embedding
overlap, see `assistant.evidence`) is kept; a number that points nowhere or to a passage that
does not support the sentence is re-pointed to the shown passage that does, or dropped and the
sentence flagged; an uncited factual sentence gets its supporting passage. When the answer
rests on a premise of the question that its cited passages do not hold ("what did the head
of Roscosmos say ..." answered from "He added that ..."), the shown passage that holds the
premise is cited too. Citations are then renumbered 1, 2, ... in order of first use.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass

from assistant.answerability import grounded
from assistant.evidence import EvidenceScorer, content_stems
from assistant.types import Citation, Passage

SUPPORT_THRESHOLD = 0.55
PREMISE_STEMS = 2  # question words a premise passage must hold that the cited ones lack
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


def support(scorer: EvidenceScorer, claim: str, text: str) -> tuple[float, str, str]:
    """How well `text` supports `claim`, its supporting sentence, and the claim in the
    passage's own qualifiers ("in 2024" -> "after 2024"); no support at all when a number of
    the claim is not stated in `text` as the claim states it (`answerability.grounded`)."""
    ok, claim = grounded(claim, text)
    if not ok:
        return 0.0, "", claim
    score, quote = scorer.support(claim, text)
    return score, quote, claim


def premise_passage(
    question: str, cited: Sequence[Passage], shown: Sequence[Passage]
) -> Passage | None:
    """The shown, uncited passage holding the question's words that the cited passages
    lack, when it holds at least PREMISE_STEMS of them (and most of them)."""
    held = set().union(*(content_stems(p.text) for p in cited))
    missing = content_stems(question) - held
    best, found = None, 0
    for p in shown:
        if p in cited:
            continue
        n = len(missing & content_stems(p.text))
        if n > found:
            best, found = p, n
    return best if found >= PREMISE_STEMS and 2 * found >= len(missing) else None


def verify(
    answer_text: str,
    passages: Sequence[Passage],
    scorer: EvidenceScorer,
    skip: str = "",
    question: str = "",
) -> Verified:
    """Verify, repair and renumber the citations of `answer_text`.

    `skip` is a sentence that needs no citation (the generator's "not covered" reply);
    `question`, when given, lets an answer cite the passage holding the question's premise.
    """
    by_number = {p.number: p for p in passages}
    order: dict[int, int] = {}  # passage number -> citation number
    quotes: dict[int, tuple[float, str]] = {}
    out_sentences: list[str] = []
    flagged: list[str] = []

    def best_passage(claim: str) -> tuple[Passage | None, float, str, str]:
        best: tuple[Passage | None, float, str, str] = (None, 0.0, "", claim)
        for p in passages:
            score, quote, worded = support(scorer, claim, p.text)
            if score > best[1]:
                best = (p, score, quote, worded)
        return best

    checked: list[tuple[str, list[int]]] = []  # each sentence and its supporting passages
    for sentence in split_sentences(answer_text):
        claim = strip_markers(sentence)
        if not claim:
            continue
        if (skip and claim == skip) or not content_stems(claim):
            checked.append((claim, []))
            continue
        kept: list[int] = []
        worded = claim
        for n in dict.fromkeys(cited_numbers(sentence)):
            p = by_number.get(n)
            if p is None:
                continue
            score, quote, reworded = support(scorer, claim, p.text)
            if score >= SUPPORT_THRESHOLD:
                kept.append(n)
                worded = reworded if len(kept) == 1 else worded
                if score > quotes.get(n, (-1.0, ""))[0]:
                    quotes[n] = (score, quote)
        if not kept:
            p, score, quote, reworded = best_passage(claim)
            if p is not None and score >= SUPPORT_THRESHOLD:
                kept.append(p.number)
                worded = reworded
                if score > quotes.get(p.number, (-1.0, ""))[0]:
                    quotes[p.number] = (score, quote)
        claim = worded
        if not kept:
            flagged.append(claim)
        checked.append((claim, kept))

    cited = [by_number[n] for _, kept in checked for n in dict.fromkeys(kept)]
    premise = premise_passage(question, cited, passages) if question and cited else None
    for claim, kept in checked:
        if premise is not None and kept:  # the first cited sentence carries the premise
            kept.append(premise.number)
            quotes[premise.number] = scorer.support(question, premise.text)
            premise = None
        for n in kept:
            order.setdefault(n, len(order) + 1)
        out_sentences.append(" ".join([claim, "".join(f"[{order[n]}]" for n in kept)]).strip())

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

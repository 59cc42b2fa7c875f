"""Check every `[n]` in an answer against the passages the generator was shown.

For each sentence of the answer: a cited passage that supports it (lexical or embedding overlap,
see `assistant.rules.evidence`) is kept; a number that points nowhere or to a passage that
does not support the sentence is re-pointed to the shown passage that does, or dropped and the
sentence flagged; an uncited factual sentence gets its supporting passage. When the answer rests
on a premise of the question that its cited passages do not hold ("what did the head of
Roscosmos say ..." answered from "He added that ..."), the shown passage that holds the premise
is cited too. Citations are then renumbered 1, 2, ... in order of first use."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field

from assistant.rules.evidence import EvidenceScorer
from assistant.rules.grounding import full_name, grounded
from assistant.rules.text import YES_NO, content_stems, sentences
from assistant.types import Citation, Passage

PREMISE_STEMS = 2  # question words a premise passage must hold that the cited ones lack
_MARKER = re.compile(r"\s*\[(\d+(?:\s*,\s*\d+)*)\]")
_TRAILING_MARKERS = re.compile(r"([.!?]+)((?:\s*\[\d+(?:\s*,\s*\d+)*\])+)")


@dataclass
class Verified:
    text: str
    citations: list[Citation]
    flagged: list[str]
    # (citation number, the passage's sentence that supports one claim), claim by claim: a
    # citation used by three claims quotes up to three sentences of its passage
    quotes: list[tuple[int, str]] = field(default_factory=list)


def split_sentences(text: str) -> list[str]:
    """Answer sentences, each keeping the markers that belong to it.

    A marker written after the full stop ("... 2024. [1] Next ...") belongs to the sentence
    before it, so markers are first moved inside ("... 2024 [1]. Next ...").
    """
    return sentences(_TRAILING_MARKERS.sub(lambda m: m.group(2) + m.group(1), text))


def cited_numbers(sentence: str) -> list[int]:
    return [int(n) for m in _MARKER.finditer(sentence) for n in re.split(r"\s*,\s*", m.group(1))]


def strip_markers(sentence: str) -> str:
    return _MARKER.sub("", sentence).strip()


def support(
    scorer: EvidenceScorer, claim: str, text: str, question: str = ""
) -> tuple[float, str, str]:
    """How well `text` supports `claim`, its supporting sentence, and the claim in the
    passage's own qualifiers ("in 2024" -> "after 2024") and names ("Russia" -> "the
    President of Russia Vladimir Putin" for "who"); no support at all when a number of
    the claim is not stated in `text` as the claim states it (`grounding.grounded`).

    A bare answer with no content word of its own ("2", "Yes") says nothing without its
    question: it is judged as the question and the answer together, and its numbers must be
    stated in the very sentence that supports them ("2" is not supported by a passage that
    answers the question and mentions two of something else elsewhere)."""
    ok, claim = grounded(claim, text)
    if not ok:
        return 0.0, "", claim
    if question and is_bare(claim):
        score, quote = scorer.support(f"{question} {claim}", text)
        return (score, quote, claim) if grounded(claim, quote)[0] else (0.0, "", claim)
    score, quote = scorer.support(claim, text)
    return score, quote, full_name(claim, quote, question)


def is_bare(claim: str) -> bool:
    """An answer with no word of its own but numbers, a yes or a no ("2", "40%", "Yes"), or
    a number and one word, its unit ("2.4 meters", "4,000 people")."""
    words = [w for w in content_stems(claim) if w.isalpha() and w not in YES_NO]
    if not claim.strip() or len(words) > 1:
        return False
    return not words or (any(c.isdecimal() for c in claim) and len(claim.split()) <= 3)


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
    *,
    threshold: float,
    skip: str = "",
    question: str = "",
) -> Verified:
    """Verify, repair and renumber the citations of `answer_text`.

    A passage supports a sentence when its support score reaches `threshold`
    (`settings.answer.support_threshold`). `skip` is a sentence that needs no citation (the
    generator's "not covered" reply); `question`, when given, lets an answer cite the
    passage holding the question's premise.
    """
    checker = _Checker(passages, scorer, threshold, question)
    checked = [
        checker.check(sentence, skip)
        for sentence in split_sentences(answer_text)
        if strip_markers(sentence)
    ]
    cited = [checker.by_number[n] for _, kept in checked for n in dict.fromkeys(kept)]
    premise = premise_passage(question, cited, passages) if question and cited else None
    if premise is not None:  # the first cited sentence carries the premise
        first = next(kept for _, kept in checked if kept)
        first.append(premise.number)
        checker.supports.append((premise.number, *scorer.support(question, premise.text)))
    return checker.renumber(checked)


class _Checker:
    """The support of each answer sentence by the shown passages, and the best quotes."""

    def __init__(
        self,
        passages: Sequence[Passage],
        scorer: EvidenceScorer,
        threshold: float,
        question: str = "",
    ):
        self.passages = passages
        self.question = question  # what a bare answer ("2", "Yes") is judged with
        self.scorer = scorer
        self.threshold = threshold
        self.by_number = {p.number: p for p in passages}
        # (passage number, score, quote) of each claim a passage supports, claim by claim
        self.supports: list[tuple[int, float, str]] = []
        self.flagged: list[str] = []

    def check(self, sentence: str, skip: str) -> tuple[str, list[int]]:
        """The sentence in the passages' words and the passages that support it: its own
        citations that hold, else the best shown passage; none flags it."""
        claim = strip_markers(sentence)
        if (skip and claim == skip) or not (content_stems(claim) or self._bare(claim)):
            return claim, []
        kept: list[int] = []
        worded = claim
        for n in dict.fromkeys(cited_numbers(sentence)):
            reworded = self._supports(n, claim) if n in self.by_number else ""
            if reworded:
                worded = worded if kept else reworded
                kept.append(n)
        if not kept:
            best = self._best(claim)
            if best is not None:
                kept.append(best[0])
                worded = best[1]
        if not kept:
            self.flagged.append(worded)
        return worded, kept

    def _supports(self, number: int, claim: str) -> str:
        """The claim as the passage words it when passage `number` supports it, else ""."""
        return self._keep(number, *self._support(number, claim))

    def _keep(self, number: int, score: float, quote: str, worded: str) -> str:
        if score < self.threshold:
            return ""
        self.supports.append((number, score, quote))
        return worded

    def _best(self, claim: str) -> tuple[int, str] | None:
        """The shown passage that supports the claim best, when one supports it at all."""
        best: tuple[int | None, float, str, str] = (None, 0.0, "", claim)
        for p in self.passages:
            score, quote, worded = self._support(p.number, claim)
            if score > best[1]:
                best = (p.number, score, quote, worded)
        number = best[0]
        if number is None or not self._keep(number, *best[1:]):
            return None
        return number, best[3]

    def _bare(self, claim: str) -> bool:
        return bool(self.question) and is_bare(claim)

    def _support(self, number: int, claim: str) -> tuple[float, str, str]:
        return support(self.scorer, claim, self.by_number[number].text, self.question)

    def renumber(self, checked: list[tuple[str, list[int]]]) -> Verified:
        """Number the cited passages 1, 2, ... in order of first use."""
        order: dict[int, int] = {}  # passage number -> citation number
        sentences = []
        for claim, kept in checked:
            for n in kept:
                order.setdefault(n, len(order) + 1)
            sentences.append(" ".join([claim, "".join(f"[{order[n]}]" for n in kept)]).strip())
        citations = [self._citation(n, number) for n, number in order.items()]
        quotes = [(order[n], quote) for n, _, quote in self.supports if n in order]
        return Verified(" ".join(sentences), citations, self.flagged, quotes)

    def _citation(self, n: int, number: int) -> Citation:
        # the citation's quote: its best-supported claim's (the first of equals)
        _, score, quote = max((s for s in self.supports if s[0] == n), key=lambda s: s[1])
        return self.by_number[n].cite(number, quote, round(score, 4))

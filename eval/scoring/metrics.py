"""Deterministic scoring functions for the eval suite: pure, no I/O, no model, no LLM judge.

Answers are scored the SQuAD way (normalise, then exact match and token F1) plus a stricter
"contains a gold answer" test on token boundaries. Gold passages are found by overlap with the
item's evidence sentences, so the suite stays valid when the chunking changes.
"""

from __future__ import annotations

import math
import re
import unicodedata
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from difflib import SequenceMatcher

# --- answer normalisation (SQuAD v1.1 `normalize_answer`, extended to Unicode punctuation) ---

_ARTICLES = re.compile(r"\b(a|an|the)\b")
_MARKER = re.compile(r"\[\s*(\d+(?:\s*,\s*\d+)*)\s*\]")


def _is_punct(ch: str) -> bool:
    return unicodedata.category(ch).startswith("P") or ch in "$+<=>^`|~"


def strip_citations(text: str) -> str:
    """The text without its inline `[n]` / `[n, m]` citation markers."""
    return _MARKER.sub(" ", text)


def normalize_answer(text: str) -> str:
    """Lower case, drop punctuation (ASCII and Unicode: ’ “ ” too), articles and extra spaces."""
    text = text.lower()
    text = "".join(ch for ch in text if not _is_punct(ch))
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def answer_tokens(text: str) -> list[str]:
    return normalize_answer(text).split()


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """1.0 when the normalised prediction equals any normalised gold answer."""
    pred = normalize_answer(strip_citations(prediction))
    return float(any(pred == normalize_answer(g) for g in golds))


def _f1(pred: list[str], gold: list[str]) -> float:
    if not pred or not gold:
        return float(pred == gold)
    common = Counter(pred) & Counter(gold)
    same = sum(common.values())
    if same == 0:
        return 0.0
    precision = same / len(pred)
    recall = same / len(gold)
    return 2 * precision * recall / (precision + recall)


def token_f1(prediction: str, golds: Sequence[str]) -> float:
    """Best SQuAD token F1 of the prediction against any gold answer (0.0 with no golds)."""
    pred = answer_tokens(strip_citations(prediction))
    return max((_f1(pred, answer_tokens(g)) for g in golds), default=0.0)


def _contains_run(haystack: Sequence[str], needle: Sequence[str]) -> bool:
    n = len(needle)
    if n == 0 or n > len(haystack):
        return False
    first = needle[0]
    return any(
        haystack[i] == first and list(haystack[i : i + n]) == list(needle)
        for i in range(len(haystack) - n + 1)
    )


def contains_answer(prediction: str, golds: Sequence[str]) -> bool:
    """True when some gold answer occurs in the prediction on token boundaries.

    Both sides are SQuAD-normalised, so "1" does not match inside "1998" and "the ROSS" matches
    "ross". A gold answer that normalises to nothing never matches.
    """
    pred = answer_tokens(strip_citations(prediction))
    return any(_contains_run(pred, answer_tokens(g)) for g in golds)


def cited_answer(prediction: str, cited: Iterable[str], golds: Sequence[str]) -> bool:
    """SQuAD-style scoring with citations: the prediction contains a gold answer and one of
    its cited passages contains a gold answer (`contains_answer` on both). The golds are
    spellings of one answer, so the passage may spell it another way ("2.4 meters" for a
    passage's "2.4 metres", both gold)."""
    return contains_answer(prediction, golds) and any(contains_answer(t, golds) for t in cited)


# --- gold passages: overlap with the evidence sentences ---

_WORD = re.compile(r"\w+")
MIN_EVIDENCE_SHARE = 0.6


def squash_spaces(text: str) -> str:
    return " ".join(text.split())


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def evidence_share(evidence: str, passage: str) -> float:
    """The share of the evidence's words found in the passage as one contiguous run (0..1).

    1.0 when the whole evidence occurs in the passage (white space normalised). A chunker that
    cuts a long sentence between words leaves a contiguous part of it in each chunk, which is
    what the longest common run measures; scattered common words do not add up. (So chunks
    shorter than about 60% of an evidence sentence can never be gold: on the seed article
    that means chunk sizes under 32 tokens.)
    """
    if not evidence.strip():
        return 0.0
    if squash_spaces(evidence) in squash_spaces(passage):
        return 1.0
    ev, pa = _words(evidence), _words(passage)
    if not ev or not pa:
        return 0.0
    match = SequenceMatcher(None, ev, pa, autojunk=False).find_longest_match(0, len(ev), 0, len(pa))
    return match.size / len(ev)


def evidence_in_passage(evidence: str, passage: str, min_share: float = MIN_EVIDENCE_SHARE) -> bool:
    """Whether the passage holds the evidence sentence (all of it, or >= min_share of it)."""
    return evidence_share(evidence, passage) >= min_share


def is_gold_passage(
    passage: str, evidence: Sequence[str], min_share: float = MIN_EVIDENCE_SHARE
) -> bool:
    """A passage is gold when it holds any one of the item's evidence sentences."""
    return any(evidence_in_passage(e, passage, min_share) for e in evidence)


def evidence_recall(
    passages: Iterable[str], evidence: Sequence[str], min_share: float = MIN_EVIDENCE_SHARE
) -> float:
    """The share of the evidence sentences held by at least one of the passages (0..1)."""
    texts = list(passages)
    if not evidence:
        return 0.0
    found = sum(any(evidence_in_passage(e, p, min_share) for p in texts) for e in evidence)
    return found / len(evidence)


# --- retrieval ---


def first_gold_rank(passages: Sequence[str], evidence: Sequence[str]) -> int | None:
    """1-based rank of the first gold passage in a ranked list, or None when there is none."""
    for rank, text in enumerate(passages, start=1):
        if is_gold_passage(text, evidence):
            return rank
    return None


def hit_at_k(rank: int | None, k: int) -> float:
    return float(rank is not None and rank <= k)


def reciprocal_rank(rank: int | None, k: int = 10) -> float:
    """1/rank when the first gold passage is within the top k, else 0 (MRR@k per item)."""
    return 1.0 / rank if rank is not None and rank <= k else 0.0


# --- citations ---


def citation_numbers(text: str) -> list[int]:
    """Every citation number written in the text, in order ("[1][3]" and "[1, 3]" both work)."""
    numbers: list[int] = []
    for match in _MARKER.finditer(text):
        numbers.extend(int(n) for n in re.split(r"\s*,\s*", match.group(1)))
    return numbers


def citations_valid(text: str, shown: Iterable[int]) -> bool:
    """True when every [n] in the text points to a passage that was shown (vacuously true)."""
    allowed = set(shown)
    return all(n in allowed for n in citation_numbers(text))


def citation_support(text: str, passages: Mapping[int, str], evidence: Sequence[str]) -> float:
    """The share of the evidence sentences held by the passages the text actually cites.

    `passages` maps citation numbers to passage texts; numbers that point nowhere count for
    nothing. 1.0 means the cited passages hold all of the gold evidence.
    """
    cited = [passages[n] for n in dict.fromkeys(citation_numbers(text)) if n in passages]
    return evidence_recall(cited, evidence) if cited else 0.0


_SENTENCE_END = re.compile(r"(?<=[.!?…])[\"'”’)\]]*\s+|\n+")
# "Foo. [1] Bar." -> the marker belongs to "Foo.": move markers in front of the full stop.
_MARKER_AFTER_STOP = re.compile(r"([.!?…])((?:\s*\[\s*\d+(?:\s*,\s*\d+)*\s*\])+)")


def answer_sentences(text: str) -> list[str]:
    """The sentences of an answer (markers kept), ignoring pieces with no word in them."""
    text = _MARKER_AFTER_STOP.sub(lambda m: m.group(2) + m.group(1), text)
    pieces = (p.strip() for p in _SENTENCE_END.split(text))
    return [p for p in pieces if p and _WORD.search(strip_citations(p))]


def citation_coverage(text: str) -> float:
    """The share of answer sentences that carry at least one [n] marker (0.0 for no text)."""
    sentences = answer_sentences(text)
    if not sentences:
        return 0.0
    return sum(bool(_MARKER.search(s)) for s in sentences) / len(sentences)


# --- refusal ---


def refusal_scores(outcomes: Iterable[tuple[bool, bool]]) -> dict[str, float | None]:
    """Precision and recall of refusing unanswerable questions, and the false-refusal rate.

    `outcomes` holds (answerable, refused) per item; an item that crashed counts as not refused
    (it gave no refusal), so it lowers recall and never helps precision. A ratio with an empty
    denominator is None (e.g. a run with no unanswerable items).
    """
    pairs = list(outcomes)
    refused = [a for a, r in pairs if r]
    unanswerable = [r for a, r in pairs if not a]
    answerable = [r for a, r in pairs if a]
    true_refusals = sum(1 for a, r in pairs if r and not a)
    return {
        "refusal_precision": true_refusals / len(refused) if refused else None,
        "refusal_recall": true_refusals / len(unanswerable) if unanswerable else None,
        "false_refusal_rate": sum(answerable) / len(answerable) if answerable else None,
    }


def crag_score(answerable: bool, refused: bool, correct: bool, crashed: bool = False) -> int:
    """CRAG-style truthfulness score of one item: +1 correct, 0 refused, -1 wrong.

    For an unanswerable question the refusal *is* the correct answer (+1) and any answer is a
    hallucination (-1). A crash is wrong (-1).
    """
    if crashed:
        return -1
    if not answerable:
        return 1 if refused else -1
    if refused:
        return 0
    return 1 if correct else -1


# --- selective answering ---


def risk_coverage(
    outcomes: Sequence[tuple[bool, bool, float | None]],
) -> list[tuple[float, float]]:
    """The risk-coverage curve of a run: (coverage, risk) after each answered item, answered
    items taken from the most to the least confident.

    `outcomes` holds (answered, correct, confidence) per item; coverage is the share of all
    items answered so far, risk the share of those answers that are wrong. The curve stops at
    the run's own coverage (a refused item has no answer to score).
    """
    answered = sorted(
        ((c if c is not None else 0.0, ok) for a, ok, c in outcomes if a),
        key=lambda x: -x[0],
    )
    curve, wrong = [], 0
    for i, (_, ok) in enumerate(answered, start=1):
        wrong += not ok
        curve.append((i / len(outcomes), wrong / i))
    return curve


def selective_scores(
    outcomes: Sequence[tuple[bool, bool, float | None]],
) -> dict[str, float | None]:
    """Coverage (share answered), selective accuracy (share of the answers that are right)
    and AURC (mean risk over the risk-coverage curve; lower is better)."""
    answered = [ok for a, ok, _ in outcomes if a]
    curve = risk_coverage(outcomes)
    return {
        "coverage": len(answered) / len(outcomes) if outcomes else None,
        "selective_accuracy": sum(answered) / len(answered) if answered else None,
        "aurc": sum(r for _, r in curve) / len(curve) if curve else None,
    }


# --- summaries ---


def mean(values: Sequence[float]) -> float | None:
    return sum(values) / len(values) if values else None


def percentile(values: Iterable[float], q: float) -> float | None:
    """The q-th percentile (0..100) with linear interpolation (numpy's default); None if empty."""
    data = sorted(v for v in values if v is not None and not math.isnan(v))
    if not data:
        return None
    if not 0 <= q <= 100:
        raise ValueError("percentile must be between 0 and 100")
    pos = (len(data) - 1) * q / 100
    low = math.floor(pos)
    high = math.ceil(pos)
    return data[low] + (data[high] - data[low]) * (pos - low)

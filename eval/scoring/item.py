"""Score one suite item from the pipeline's `Answer` and its ranked retrieval: the answer
metrics, the citation metrics, the CRAG-style score and the failure bucket.

Deterministic (no LLM judge); the metrics themselves are in `eval.scoring.metrics`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from eval.scoring import metrics as m
from eval.scoring import nuggets
from eval.suites.suite import Item

if TYPE_CHECKING:
    from assistant.types import Answer

RETRIEVE_DEPTH = 10  # passages ranked for hit@k and MRR@10


@dataclass
class ItemResult:
    id: str
    type: str
    answerable: bool
    question: str
    answer: str = ""
    refused: bool = False
    crashed: bool = False
    error: str = ""
    generator: str = ""  # the generator that actually answered
    standalone: str = ""  # the question the pipeline searched
    gold_rank: int | None = None  # rank of the first gold passage in the top RETRIEVE_DEPTH
    retrieved: list[str] = field(default_factory=list)  # "source:start-end" of the ranking
    exact_match: float = 0.0
    f1: float = 0.0
    contains: bool = False
    correct: bool = False
    citations_valid: bool = False
    citation_support: float = 0.0
    citation_coverage: float = 0.0
    crag: int = -1
    # Whole answers (eval/scoring/nuggets.py): the first nugget stated, every one, each cited.
    right: bool = False
    complete: bool = False
    faithful: bool = False
    nugget_share: float = 0.0
    bucket: str = "crash"
    probability: float | None = None  # the calibrated answerability of the answer
    decided: str = ""  # the stage that refused or let the answer through, and why
    draft: str = ""  # the generated text before the checks after generation ("" if none)
    objected: list[str] = field(default_factory=list)  # checks after generation that objected
    draft_right: bool = False  # the draft states the first nugget (answerable items)
    features: dict[str, float] = field(default_factory=dict)  # the answer's trace signals
    timings: dict[str, float] = field(default_factory=dict)


def score_item(
    item: Item,
    answer: Answer | None,
    ranked: Sequence[Any] | None,
    *,
    k_shown: int,
    error: str = "",
    wall: float | None = None,
) -> ItemResult:
    """Score one item from the pipeline's Answer (None when it crashed) and retrieval ranking.

    `ranked` holds passage-like objects (`.text`, `.source`, `.start`, `.end`) best first;
    `k_shown` is how many passages a generator is shown, for telling a retrieval miss apart.
    """
    r = ItemResult(item.id, item.type, item.answerable, item.question, error=error)
    if ranked is not None:
        _score_retrieval(r, item, ranked)
    if answer is None or error:
        r.crashed = True
        r.timings = {"wall": wall} if wall is not None else {}
        r.crag = m.crag_score(item.answerable, False, False, crashed=True)
        r.bucket = "crash"
        return r
    r.answer = answer.text
    r.refused = bool(answer.refused)
    r.generator = answer.generator
    r.standalone = answer.question
    r.timings = {k: float(v) for k, v in (answer.timings or {}).items()}
    trace = answer.trace
    r.probability = trace.probability if trace else None
    if trace:
        d = trace.decision
        r.decided = f"{d.stage}: {d.reason}" if d.reason else d.stage
        r.draft = d.draft or ("" if r.refused else r.answer)
        r.objected = list(d.objected)
        r.features = trace.features.to_dict()
    if wall is not None:
        r.timings["wall"] = wall
    _score_answer(r, item, answer)
    if item.answerable and r.draft:  # an answer given is its own draft, already scored
        r.draft_right = r.right if not r.refused else nuggets.score(r.draft, {}, item.vital).right
    r.correct = r.refused if not item.answerable else (not r.refused and r.contains)
    r.crag = m.crag_score(item.answerable, r.refused, r.correct)
    r.bucket = bucket(r, k_shown)
    return r


def _score_retrieval(r: ItemResult, item: Item, ranked: Sequence[Any]) -> None:
    r.retrieved = [f"{p.source}:{p.start}-{p.end}" for p in ranked]
    if item.answerable and item.evidence:
        r.gold_rank = m.first_gold_rank([p.text for p in ranked], item.evidence)
    elif item.answerable:  # no evidence sentence: a chunk of its document with an answer
        golds = [p.text if p.source == item.source else "" for p in ranked]
        r.gold_rank = next(
            (i for i, t in enumerate(golds, 1) if m.contains_answer(t, item.answers)), None
        )


def _score_answer(r: ItemResult, item: Item, answer: Answer) -> None:
    passages = {c.number: c.text for c in answer.citations}
    r.citations_valid = m.citations_valid(answer.text, passages)
    if not r.refused:
        r.citation_coverage = m.citation_coverage(answer.text)
    if not item.answerable or r.refused:
        return
    r.exact_match = m.exact_match(answer.text, item.answers)
    r.f1 = m.token_f1(answer.text, item.answers)
    r.contains = m.contains_answer(answer.text, item.answers)
    whole = nuggets.score(answer.text, passages, item.vital)
    r.right, r.complete, r.faithful = whole.right, whole.complete, whole.faithful
    r.nugget_share = whole.share
    if item.evidence:
        r.citation_support = m.citation_support(answer.text, passages, item.evidence)
    else:  # the dataset's rule: a cited passage holds an answer the text gives
        cited = m.cited_answer(answer.text, passages.values(), item.answers)
        r.citation_support = float(cited)
        r.contains = r.contains and r.citation_support == 1.0


def bucket(r: ItemResult, k_shown: int) -> str:
    """The failure bucket of a scored item ("ok" when nothing is wrong)."""
    if r.crashed:
        return "crash"
    if not r.answerable:
        return "ok" if r.refused else "answered_unanswerable"
    retrieval_missed = r.gold_rank is None or r.gold_rank > k_shown
    if r.refused:
        return "retrieval_miss" if retrieval_missed else "false_refusal"
    if not r.correct:
        return "retrieval_miss" if retrieval_missed else "wrong_answer"
    if not r.citations_valid or r.citation_support < 1.0 or r.citation_coverage < 1.0:
        return "uncited_or_miscited"
    return "ok"

"""The evidence signals of one question: what retrieval and the best sentences say about
whether the documents hold its answer (`features`), for the answer trace and the reports.

Only `best_cosine` decides anything (`assistant.question.answerability`'s floor for the plainly
unrelated): embedding cosines mean the same on any corpus and for any wording, while word
overlap changes with how a question is worded and fused-rank scores with the corpus size,
so neither is computed. Changing `best_cosine`'s definition needs a refit.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from assistant.rules.evidence import EvidenceScorer, Scored
from assistant.rules.text import content_stems, coverage, topic_words
from assistant.types import Signals


def closeness(scorer: EvidenceScorer, question: str, shown_text: str) -> float:
    """How close the question's least-matched topic word comes (word-embedding cosine) to a
    word of the shown sentences; 1.0 when each of its topic words occurs in them."""
    present = content_stems(shown_text)
    missing = [w for w in topic_words(question) if not content_stems(w) <= present]
    candidates = topic_words(shown_text)
    if not missing or not candidates:
        return 1.0
    return float((scorer.vectors(missing) @ scorer.vectors(candidates).T).max(axis=1).min())


def features(
    scorer: EvidenceScorer,
    question: str,
    ranked: Sequence[Scored],
    hits: Sequence[Any],
    shown: int,
) -> Signals:
    """The retrieval and evidence signals of one question (all 0 when nothing was found).

    `ranked` are the retrieved chunks' sentences scored against the question, best first;
    `hits` the fused retrieval hits (`.dense`); the best `shown` sentences (the setting
    `shown_sentences`) count as shown for the coverage signals.
    """
    if not ranked or not hits:
        return Signals()
    best = ranked[:shown]
    shown_text = " ".join(s.sentence.text for s in best)
    return Signals(
        best_score=ranked[0].score,
        best_cosine=max(s.cosine for s in ranked),
        best_coverage=max(s.coverage for s in best),
        shown_coverage=coverage(question, shown_text),
        closeness=closeness(scorer, question, shown_text),
        dense_top=max(h.dense for h in hits),
    )

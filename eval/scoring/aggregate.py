"""A run's scored items summed up: the headline metrics, latency per stage, accuracy per
question type and the failure buckets.

Denominators: retrieval, answer and citation-support metrics over the answerable items;
citation validity over all items (a refusal has no dangling marker); citation coverage over
the items that were answered or crashed (a refusal makes no claim); refusal metrics as in
`eval.scoring.metrics.refusal_scores`. Crashed items score 0 (wrong) everywhere.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

from eval.scoring import metrics as m
from eval.scoring.item import ItemResult
from eval.suites.suite import TYPES

# The headline metrics, in display order. Every one is a mean over a fixed set of items.
HEADLINE = (
    "accuracy",
    "crag",
    "hit@1",
    "hit@3",
    "hit@5",
    "mrr@10",
    "exact_match",
    "f1",
    "contains",
    "right",
    "complete",
    "faithful",
    "citation_validity",
    "citation_support",
    "citation_coverage",
    "refusal_precision",
    "refusal_recall",
    "false_refusal_rate",
    "coverage",
    "selective_accuracy",
    "aurc",
    "latency_p50_s",
    "latency_p95_s",
)
LOWER_IS_BETTER = frozenset({"false_refusal_rate", "aurc", "latency_p50_s", "latency_p95_s"})
BUCKETS = (
    "ok",
    "retrieval_miss",
    "wrong_answer",
    "uncited_or_miscited",
    "false_refusal",
    "answered_unanswerable",
    "crash",
)


def aggregate(results: Sequence[ItemResult]) -> dict[str, Any]:
    """Headline metrics, per-stage latency, per-type accuracy and bucket counts."""
    answerable = [r for r in results if r.answerable]
    headline = headline_metrics(results)
    counts = Counter(r.bucket for r in results)
    return {
        "headline": {k: round4(headline[k]) for k in HEADLINE},
        "latency": latency_per_stage(results),
        "per_type": accuracy_per_type(results),
        "buckets": {b: counts.get(b, 0) for b in BUCKETS},
        "counts": {
            "items": len(results),
            "answerable": len(answerable),
            "unanswerable": len(results) - len(answerable),
            "crashed": sum(r.crashed for r in results),
            "refused": sum(r.refused for r in results),
        },
    }


def headline_metrics(results: Sequence[ItemResult]) -> dict[str, float | None]:
    """Every metric of HEADLINE, unrounded (None where a run cannot measure it)."""
    answerable = [r for r in results if r.answerable]
    answered = [r for r in results if r.crashed or not r.refused]
    headline: dict[str, float | None] = {
        "accuracy": _mean([r.correct for r in results]),
        "crag": _mean([r.crag for r in results]),
        "hit@1": _mean([m.hit_at_k(r.gold_rank, 1) for r in answerable]),
        "hit@3": _mean([m.hit_at_k(r.gold_rank, 3) for r in answerable]),
        "hit@5": _mean([m.hit_at_k(r.gold_rank, 5) for r in answerable]),
        "mrr@10": _mean([m.reciprocal_rank(r.gold_rank, 10) for r in answerable]),
        "exact_match": _mean([r.exact_match for r in answerable]),
        "f1": _mean([r.f1 for r in answerable]),
        "contains": _mean([r.contains for r in answerable]),
        "right": _mean([r.right and not r.refused for r in answerable]),
        "complete": _mean([r.complete and not r.refused for r in answerable]),
        "faithful": _mean([r.faithful and not r.refused for r in answerable]),
        "citation_validity": _mean([r.citations_valid for r in results]),
        "citation_support": _mean([r.citation_support for r in answerable]),
        "citation_coverage": _mean([r.citation_coverage for r in answered]),
    }
    headline.update(m.refusal_scores((r.answerable, r.refused and not r.crashed) for r in results))
    headline.update(m.selective_scores(selective_outcomes(results)))
    totals = [t for t in map(total_seconds, results) if t is not None]
    headline["latency_p50_s"] = m.percentile(totals, 50)
    headline["latency_p95_s"] = m.percentile(totals, 95)
    return headline


def selective_outcomes(results: Sequence[ItemResult]) -> list[tuple[bool, bool, float | None]]:
    """(answered, right, calibrated probability) per item, for the risk-coverage figures."""
    return [(not r.refused or r.crashed, r.correct, r.probability) for r in results]


def total_seconds(r: ItemResult) -> float | None:
    """An item's whole time: the pipeline's own total, or the wall time of a crash."""
    return r.timings.get("total", r.timings.get("wall"))


def latency_per_stage(results: Sequence[ItemResult]) -> dict[str, dict[str, Any]]:
    stages = sorted({s for r in results for s in r.timings})
    latency = {
        s: {
            "n": len(vals),
            "p50": m.percentile(vals, 50),
            "p95": m.percentile(vals, 95),
        }
        for s in stages
        for vals in [[r.timings[s] for r in results if s in r.timings]]
    }
    return {s: {k: round4(v) for k, v in d.items()} for s, d in latency.items()}


def accuracy_per_type(results: Sequence[ItemResult]) -> dict[str, dict[str, Any]]:
    """Per question type: accuracy, the share refused and, for answerable types, the whole
    answers' figures (eval/scoring/nuggets.py)."""
    per_type: dict[str, dict[str, Any]] = {}
    for t in TYPES:
        rows = [r for r in results if r.type == t]
        if not rows:
            continue
        d: dict[str, Any] = {"n": len(rows), "accuracy": round4(_mean([r.correct for r in rows]))}
        d["refused"] = round4(_mean([r.refused for r in rows]))
        if any(r.answerable for r in rows):
            for name in ("right", "complete", "faithful"):
                d[name] = round4(_mean([getattr(r, name) and not r.refused for r in rows]))
        per_type[t] = d
    return per_type


def _mean(values: Sequence[float]) -> float | None:
    return m.mean([float(v) for v in values])


def round4(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value

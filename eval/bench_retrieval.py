"""The bench's retrieval stage: our hybrid retrieval against the LangChain baseline's dense
search over the seed article: latency (median and p95) and hit@1 / hit@5 on the seed suite's
answerable questions."""

from __future__ import annotations

import statistics
from collections.abc import Callable
from typing import Any

from eval import metrics as m
from eval.bench_tools import QUESTION, ROOT, Context, stats, suite_rows, timed

Search = Callable[[str, int], list[str]]  # question, k -> passage texts, best first


def hits(items: list[dict[str, Any]], search: Search) -> dict[int, float]:
    """hit@1 and hit@5 of `search` over the items (follow-ups condensed as the pipeline
    would)."""
    from assistant.condense import condense

    found: dict[int, list[float]] = {1: [], 5: []}
    for item in items:
        q = condense(item["question"], [tuple(h) for h in item.get("history") or []])
        rank = m.first_gold_rank(search(q, 5), item["evidence"])
        for n in found:
            found[n].append(m.hit_at_k(rank, n))
    return {n: statistics.mean(values) for n, values in found.items()}


def latencies(
    ctx: Context, questions: list[str], search: Callable[[str, int], object]
) -> dict[str, Any]:
    """Per-question latency of one question (for p95) and the mean over the suite's."""
    k = ctx.settings.k
    rounds = 1 if ctx.args.quick else 3

    def all_questions() -> None:
        for q in questions:
            search(q, k)

    over_suite = [t / len(questions) for t in timed(all_questions, rounds)]
    each = timed(lambda: search(QUESTION, k), 10 if ctx.args.quick else 30)
    return {"each": stats(each), "mean_over_suite": statistics.median(over_suite)}


def retrieval(ctx: Context) -> None:
    from eval.langchain_baseline import LangChainBaseline

    baseline = LangChainBaseline(ctx.embedder, ctx.work / "lc-article")
    baseline.ingest([ROOT / "seeds"])

    def ours(q: str, k: int) -> list[str]:
        return [p.text for p in ctx.pipeline.retrieve(q, k)]

    items = [i for i in suite_rows() if i["answerable"]]
    ours_hits, base_hits = hits(items, ours), hits(items, baseline.search)
    questions = [i["question"] for i in items]
    ours_time = latencies(ctx, questions, ctx.pipeline.retrieve)
    base_time = latencies(ctx, questions, baseline.search)
    ctx.results["retrieval"] = {
        "ours": ours_time["each"],
        "ours_mean_over_suite": ours_time["mean_over_suite"],
        "baseline": base_time["each"],
        "baseline_mean_over_suite": base_time["mean_over_suite"],
        "hit@1": ours_hits[1],
        "hit@5": ours_hits[5],
        "baseline_hit@1": base_hits[1],
        "baseline_hit@5": base_hits[5],
        "questions": len(items),
    }

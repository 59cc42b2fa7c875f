"""The bench's retrieval stage: our hybrid retrieval against the LangChain baseline's dense
search over the seed article: latency (median and p95) and hit@1 / hit@5 on the seed suite's
answerable questions; and, over a generated corpus of many documents, a question scoped to
one document (and to ten) against the same question over all of them: what a scope costs."""

from __future__ import annotations

import statistics
import time
from collections.abc import Callable
from typing import Any

from eval.bench.corpus import write_corpus
from eval.bench.tools import QUESTION, ROOT, Context, stats, suite_rows, timed
from eval.scoring import metrics as m

Search = Callable[[str, int], list[str]]  # question, k -> passage texts, best first


def hits(items: list[dict[str, Any]], search: Search) -> dict[int, float]:
    """hit@1 and hit@5 of `search` over the items (follow-ups condensed as the pipeline
    would)."""
    from assistant.question.condense import condense

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
    k = ctx.settings.retrieval.k
    rounds = 1 if ctx.args.quick else 3

    def all_questions() -> None:
        for q in questions:
            search(q, k)

    over_suite = [t / len(questions) for t in timed(all_questions, rounds)]
    each = timed(lambda: search(QUESTION, k), 10 if ctx.args.quick else 30)
    return {"each": stats(each), "mean_over_suite": statistics.median(over_suite)}


def retrieval(ctx: Context) -> None:
    from eval.bench.langchain_baseline import LangChainBaseline

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
    ctx.results["retrieval_scope"] = scoped(ctx)


# Questions in the generated corpus's words (eval/bench/corpus.py).
SCOPE_QUESTIONS = [
    "What did the crew at Kourou confirm?",
    "When did mission control postpone the docking procedure?",
    "Which budget did the committee review?",
    "What did the observatory at Baikonur test?",
    "Who approved the new supply schedule at Houston?",
    "What did the pilot document at Tanegashima?",
]


def scoped(ctx: Context) -> dict[str, Any]:
    """Retrieval latency over a generated corpus (100 files; 20 with --quick) for questions
    over every document, scoped to one and scoped to ten, timed in turn per question so
    that the machine's drift falls on all three alike."""
    from assistant.question.pipeline import get_pipeline
    from assistant.settings import Settings
    from index import Store, ingest

    files = 20 if ctx.args.quick else 100
    corpus = write_corpus(ctx.work / "scope-corpus", files, 80)
    data = ctx.work / "scope-index"
    settings = Settings(index={"data_dir": data}, answer={"generator": "extractive"})
    report = ingest(
        [corpus],
        Store(data),
        ctx.embedder,
        progress=False,
        chunk_size=settings.index.chunk_size,
        overlap=settings.index.chunk_overlap,
    )
    pipeline = get_pipeline(settings)
    names = sorted(p.name for p in corpus.iterdir())
    scopes: dict[str, list[str] | None] = {
        "all": None,
        "one": names[len(names) // 2 : len(names) // 2 + 1],
        "ten": names[:: max(1, len(names) // 10)][:10],
    }
    times: dict[str, list[float]] = {name: [] for name in scopes}
    k = settings.retrieval.k
    for q in SCOPE_QUESTIONS:  # warm-up: the BM25 index, the ONNX session
        pipeline.retrieve(q, k)
    for _ in range(3 if ctx.args.quick else 15):
        for q in SCOPE_QUESTIONS:
            for name, sources in scopes.items():
                t = time.perf_counter()
                pipeline.retrieve(q, k, sources)
                times[name].append(time.perf_counter() - t)
    figures: dict[str, Any] = {name: stats(values) for name, values in times.items()}
    figures.update(documents=files, chunks=report.chunks, k=k)
    return figures

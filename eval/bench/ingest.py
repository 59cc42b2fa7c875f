"""The bench's ingestion stage: our ingestion against the plain LangChain pipeline's, on a
generated corpus and on the squad2-open documents (when `../shared/datasets/squad2-open` is
there).

Chunks per second is not a fair unit across chunkers (ours and LangChain's cut different
chunks), so each corpus is also counted in bytes (its files on disk) and in tiktoken tokens,
and both pipelines are given per second of those, with the ratio ours / baseline. Both
share one embedder, warmed up first: its first call loads the model (about 5 s here), which
would otherwise be charged to whichever pipeline ingests first.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from eval.bench.corpus import write_corpus
from eval.bench.tools import QUESTION, Context

SQUAD_KEY = "ingest_squad2_open"


def corpus_size(folder: Path) -> dict[str, int]:
    """Files, bytes on disk and tiktoken tokens of the supported files under `folder`."""
    from index.load import SUPPORTED_SUFFIXES, UnreadableFile, iter_files, read_text
    from index.tokens import count_tokens

    files = size = tokens = 0
    for path in iter_files([folder]):
        if path.suffix.lower() not in SUPPORTED_SUFFIXES:
            continue
        try:
            text = read_text(path)
        except UnreadableFile:
            continue
        files += 1
        size += path.stat().st_size
        tokens += count_tokens(text)
    return {"files": files, "bytes": size, "tokens": tokens}


def measure(ctx: Context, name: str, corpus: Path, *, again: bool = False) -> dict[str, Any]:
    """Ingest `corpus` into a new store of ours and a new LangChain baseline; throughput of
    each in chunks, bytes and tokens per second (and, with `again`, the second ingest of the
    same corpus by ours, nothing changed)."""
    from assistant.settings import Settings
    from eval.bench.langchain_baseline import LangChainBaseline
    from index import IngestReport, Store, ingest

    size = corpus_size(corpus)
    ctx.say(
        f"ingesting {name}: {size['files']} files, {size['bytes']:,} bytes, "
        f"{size['tokens']:,} tokens ..."
    )
    key = name.split()[0]
    store = Store(ctx.work / f"ours-{key}")
    settings = Settings()
    chunking: dict[str, Any] = {
        "chunk_size": settings.index.chunk_size,
        "overlap": settings.index.chunk_overlap,
    }

    def run() -> IngestReport:
        return ingest([corpus], store, ctx.embedder, progress=False, **chunking)

    first = run()
    second = run() if again else None
    baseline = LangChainBaseline(ctx.embedder, ctx.work / f"lc-{key}")
    base_chunks, base_seconds = baseline.ingest([corpus])
    figures: dict[str, Any] = {"corpus": name, "path": str(corpus), **size}
    figures.update(_throughput("", first.chunks, first.seconds, size))
    if second is not None:
        figures["no_change_seconds"] = second.seconds
    figures.update(_throughput("baseline_", base_chunks, base_seconds, size))
    figures["ratio"] = {
        unit: figures[unit] / figures["baseline_" + unit] if figures["baseline_" + unit] else None
        for unit in ("chunks_per_s", "bytes_per_s", "tokens_per_s")
    }
    return figures


def _throughput(prefix: str, chunks: int, seconds: float, size: dict[str, int]) -> dict[str, Any]:
    return {
        prefix + "chunks": chunks,
        prefix + "seconds": seconds,
        prefix + "chunks_per_s": chunks / seconds,
        prefix + "bytes_per_s": size["bytes"] / seconds,
        prefix + "tokens_per_s": size["tokens"] / seconds,
    }


def ingestion(ctx: Context) -> None:
    from eval.suites import squad2_open as squad

    files, per_file = (20, 60) if ctx.args.quick else (100, 80)
    corpus = write_corpus(ctx.work / "corpus", files, per_file)
    ctx.embedder.embed_documents([QUESTION] * 8)  # the model loads on its first call
    ctx.results["ingest"] = measure(ctx, "generated corpus", corpus, again=True)
    docs = squad.dataset_dir() / "docs"
    if docs.is_dir():
        ctx.results[SQUAD_KEY] = measure(ctx, "squad2-open docs", docs)
    else:
        ctx.say(f"no folder {docs}: the squad2-open ingestion figures are skipped")
        ctx.results[SQUAD_KEY] = {"corpus": "squad2-open docs", "missing": str(docs)}

"""The bench's ingestion stage: our ingestion against the plain LangChain pipeline's on a
generated corpus."""

from __future__ import annotations

from eval.bench_tools import Context
from eval.corpus import write_corpus


def ingestion(ctx: Context) -> None:
    from eval.langchain_baseline import LangChainBaseline
    from index import Store, ingest

    files, per_file = (20, 60) if ctx.args.quick else (100, 80)
    corpus = write_corpus(ctx.work / "corpus", files, per_file)
    ctx.say(f"ingesting a generated corpus of {files} files ...")
    store = Store(ctx.work / "ours")
    first = ingest([corpus], store, ctx.embedder, progress=False)
    second = ingest([corpus], store, ctx.embedder, progress=False)
    base_chunks, base_seconds = LangChainBaseline(ctx.embedder, ctx.work / "lc").ingest([corpus])
    ctx.results["ingest"] = {
        "chunks": first.chunks,
        "seconds": first.seconds,
        "chunks_per_s": first.chunks / first.seconds,
        "no_change_seconds": second.seconds,
        "baseline_chunks": base_chunks,
        "baseline_chunks_per_s": base_chunks / base_seconds,
    }

"""The bench's scale and memory stages: a store of `--scale` chunks (default 100,000), of
which `--scale-embedded` are embedded for real and the rest re-use those vectors plus noise;
hybrid query latency and the app process's memory over it, measured in a fresh process; and
the bench process's own peak memory."""

from __future__ import annotations

import json
import random
import subprocess
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eval.bench.corpus import sentence
from eval.bench.tools import Context, peak_rss_mb, rss_mb, share_models, stats

if TYPE_CHECKING:
    from index import Store

PER_DOC, PER_WRITE = 100, 5000  # 50 documents of 100 chunks per write


def scale(ctx: Context) -> None:
    from index import Store

    total = ctx.args.scale
    where = ctx.args.scale_dir or ctx.work / "scale"
    store = Store(where)
    if store.count() == total:
        ctx.say(f"re-using the {total:,}-chunk store in {where}")
        measure(ctx, store, where, ctx.args.scale_embedded, None)
        return
    if store.count():
        raise SystemExit(f"{where} holds another store: remove it or pick another folder")
    ctx.say(f"building a {total:,}-chunk store in {where} ...")
    real = min(total, ctx.args.scale_embedded)
    measure(ctx, store, where, real, build(ctx, store, total, real))


def build(ctx: Context, store: Store, total: int, real: int) -> float:
    """Write `total` generated chunks; the first `real` embedded for real, the others nearby,
    distinct vectors: re-used real embeddings plus noise. Returns the seconds the writes
    took (the embedding not counted)."""
    import numpy as np

    from index.split import Chunk
    from index.store import Commit

    rng = random.Random(11)
    texts = [" ".join(sentence(rng, i * 4 + j) for j in range(4)) for i in range(total)]
    vectors = ctx.embedder.encode_full(texts[:real])
    noise = np.random.default_rng(3)
    t0 = time.perf_counter()
    for w in range(0, total, PER_WRITE):
        chunk_texts = texts[w : w + PER_WRITE]
        idx = np.arange(w, w + len(chunk_texts))
        vecs = vectors[idx % real].copy()
        fresh = idx >= real
        if fresh.any():
            vecs[fresh] += noise.normal(0, 0.03, (int(fresh.sum()), vecs.shape[1]))
            vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
        chunks, commits = [], []
        for d in range(w, w + len(chunk_texts), PER_DOC):
            source = f"scale/doc-{d // PER_DOC:05d}.txt"
            doc = texts[d : min(d + PER_DOC, w + len(chunk_texts))]
            chunks += [Chunk(f"s{d + i}", source, 0, len(t), t, "v1") for i, t in enumerate(doc)]
            commits.append(Commit(source, "v1", "-", len(doc), "\n".join(doc)))
        store.add_chunks(chunks, vecs.astype(np.float32))
        store.commit_documents(commits)
    return time.perf_counter() - t0


def measure(ctx: Context, store: Store, where: Path, real: int, seconds: float | None) -> None:
    """Query latency and memory, measured in a fresh process shaped like the app: the
    pipeline over this store, with the local model loaded (unless --no-local)."""
    share_models(where)
    cmd = [sys.executable, "-m", "eval.bench.run", "--scale-worker", str(where)]
    if ctx.args.no_local:
        cmd.append("--no-local")
    proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
    if proc.returncode != 0:
        ctx.results["scale"] = {"error": proc.stderr.strip()[-300:]}
        return
    worker = json.loads(proc.stdout.strip().splitlines()[-1])
    ctx.results["scale"] = {
        "chunks": store.count(),
        "embedded_for_real": real,
        "write_seconds": seconds,
        **worker,
    }


def scale_worker(data_dir: Path, local: bool) -> dict[str, Any]:
    """In a fresh process: hybrid query latency over the big store, then peak memory with
    the local model loaded and one answer generated, as the chat process would hold them."""
    from assistant.question.pipeline import get_pipeline
    from assistant.settings import Settings

    steps = {}
    pipeline = get_pipeline(
        Settings(index={"data_dir": data_dir}, answer={"generator": "extractive"})
    )
    steps["store open"] = rss_mb()
    t = time.perf_counter()
    pipeline.retrieve("warm up", 4)
    bm25_build = time.perf_counter() - t
    steps["first query (BM25 built)"] = rss_mb()
    questions = [f"What did the crew at {p} confirm?" for p in ("Kourou", "Houston", "Baikonur")]
    latencies = []
    for _ in range(30):
        for q in questions:
            t = time.perf_counter()
            pipeline.retrieve(q, 4)
            latencies.append(time.perf_counter() - t)
    loaded = False
    if local:
        generator = pipeline.generator("local")
        loaded = generator.name == "local"
        steps["local model loaded"] = rss_mb()
        for _ in pipeline.ask(questions[0], generator="local"):
            pass
        steps["one local answer"] = rss_mb()
    return {
        "rss_steps_mb": steps,
        "bm25_build_seconds": bm25_build,
        "query": stats(latencies),
        "peak_rss_mb": peak_rss_mb(),
        "local_model_loaded": loaded,
    }


def memory(ctx: Context) -> None:
    ctx.results["memory"] = {
        "peak_rss_mb": peak_rss_mb(),
        "local_model_loaded": "answer_local" in ctx.results
        and "error" not in ctx.results["answer_local"],
    }

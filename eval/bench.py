"""`assistant bench`: speed, scale and memory figures for this machine.

Every figure is a median (and p95) over repeated runs after a warm-up, measured in one run,
next to the same figure for a plain LangChain pipeline built from the same parts
(`eval.langchain_baseline`) where one exists, and printed as a ratio to it.

Stages: ingestion throughput on a generated corpus, retrieval latency and hit@1/hit@5 on the
eval suite, answer latency and time to first token per generator, cold start to a first
answer in a new process, hybrid query latency with a 100,000-chunk store, and peak memory.
"""

from __future__ import annotations

import argparse
import functools
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

from eval import metrics as m
from eval.corpus import sentence, write_corpus
from eval.suite import SUITE_PATH
from index.offline import go_offline

if TYPE_CHECKING:
    from assistant.pipeline import Pipeline
    from assistant.settings import Settings

STAGES = ("ingestion", "retrieval", "answers", "cold_start", "scale", "memory")
QUESTION = "Who is the new head of Roscosmos?"
ROOT = Path(__file__).resolve().parent.parent


def _stats(values: list[float]) -> dict[str, float]:
    return {
        "p50": statistics.median(values),
        "p95": m.percentile(values, 95) or 0.0,
        "n": len(values),
    }


def _timed(fn: Callable[[], object], repeats: int, warmup: int = 1) -> list[float]:
    for _ in range(warmup):
        fn()
    out = []
    for _ in range(repeats):
        t = time.perf_counter()
        fn()
        out.append(time.perf_counter() - t)
    return out


def _status_mb(field: str) -> float:
    with open("/proc/self/status", encoding="ascii") as fh:
        for line in fh:
            if line.startswith(field + ":"):
                return int(line.split()[1]) / 1024
    return 0.0


def _peak_rss_mb() -> float:
    """This process's peak resident memory. Not getrusage's ru_maxrss: a child started by
    fork and exec inherits its parent's peak there, so the scale worker would report the
    bench's 2.4 GB instead of its own."""
    return _status_mb("VmHWM")


def _rss_mb() -> float:
    return _status_mb("VmRSS")


def _suite() -> list[dict]:
    with open(SUITE_PATH, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


class Bench:
    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        self.args = args
        self.work = work
        self.results: dict[str, dict] = {}
        from assistant.pipeline import shared_embedder

        self.embedder = shared_embedder()

    def say(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    # -- ingestion -----------------------------------------------------------------------
    def ingestion(self) -> None:
        from eval.langchain_baseline import LangChainBaseline
        from index import Store, ingest

        files, per_file = (20, 60) if self.args.quick else (100, 80)
        corpus = write_corpus(self.work / "corpus", files, per_file)
        self.say(f"ingesting a generated corpus of {files} files ...")
        store = Store(self.work / "ours")
        first = ingest([corpus], store, self.embedder, progress=False)
        second = ingest([corpus], store, self.embedder, progress=False)
        base_chunks, base_seconds = LangChainBaseline(self.embedder, self.work / "lc").ingest(
            [corpus]
        )
        self.results["ingest"] = {
            "chunks": first.chunks,
            "seconds": first.seconds,
            "chunks_per_s": first.chunks / first.seconds,
            "no_change_seconds": second.seconds,
            "baseline_chunks": base_chunks,
            "baseline_chunks_per_s": base_chunks / base_seconds,
        }

    # -- retrieval on the article --------------------------------------------------------
    @functools.cached_property
    def settings(self) -> Settings:
        """Settings over an index of seeds/ built for this run (the article stages share it)."""
        from assistant.settings import Settings
        from index import Store, ingest

        data = self.work / "article"
        ingest([ROOT / "seeds"], Store(data), self.embedder, progress=False)
        share_models(data)
        return Settings(data_dir=data, generator="extractive")

    @functools.cached_property
    def pipeline(self) -> Pipeline:
        from assistant.pipeline import get_pipeline

        return get_pipeline(self.settings)

    def retrieval(self) -> None:
        from assistant.condense import condense
        from eval.langchain_baseline import LangChainBaseline

        baseline = LangChainBaseline(self.embedder, self.work / "lc-article")
        baseline.ingest([ROOT / "seeds"])

        items = [i for i in _suite() if i["answerable"]]
        k = self.settings.k
        ours_hits, base_hits = {1: [], 5: []}, {1: [], 5: []}
        for item in items:
            q = condense(item["question"], [tuple(h) for h in item.get("history") or []])
            ours = [p.text for p in self.pipeline.retrieve(q, 5)]
            base = baseline.search(q, 5)
            for n in (1, 5):
                ours_hits[n].append(m.hit_at_k(m.first_gold_rank(ours, item["evidence"]), n))
                base_hits[n].append(m.hit_at_k(m.first_gold_rank(base, item["evidence"]), n))
        questions = [i["question"] for i in items]
        rounds = 1 if self.args.quick else 3

        def ours_all() -> None:
            for q in questions:
                self.pipeline.retrieve(q, k)

        def base_all() -> None:
            for q in questions:
                baseline.search(q, k)

        ours_t = [t / len(questions) for t in _timed(ours_all, rounds)]
        base_t = [t / len(questions) for t in _timed(base_all, rounds)]
        # per-question latencies for p95
        ours_each = _timed(
            lambda: self.pipeline.retrieve(QUESTION, k), 30 if not self.args.quick else 10
        )
        base_each = _timed(lambda: baseline.search(QUESTION, k), 30 if not self.args.quick else 10)
        self.results["retrieval"] = {
            "ours": _stats(ours_each),
            "ours_mean_over_suite": statistics.median(ours_t),
            "baseline": _stats(base_each),
            "baseline_mean_over_suite": statistics.median(base_t),
            "hit@1": statistics.mean(ours_hits[1]),
            "hit@5": statistics.mean(ours_hits[5]),
            "baseline_hit@1": statistics.mean(base_hits[1]),
            "baseline_hit@5": statistics.mean(base_hits[5]),
            "questions": len(items),
        }

    # -- answers per generator -----------------------------------------------------------
    def answers(self) -> None:
        from assistant.types import Answer

        generators = ["extractive"]
        if not self.args.no_local:
            generators.append("local")
        items = [i for i in _suite() if i["answerable"] and not i.get("history")]
        for name in generators:
            try:
                t = time.perf_counter()
                gen = self.pipeline.generator(name)
                load = time.perf_counter() - t
            except Exception as exc:
                self.results[f"answer_{name}"] = {"error": str(exc)}
                continue
            if gen.name != name:
                self.results[f"answer_{name}"] = {"error": "; ".join(self.pipeline.notices)}
                continue
            sample = items[: (4 if self.args.quick else 20)] if name == "local" else items
            for _ in self.pipeline.stream(sample[0]["question"], generator=name):
                pass  # warm-up: first-call costs (model graph, caches) are not the median
            totals, firsts = [], []
            self._answers: list[Answer] = []
            for _ in range(1 if name == "local" else (1 if self.args.quick else 3)):
                for item in sample:
                    t = time.perf_counter()
                    first = None
                    for event in self.pipeline.stream(item["question"], generator=name):
                        if first is None and event != "":  # "": the model starts reading
                            first = time.perf_counter() - t
                        if isinstance(event, Answer):
                            totals.append(time.perf_counter() - t)
                            self._answers.append(event)
                    firsts.append(first or 0.0)
            probes = [e.timings["probe"] for e in self._answers if "probe" in e.timings]
            self.results[f"answer_{name}"] = {
                "probe": _stats(probes) if probes else None,
                "load_seconds": load,
                # for `local`: reading the weights, and evaluating the fixed prompt prefix once
                "model_load_seconds": getattr(gen, "load_seconds", 0.0),
                "warm_up_seconds": getattr(gen, "warm_seconds", 0.0),
                "prefix_restored": getattr(gen, "prefix_restored", False),
                "total": _stats(totals),
                "first_token": _stats(firsts),
            }
            if name == "local":
                self.results["answer_local"].update(self._new_process_loads())
                self.results["answer_local"]["without_probe"] = self._without_probe(gen, sample)

    def _without_probe(self, gen: object, sample: list[dict]) -> dict:
        """What the answerability probe costs: whole-answer times of the same questions, in
        turn with and without the model's refusal probability, both with the gate off (so
        that both generate for every question)."""
        from assistant.pipeline import get_pipeline
        from assistant.types import Answer

        class NoProbe:  # the same generator, minus refusal_probability
            name = gen.name  # type: ignore[attr-defined]

            def stream(self, *args: object) -> object:
                return gen.stream(*args)  # type: ignore[attr-defined]

            def condense(self, *args: object) -> object:
                return gen.condense(*args)  # type: ignore[attr-defined]

        open_gate = get_pipeline(self.settings.model_copy(update={"answer_threshold": 0.0}))
        times: dict[str, list[float]] = {"with": [], "without": []}
        # One whole pass each: asked twice in a row, a question's prompt would still be
        # evaluated (or in the prompt-state cache) the second time.
        for key, generator in (("without", NoProbe()), ("with", gen)):
            for item in sample:
                t = time.perf_counter()
                for event in open_gate.stream(item["question"], generator=generator):  # type: ignore[arg-type]
                    if isinstance(event, Answer):
                        times[key].append(time.perf_counter() - t)
        return {"with": _stats(times["with"]), "without": _stats(times["without"])}

    def _new_process_loads(self) -> dict:
        """Model load and saved-prefix restore in fresh processes (3 runs, medians)."""
        cmd = [sys.executable, "-m", "eval.bench", "--load-worker", str(self.settings.data_dir)]
        runs = []
        for _ in range(3):
            proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=ROOT)
            if proc.returncode != 0:
                return {"new_process_error": proc.stderr.strip()[-200:]}
            runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
        return {
            "new_process_load": _stats([r["load_seconds"] for r in runs]),
            "new_process_restore": _stats([r["warm_seconds"] for r in runs]),
        }

    # -- cold start ----------------------------------------------------------------------
    def cold_start(self) -> None:
        env = {**os.environ, "ASSISTANT_DATA_DIR": str(self.settings.data_dir)}
        for name in ["extractive"] + ([] if self.args.no_local else ["local"]):
            runs = []
            for _ in range(2 if self.args.quick else 3):
                t = time.perf_counter()
                proc = subprocess.run(
                    [
                        sys.executable,
                        "-m",
                        "assistant",
                        "ask",
                        QUESTION,
                        "--json",
                        "--generator",
                        name,
                    ],
                    capture_output=True,
                    text=True,
                    env=env,
                    timeout=600,
                )
                runs.append(time.perf_counter() - t)
                if proc.returncode != 0:
                    self.results[f"cold_{name}"] = {"error": proc.stderr.strip()[-200:]}
                    break
            else:
                self.results[f"cold_{name}"] = _stats(runs)

    # -- scale ---------------------------------------------------------------------------
    def scale(self) -> None:
        import random

        import numpy as np

        from index import Store
        from index.split import Chunk
        from index.store import Commit

        total = self.args.scale
        per_doc, per_write = 100, 5000
        where = self.args.scale_dir or self.work / "scale"
        store = Store(where)
        if store.count() == total:
            self.say(f"re-using the {total:,}-chunk store in {where}")
            self._scale_measure(store, where, self.args.scale_embedded, None)
            return
        if store.count():
            raise SystemExit(f"{where} holds another store: remove it or pick another folder")
        self.say(f"building a {total:,}-chunk store in {where} ...")
        rng = random.Random(11)
        real = min(total, self.args.scale_embedded)
        texts = [" ".join(sentence(rng, i * 4 + j) for j in range(4)) for i in range(total)]
        vectors = self.embedder.encode_full(texts[:real])
        noise = np.random.default_rng(3)
        t0 = time.perf_counter()
        for w in range(0, total, per_write):  # 50 documents of 100 chunks per write
            chunk_texts = texts[w : w + per_write]
            idx = np.arange(w, w + len(chunk_texts))
            vecs = vectors[idx % real].copy()
            fresh = idx >= real
            if fresh.any():  # nearby, distinct vectors: re-used real embeddings plus noise
                vecs[fresh] += noise.normal(0, 0.03, (int(fresh.sum()), vecs.shape[1]))
                vecs /= np.linalg.norm(vecs, axis=1, keepdims=True)
            chunks, commits = [], []
            for d in range(w, w + len(chunk_texts), per_doc):
                source = f"scale/doc-{d // per_doc:05d}.txt"
                doc = texts[d : min(d + per_doc, w + len(chunk_texts))]
                chunks += [
                    Chunk(f"s{d + i}", source, 0, len(t), t, "v1") for i, t in enumerate(doc)
                ]
                commits.append(Commit(source, "v1", "-", len(doc), "\n".join(doc)))
            store.add_chunks(chunks, vecs.astype(np.float32))
            store.commit_documents(commits)
        self._scale_measure(store, where, real, time.perf_counter() - t0)

    def _scale_measure(self, store, where: Path, real: int, write_seconds: float | None) -> None:
        # Query latency and memory are measured in a fresh process shaped like the app: the
        # pipeline over this store, with the local model loaded (unless --no-local).
        share_models(where)
        cmd = [sys.executable, "-m", "eval.bench", "--scale-worker", str(where)]
        if self.args.no_local:
            cmd.append("--no-local")
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=1800)
        if proc.returncode != 0:
            self.results["scale"] = {"error": proc.stderr.strip()[-300:]}
            return
        worker = json.loads(proc.stdout.strip().splitlines()[-1])
        self.results["scale"] = {
            "chunks": store.count(),
            "embedded_for_real": real,
            "write_seconds": write_seconds,
            **worker,
        }

    def memory(self) -> None:
        self.results["memory"] = {
            "peak_rss_mb": _peak_rss_mb(),
            "local_model_loaded": "answer_local" in self.results
            and "error" not in self.results["answer_local"],
        }


def cpu_gflops() -> float:
    """This machine's speed right now: float32 GFLOPS of a 512x512 matrix product (median of
    9). Shared machines drift; a run's figures compare with another's only at similar speed."""
    import numpy as np

    a = np.random.default_rng(0).random((512, 512), dtype=np.float32)
    times = _timed(lambda: a @ a, 9)
    return 2 * 512**3 / statistics.median(times) / 1e9


def share_models(data_dir: Path) -> None:
    """Let a bench index use the model already assembled under the configured data folder
    (assembling 1.1 GB again is install work, not what the bench measures)."""
    from assistant.model_file import MODEL_FILENAME, link_models
    from assistant.settings import Settings

    models = Settings().data_dir / "models"
    if (models / MODEL_FILENAME).is_file():
        link_models(models, Path(data_dir) / "models")


def load_worker(data_dir: Path) -> dict:
    """In a fresh process: load the local model and restore (or evaluate) its prompt prefix."""
    from assistant.generators.local import LocalGenerator
    from assistant.settings import Settings

    generator = LocalGenerator(Settings(data_dir=data_dir))
    return {"load_seconds": generator.load_seconds, "warm_seconds": generator.warm_seconds}


def scale_worker(data_dir: Path, local: bool) -> dict:
    """In a fresh process: hybrid query latency over the big store, then peak memory with
    the local model loaded and one answer generated, as the chat process would hold them."""
    from assistant.pipeline import get_pipeline
    from assistant.settings import Settings

    steps = {}
    pipeline = get_pipeline(Settings(data_dir=data_dir, generator="extractive"))
    steps["store open"] = _rss_mb()
    t = time.perf_counter()
    pipeline.retrieve("warm up", 4)
    bm25_build = time.perf_counter() - t
    steps["first query (BM25 built)"] = _rss_mb()
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
        steps["local model loaded"] = _rss_mb()
        for _ in pipeline.stream(questions[0], generator="local"):
            pass
        steps["one local answer"] = _rss_mb()
    return {
        "rss_steps_mb": steps,
        "bm25_build_seconds": bm25_build,
        "query": _stats(latencies),
        "peak_rss_mb": _peak_rss_mb(),
        "local_model_loaded": loaded,
    }


def _ms(x: float) -> str:
    return f"{x * 1000:,.1f} ms"


def _ratio(ours: float, base: float) -> str:
    return f"{ours / base:.2f}x" if base else "-"


def report(r: dict) -> str:
    lines = ["", "Benchmark (medians over repeated runs after a warm-up; p95 in brackets)", ""]
    row = "  {:<44} {:>20} {:>20} {:>9}".format
    lines.append(row("figure", "ours", "LangChain baseline", "ratio"))
    if "ingest" in r:
        i = r["ingest"]
        lines.append(
            row(
                f"ingest throughput ({i['chunks']:,} chunks)",
                f"{i['chunks_per_s']:.0f} chunks/s",
                f"{i['baseline_chunks_per_s']:.0f} chunks/s",
                _ratio(i["chunks_per_s"], i["baseline_chunks_per_s"]),
            )
        )
        lines.append(
            row("second ingest, nothing changed", f"{i['no_change_seconds']:.2f} s", "-", "-")
        )
    if "retrieval" in r:
        x = r["retrieval"]
        lines.append(
            row(
                "retrieval latency p50 [p95]",
                f"{_ms(x['ours']['p50'])} [{x['ours']['p95'] * 1000:.0f}]",
                f"{_ms(x['baseline']['p50'])} [{x['baseline']['p95'] * 1000:.0f}]",
                _ratio(x["ours"]["p50"], x["baseline"]["p50"]),
            )
        )
        for n in ("hit@1", "hit@5"):
            lines.append(
                row(
                    f"retrieval {n} ({x['questions']} answerable questions)",
                    f"{x[n]:.3f}",
                    f"{x['baseline_' + n]:.3f}",
                    _ratio(x[n], x["baseline_" + n]),
                )
            )
    for name in ("extractive", "local"):
        a = r.get(f"answer_{name}")
        if not a:
            continue
        if "error" in a:
            lines.append(row(f"{name}: answer", "unavailable", "-", "-"))
            continue
        lines.append(
            row(
                f"{name}: whole answer p50 [p95]",
                f"{_ms(a['total']['p50'])} [{a['total']['p95'] * 1000:.0f}]",
                "-",
                "-",
            )
        )
        lines.append(
            row(
                f"{name}: first token p50 [p95]",
                f"{_ms(a['first_token']['p50'])} [{a['first_token']['p95'] * 1000:.0f}]",
                "-",
                "-",
            )
        )
        if a.get("probe"):
            lines.append(row(f"{name}: answerability probe p50", _ms(a["probe"]["p50"]), "-", "-"))
        if a.get("without_probe"):
            probed, bare = a["without_probe"]["with"]["p50"], a["without_probe"]["without"]["p50"]
            lines.append(
                row(
                    f"{name}: answer p50, gate off, probe / none",
                    f"{_ms(probed)} / {_ms(bare)}",
                    "-",
                    f"{100 * (probed / bare - 1):+.0f}%" if bare else "-",
                )
            )
        if name == "local":
            load = a.get("model_load_seconds", a["load_seconds"])
            lines.append(row("local: model load (this process)", f"{load:.2f} s", "-", "-"))
            if a.get("warm_up_seconds"):
                warm = f"{a['warm_up_seconds']:.2f} s"
                how = "restored" if a.get("prefix_restored") else "evaluated"
                lines.append(row(f"local: prompt-prefix warm-up ({how})", warm, "-", "-"))
            if "new_process_load" in a:
                load, restore = a["new_process_load"], a["new_process_restore"]
                label = "local: model load / prefix restore, new process (3 runs)"
                value = f"{load['p50']:.2f} s / {restore['p50']:.2f} s"
                lines.append(row(label, value, "-", "-"))
            elif "new_process_error" in a:
                lines.append(row("local: model load, new process", "failed", "-", "-"))
    for name in ("extractive", "local"):
        c = r.get(f"cold_{name}")
        if c:
            value = "failed" if "error" in c else f"{c['p50']:.1f} s"
            lines.append(row(f"cold start to first answer ({name})", value, "-", "-"))
    if "scale" in r:
        s = r["scale"]
        if "error" in s:
            lines.append(row("scale test", "failed", "-", "-"))
        else:
            lines.append(
                row(
                    f"hybrid query p50 [p95], {s['chunks']:,} chunks",
                    f"{_ms(s['query']['p50'])} [{s['query']['p95'] * 1000:.0f}]",
                    "-",
                    "-",
                )
            )
            lines.append(
                row(
                    "  store write / BM25 build",
                    ("re-used" if s["write_seconds"] is None else f"{s['write_seconds']:.0f} s")
                    + f" / {s['bm25_build_seconds']:.1f} s",
                    "-",
                    "-",
                )
            )
            label = "  app process peak memory" + (
                ", local model loaded" if s["local_model_loaded"] else ""
            )
            lines.append(row(label, f"{s['peak_rss_mb']:,.0f} MB", "-", "-"))
            steps = ", ".join(f"{k} {v:,.0f}" for k, v in s["rss_steps_mb"].items())
            lines.append(f"    memory (MB) after: {steps}")
    if "memory" in r:
        mem = r["memory"]
        label = "bench process peak memory (all of the above)"
        lines.append(row(label, f"{mem['peak_rss_mb']:,.0f} MB", "-", "-"))
    if "cpu_gflops" in r:
        cpu = r["cpu_gflops"]
        speed = f"{cpu['start']:.0f} / {cpu['end']:.0f}"
        lines.append(row("machine speed at start / end (float32 GFLOPS)", speed, "-", "-"))
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> int:
    go_offline()
    parser = argparse.ArgumentParser(prog="assistant bench", description=__doc__.splitlines()[0])
    parser.add_argument(
        "--quick",
        action="store_true",
        help="small corpus, few repeats, 5,000-chunk scale test (a smoke run)",
    )
    parser.add_argument(
        "--scale",
        type=int,
        default=None,
        help="chunks in the scale test (default 100,000; 5,000 with --quick)",
    )
    parser.add_argument(
        "--scale-embedded",
        type=int,
        default=5000,
        help="scale chunks embedded for real; the rest re-use those vectors "
        "plus noise (default 5,000)",
    )
    parser.add_argument("--no-local", action="store_true", help="skip the local LLM")
    parser.add_argument("--json", type=Path, help="also write the figures to this JSON file")
    parser.add_argument(
        "--stages",
        default=",".join(STAGES),
        help="comma-separated stages to run (default: all)",
    )
    parser.add_argument(
        "--scale-dir",
        type=Path,
        help="keep the scale store in this folder and re-use it on the next run "
        "(default: a temporary folder, removed afterwards)",
    )
    parser.add_argument("--scale-worker", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--load-worker", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    stages = [name.strip() for name in args.stages.split(",") if name.strip()]
    unknown = [name for name in stages if name not in STAGES]
    if unknown or not stages:
        parser.error(
            f"unknown stage {', '.join(unknown) or '(none)'}; choose from {', '.join(STAGES)}"
        )
    if args.scale_worker:
        print(json.dumps(scale_worker(args.scale_worker, not args.no_local)))
        return 0
    if args.load_worker:
        print(json.dumps(load_worker(args.load_worker)))
        return 0
    args.scale = args.scale or (5000 if args.quick else 100_000)
    args.scale_embedded = args.scale_embedded or (500 if args.quick else 2000)
    work = Path(tempfile.mkdtemp(prefix="assistant-bench-"))
    try:
        bench = Bench(args, work)
        speed = [cpu_gflops()]
        for name in stages:
            bench.say(f"bench: {name} ...")
            getattr(bench, name)()
        speed.append(cpu_gflops())
        bench.results["cpu_gflops"] = {"start": speed[0], "end": speed[1]}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(report(bench.results))
    if args.json:
        args.json.write_text(json.dumps(bench.results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())

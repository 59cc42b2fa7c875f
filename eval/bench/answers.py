"""The bench's answer stages: whole-answer time and time to first token per generator over
the seed article (with, for `local`, model load, prompt-prefix warm-up, loads in new
processes and what the reader's first-token decision costs), and cold start to a first answer in a
new process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from assistant.generators import Generator
from eval.bench.tools import QUESTION, ROOT, Context, stats, suite_rows

if TYPE_CHECKING:
    from assistant.types import History, Passage


def generators(ctx: Context) -> list[str]:
    return ["extractive"] + ([] if ctx.args.no_local else ["local"])


def answers(ctx: Context) -> None:
    items = [i for i in suite_rows() if i["answerable"] and not i.get("history")]
    for name in generators(ctx):
        try:
            t = time.perf_counter()
            gen = ctx.pipeline.generator(name)
            load = time.perf_counter() - t
        except Exception as exc:
            ctx.results[f"answer_{name}"] = {"error": str(exc)}
            continue
        if gen.name != name:
            ctx.results[f"answer_{name}"] = {"error": "; ".join(ctx.pipeline.notices)}
            continue
        sample = items[: (4 if ctx.args.quick else 20)] if name == "local" else items
        figures = answer_times(ctx, name, sample)
        ctx.results[f"answer_{name}"] = {
            "read": figures["read"],
            "load_seconds": load,
            **gen.loading(),  # for local: reading the weights, the prompt prefix
            "total": figures["total"],
            "first_token": figures["first_token"],
        }
        if name == "local":
            ctx.results["answer_local"].update(new_process_loads(ctx))
            ctx.results["answer_local"]["without_probe"] = without_probe(ctx, gen, sample)


def answer_times(ctx: Context, name: str, sample: list[dict[str, Any]]) -> dict[str, Any]:
    """Whole answer, first token and probe times of `name` over the sample, after a warm-up
    (first-call costs: model graph, caches, are not the median)."""
    from assistant.types import Answer

    for _ in ctx.pipeline.ask(sample[0]["question"], generator=name):
        pass
    totals, firsts = [], []
    done: list[Answer] = []
    for _ in range(1 if name == "local" or ctx.args.quick else 3):
        for item in sample:
            t = time.perf_counter()
            first = None
            for event in ctx.pipeline.ask(item["question"], generator=name):
                if first is None and event != "":  # "": the model starts reading
                    first = time.perf_counter() - t
                if isinstance(event, Answer):
                    totals.append(time.perf_counter() - t)
                    done.append(event)
            firsts.append(first or 0.0)
    reads = [e.timings["read"] for e in done if "read" in e.timings]
    return {
        "read": stats(reads) if reads else None,
        "total": stats(totals),
        "first_token": stats(firsts),
    }


class NoProbe(Generator):
    """The same generator, minus refusal_probability (the reader's first-token decision:
    the answer prompt is then evaluated by the answer itself)."""

    def __init__(self, inner: Generator) -> None:
        self.inner = inner
        self.name = inner.name

    def stream(
        self, question: str, passages: Sequence[Passage], history: History, *, decided: bool = False
    ) -> Iterator[str]:
        return self.inner.stream(question, passages, history, decided=decided)

    def condense(self, question: str, history: History) -> str | None:
        return self.inner.condense(question, history)


def without_probe(ctx: Context, gen: Generator, sample: list[dict[str, Any]]) -> dict[str, Any]:
    """What the reader's decision costs: whole-answer times of the same questions, in turn
    with and without reading the first-token probability, both with the gate off (so that
    both generate for every question)."""
    from assistant.question.pipeline import get_pipeline
    from assistant.types import Answer

    open_gate = get_pipeline(ctx.settings.updated(answer={"answer_threshold": 0.0}))
    times: dict[str, list[float]] = {"with": [], "without": []}
    # One whole pass each: asked twice in a row, a question's prompt would still be
    # evaluated (or in the prompt-state cache) the second time.
    bare: Generator = NoProbe(gen)
    for key, generator in (("without", bare), ("with", gen)):
        for item in sample:
            t = time.perf_counter()
            for event in open_gate.ask(item["question"], generator=generator):
                if isinstance(event, Answer):
                    times[key].append(time.perf_counter() - t)
    return {"with": stats(times["with"]), "without": stats(times["without"])}


def new_process_loads(ctx: Context) -> dict[str, Any]:
    """Model load and saved-prefix restore in fresh processes (3 runs, medians)."""
    cmd = [
        sys.executable,
        "-m",
        "eval.bench.run",
        "--load-worker",
        str(ctx.settings.index.data_dir),
    ]
    runs = []
    for _ in range(3):
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=600, cwd=ROOT)
        if proc.returncode != 0:
            return {"new_process_error": proc.stderr.strip()[-200:]}
        runs.append(json.loads(proc.stdout.strip().splitlines()[-1]))
    return {
        "new_process_load": stats([r["load_seconds"] for r in runs]),
        "new_process_restore": stats([r["warm_seconds"] for r in runs]),
    }


def load_worker(data_dir: Path) -> dict[str, Any]:
    """In a fresh process: load the local model and restore (or evaluate) its prompt prefix."""
    from assistant.generators.local import LocalGenerator
    from assistant.settings import Settings

    generator = LocalGenerator(Settings(index={"data_dir": data_dir}))
    return {"load_seconds": generator.load_seconds, "warm_seconds": generator.warm_seconds}


def cold_start(ctx: Context) -> None:
    """A new `assistant ask` process to its first answer, per generator."""
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(ctx.settings.index.data_dir)}
    for name in generators(ctx):
        cmd = [sys.executable, "-m", "assistant", "ask", QUESTION, "--json", "--generator", name]
        runs = []
        for _ in range(2 if ctx.args.quick else 3):
            t = time.perf_counter()
            proc = subprocess.run(cmd, capture_output=True, text=True, env=env, timeout=600)
            runs.append(time.perf_counter() - t)
            if proc.returncode != 0:
                ctx.results[f"cold_{name}"] = {"error": proc.stderr.strip()[-200:]}
                break
        else:
            ctx.results[f"cold_{name}"] = stats(runs)

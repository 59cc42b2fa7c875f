"""What every `assistant bench` stage uses: the run's context (options, work folder, shared
embedder, the article index) and the measuring tools (repeated timings, medians and p95,
memory, the machine's speed)."""

from __future__ import annotations

import argparse
import functools
import json
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eval.scoring import metrics as m
from eval.suites.suite import SUITE_PATH

if TYPE_CHECKING:
    from assistant.question.pipeline import Pipeline
    from assistant.settings import Settings

QUESTION = "Who is the new head of Roscosmos?"
ROOT = Path(__file__).resolve().parent.parent.parent


class Context:
    """One bench run: its options, its work folder, the figures so far, and what the
    article stages (retrieval, answers, cold start) share."""

    def __init__(self, args: argparse.Namespace, work: Path) -> None:
        from index import shared_embedder

        self.args = args
        self.work = work
        self.results: dict[str, dict[str, Any]] = {}
        self.embedder = shared_embedder()

    def say(self, text: str) -> None:
        print(text, file=sys.stderr, flush=True)

    @functools.cached_property
    def settings(self) -> Settings:
        """Settings over an index of seeds/ built for this run (the article stages share it)."""
        from assistant.settings import Settings
        from index import Store, ingest

        data = self.work / "article"
        settings = Settings(index={"data_dir": data}, answer={"generator": "extractive"})
        ingest(
            [ROOT / "seeds"],
            Store(data),
            self.embedder,
            progress=False,
            chunk_size=settings.index.chunk_size,
            overlap=settings.index.chunk_overlap,
        )
        share_models(data)
        return settings

    @functools.cached_property
    def pipeline(self) -> Pipeline:
        from assistant.question.pipeline import get_pipeline

        return get_pipeline(self.settings)


def suite_rows() -> list[dict[str, Any]]:
    """The seed suite's items as they are in eval/qa.jsonl."""
    with open(SUITE_PATH, encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def stats(values: list[float]) -> dict[str, float]:
    return {
        "p50": statistics.median(values),
        "p95": m.percentile(values, 95) or 0.0,
        "n": len(values),
    }


def timed(fn: Callable[[], object], repeats: int, warmup: int = 1) -> list[float]:
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


def peak_rss_mb() -> float:
    """This process's peak resident memory. Not getrusage's ru_maxrss: a child started by
    fork and exec inherits its parent's peak there, so the scale worker would report the
    bench's 2.4 GB instead of its own."""
    return _status_mb("VmHWM")


def rss_mb() -> float:
    return _status_mb("VmRSS")


def cpu_gflops() -> float:
    """This machine's speed right now: float32 GFLOPS of a 512x512 matrix product (median of
    9). Shared machines drift; a run's figures compare with another's only at similar speed."""
    import numpy as np

    a = np.random.default_rng(0).random((512, 512), dtype=np.float32)
    times = timed(lambda: a @ a, 9)
    return 2 * 512**3 / statistics.median(times) / 1e9


def share_models(data_dir: Path) -> None:
    """Let a bench index use the model already assembled under the configured data folder
    (assembling 1.1 GB again is install work, not what the bench measures)."""
    from assistant.generators.model_file import MODEL_FILENAME, link_models
    from assistant.settings import Settings

    models = Settings().index.data_dir / "models"
    if (models / MODEL_FILENAME).is_file():
        link_models(models, Path(data_dir) / "models")

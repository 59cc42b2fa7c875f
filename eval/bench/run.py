"""`assistant bench`: speed, scale and memory figures for this machine.

Every figure is a median (and p95) over repeated runs after a warm-up, measured in one run,
next to the same figure for a plain LangChain pipeline built from the same parts
(`eval.bench.langchain_baseline`) where one exists, and printed as a ratio to it.

Stages: ingestion throughput (chunks, corpus bytes and tiktoken tokens per second) on a
generated corpus and on the squad2-open documents (eval/bench/ingest.py), retrieval latency
and hit@1/hit@5 on the eval suite (eval/bench/retrieval.py), answer latency and time to first
token per generator and cold start to a first answer in a new process
(eval/bench/answers.py), hybrid query latency with a 100,000-chunk store, and peak memory
(eval/bench/scale.py), the chat's conversation list with 1,000 stored conversations
(eval/bench/conversations.py), 16 people asking at once through two app processes of one
deployment (eval/bench/team.py). The table: eval/bench/report.py.
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path

from eval.bench.answers import answers, cold_start, load_worker
from eval.bench.conversations import conversations
from eval.bench.ingest import ingestion
from eval.bench.report import report
from eval.bench.retrieval import retrieval
from eval.bench.scale import memory, scale, scale_worker
from eval.bench.team import team
from eval.bench.tools import Context, cpu_gflops
from index.offline import go_offline

STAGES: dict[str, Callable[[Context], None]] = {
    "ingestion": ingestion,
    "retrieval": retrieval,
    "answers": answers,
    "cold_start": cold_start,
    "scale": scale,
    "memory": memory,
    "conversations": conversations,
    "team": team,
}


def build_parser() -> argparse.ArgumentParser:
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
        default=None,
        help="scale chunks embedded for real; the rest re-use those vectors "
        "plus noise (default 5,000; 500 with --quick)",
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
    return parser


def main(argv: list[str] | None = None) -> int:
    go_offline()
    parser = build_parser()
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
    if args.scale_embedded is None:
        args.scale_embedded = 500 if args.quick else 5000
    if args.scale_embedded < 1:
        parser.error("--scale-embedded must be at least 1")
    results = run(args, stages)
    print(report(results))
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


def run(args: argparse.Namespace, stages: list[str]) -> dict[str, dict]:
    """Run the stages in a temporary work folder (removed afterwards); the figures."""
    work = Path(tempfile.mkdtemp(prefix="assistant-bench-"))
    try:
        ctx = Context(args, work)
        speed = [cpu_gflops()]
        for name in stages:
            ctx.say(f"bench: {name} ...")
            STAGES[name](ctx)
        speed.append(cpu_gflops())
        ctx.results["cpu_gflops"] = {"start": speed[0], "end": speed[1]}
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return ctx.results


if __name__ == "__main__":
    sys.exit(main())

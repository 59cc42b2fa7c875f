"""`assistant eval` (and `python -m eval`): score the assistant on a suite, for any generator.

For each generator it asks every question (with its history) through `assistant.answer`
(eval/runner.py), scores each item (eval/scoring/item.py) and sums them up
(eval/scoring/aggregate.py), and then:

- prints a table of the headline metrics with the difference against the baseline,
- writes <results>/<timestamp>-<generator>/ (eval/reports/files.py; default results folder:
  eval-results/ under ASSISTANT_DATA_DIR),
- gates (eval/scoring/gate.py): exits 1 when a metric is outside its bound in the thresholds file or
  dropped against the baseline by more than the allowed margin.

The suites and the files they are gated on are in eval/suites/suite.py.
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

from eval.errors import GeneratorFailed, UsageError
from eval.reports.files import write_reports
from eval.reports.text import terminal_table
from eval.runner import Run, evaluate
from eval.scoring.gate import Thresholds, gate, load_baseline, load_thresholds, write_baseline
from eval.suites.suite import Item, Suite, pick_suite, results_dir, spread


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="assistant eval",
        description="Score the assistant on the fixed suite in eval/qa.jsonl and gate on "
        "eval/thresholds.toml and eval/baseline.json.",
    )
    p.add_argument(
        "--generator",
        action="append",
        metavar="NAME",
        help="generator to score (local, extractive, openai); repeat for several "
        "(default: the configured one, ASSISTANT_GENERATOR)",
    )
    p.add_argument("--k", type=int, help="passages shown to the generator (default: settings)")
    p.add_argument("--limit", type=int, metavar="N", help="score N items spread over the suite")
    p.add_argument("--no-gate", action="store_true", help="report only; always exit 0")
    p.add_argument(
        "--write-baseline",
        action="store_true",
        help="store this run's headline metrics in eval/baseline.json",
    )
    p.add_argument(
        "--suite",
        default="seed",
        metavar="NAME",
        help="seed (eval/qa.jsonl, the default), squad2-open (real SQuAD 2.0 questions over "
        "35 articles, ingested into their own index; see eval/suites/squad2_open.toml), "
        "users-words (questions in a reader's own words about the same articles, "
        "eval/suites/users_words/), "
        "injection (orders planted in documents, eval/suites/injection/__init__.py), or a "
        ".jsonl file in the seed suite's format (with --docs DIR: over your own documents)",
    )
    p.add_argument(
        "--part",
        choices=("test", "calibration"),
        default="test",
        help="squad2-open and users-words: the test part (the headline, default) or the "
        "calibration part",
    )
    p.add_argument(
        "--docs",
        type=Path,
        metavar="DIR",
        help="with --suite FILE.jsonl: the documents the suite is about, ingested into an "
        "index of their own (kept and brought up to date between runs); the suite is "
        "checked against them first",
    )
    p.add_argument(
        "--compare",
        nargs=2,
        metavar=("RUN_A", "RUN_B"),
        help="print the change of each metric from run A to run B and the items that turned "
        "right or wrong (report.json files or run folders under the results folder)",
    )
    _add_run_options(p)
    p.add_argument("--thresholds", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--baseline", type=Path, help=argparse.SUPPRESS)
    return p


def _add_run_options(p: argparse.ArgumentParser) -> None:
    p.add_argument(
        "--results",
        type=Path,
        metavar="DIR",
        help="results folder (default: eval-results/ under ASSISTANT_DATA_DIR)",
    )
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument(
        "--without",
        action="append",
        metavar="CHECK",
        help="leave out a check after generation (support, echo, orders, kind, unsourced); "
        "repeat for several: what it refuses shows in the comparison with a run with it "
        "(every report also lists the checks that objected to each answer)",
    )


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or bad usage (2): argparse has printed why
        return int(exc.code or 0)
    try:
        return _main(args)
    except UsageError as exc:  # one line per problem
        for line in str(exc).splitlines():
            print(f"assistant eval: {line}", file=sys.stderr)
        return 2
    except GeneratorFailed as exc:
        print(f"assistant eval: {exc}", file=sys.stderr)
        return 1


def _main(args: argparse.Namespace) -> int:
    if args.results is None:
        try:
            args.results = results_dir()
        except Exception as exc:  # pydantic ValidationError from a bad ASSISTANT_* variable
            raise UsageError(f"bad settings: {str(exc).splitlines()[0]}") from None
    if args.compare:
        from eval.scoring.compare import compare

        return compare(*args.compare, results=args.results)
    settings, generators, k = _checked(args)
    if args.suite == "injection":  # its own indexes and scoring (eval/suites/injection/run.py)
        from eval.suites.injection import run as injection_run

        return injection_run.main(args, settings, generators, k)
    suite = pick_suite(args.suite, settings, args.part, progress=not args.quiet, docs=args.docs)
    baseline_path = args.baseline or suite.baseline
    thresholds = load_thresholds(args.thresholds or suite.thresholds)
    if not suite.bounded and not args.thresholds:
        thresholds.bounds = {}  # margins against the suite's own baseline only
    baseline = load_baseline(baseline_path)
    items = spread(suite.items, args.limit)
    runs = [_run(args, suite, items, name, k, thresholds, baseline) for name in generators]
    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    write_reports(args.results, runs, baseline, stamp, suite)
    if args.write_baseline:
        write_baseline(baseline_path, runs, suite.digest)
    color = sys.stdout.isatty()
    for run in runs:
        print(terminal_table(run, color=color))
        print(f"report: {run.folder}")
        print()
    if args.write_baseline:
        print(f"baseline written to {baseline_path} for {', '.join(generators)}")
    return _verdict(runs, no_gate=args.no_gate)


def _checked(args: argparse.Namespace) -> tuple[Any, list[str], int]:
    """The settings, the generators to score and k, once the arguments are checked."""
    from assistant.generators import NAMES
    from assistant.settings import K_MAX, K_MIN, Settings
    from eval.scoring.item import RETRIEVE_DEPTH

    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    if args.write_baseline and args.limit is not None:
        raise UsageError("--write-baseline needs the whole suite; drop --limit")
    try:
        settings = Settings()
    except Exception as exc:  # pydantic ValidationError from a bad ASSISTANT_* variable
        raise UsageError(f"bad settings: {str(exc).splitlines()[0]}") from None
    # hit@k and MRR@10 read the trace's ranking: keep it at least that deep whatever is set
    settings.retrieval.trace_depth = max(settings.retrieval.trace_depth, RETRIEVE_DEPTH)
    if args.without:
        from assistant.rules.draft_checks import CHECKS, unknown_checks

        if unknown := unknown_checks(args.without):
            raise UsageError(f"--without {unknown[0]!r}: the checks are {', '.join(CHECKS)}")
        skip = {*filter(None, settings.answer.skip_checks.split(",")), *args.without}
        settings.answer.skip_checks = ",".join(sorted(skip))
    generators = list(dict.fromkeys(args.generator or [settings.answer.generator]))
    for name in generators:
        if name not in NAMES:
            raise UsageError(f"unknown generator {name!r}; use one of {', '.join(NAMES)}")
    k = args.k or settings.retrieval.k
    if not K_MIN <= k <= K_MAX:
        raise UsageError(f"--k must be between {K_MIN} and {K_MAX}")
    return settings, generators, k


def _run(
    args: argparse.Namespace,
    suite: Suite,
    items: list[Item],
    name: str,
    k: int,
    thresholds: Thresholds,
    baseline: dict[str, Any],
) -> Run:
    """One generator's run, its notes on the baseline, and its gate checks."""
    from assistant.errors import AssistantError

    try:
        run = evaluate(items, name, suite.settings, k, progress=not args.quiet, suite=suite.name)
    except AssistantError as exc:
        raise GeneratorFailed(str(exc)) from exc
    base = baseline["generators"].get(name)
    run.baseline = base
    partial = len(items) < len(suite.items)
    if partial:
        run.notes.append(
            f"partial run ({len(items)} of {len(suite.items)} items): baseline shown, not compared"
        )
    if base is None:
        run.notes.append(f"no baseline for {name!r} yet (--write-baseline stores one)")
    elif base.get("suite") != suite.digest:
        run.notes.append("the baseline was measured on another version of the suite")
    if base is not None and base.get("k") not in (None, k):
        run.notes.append(f"the baseline was measured with k={base.get('k')}, this run k={k}")
    compare = not partial and not args.write_baseline
    run.checks = gate(name, run.summary["headline"], thresholds, base, compare=compare)
    return run


def _verdict(runs: Sequence[Run], *, no_gate: bool) -> int:
    """Print the gate's verdict; the exit code (1 when a check failed, unless --no-gate)."""
    failed = [(run.generator, c) for run in runs for c in run.checks if not c.ok]
    if not failed:
        print("gate: pass")
        return 0
    for gen, c in failed:
        print(f"gate: {gen} {c.metric}: {'; '.join(c.reasons)}")
    if no_gate:
        print("gate: FAIL (ignored: --no-gate)")
        return 0
    print("gate: FAIL")
    return 1

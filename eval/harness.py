"""`assistant eval`: score the assistant on the fixed suite in eval/qa.jsonl, for any generator.

For each generator it asks every question (with its history) through `assistant.answer`, gets
the ranked retrieval for the retrieval metrics from `assistant.pipeline.retrieve_for_eval`,
scores each item with `eval.metrics`, and then:

- prints a table of the headline metrics with the difference against eval/baseline.json,
- writes eval/results/<timestamp>-<generator>/ (report.json, report.md, questions.csv,
  chart.png),
- gates: exits 1 when a metric is outside its bound in eval/thresholds.toml or dropped against
  the baseline by more than the allowed margin.

A crashed item counts as wrong and stays in every denominator.
"""

from __future__ import annotations

import argparse
import contextlib
import csv
import hashlib
import json
import sys
import time
import tomllib
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from types import SimpleNamespace
from typing import Any

from eval import metrics as m

EVAL_DIR = Path(__file__).resolve().parent
SUITE_PATH = EVAL_DIR / "qa.jsonl"
THRESHOLDS_PATH = EVAL_DIR / "thresholds.toml"
BASELINE_PATH = EVAL_DIR / "baseline.json"
RESULTS_DIR = EVAL_DIR / "results"

RETRIEVE_DEPTH = 10  # passages ranked for hit@k and MRR@10
TYPES = (
    "date",
    "number",
    "person",
    "organization",
    "paraphrase",
    "multi_sentence",
    "followup",
    "unanswerable_offtopic",
    "unanswerable_nearmiss",
    "injection",
    "squad_answerable",
    "squad_unanswerable",
)
# The headline metrics, in display order. Every one is a mean over a fixed set of items.
HEADLINE = (
    "accuracy",
    "crag",
    "hit@1",
    "hit@3",
    "hit@5",
    "mrr@10",
    "exact_match",
    "f1",
    "contains",
    "citation_validity",
    "citation_support",
    "citation_coverage",
    "refusal_precision",
    "refusal_recall",
    "false_refusal_rate",
    "coverage",
    "selective_accuracy",
    "aurc",
    "latency_p50_s",
    "latency_p95_s",
)
LOWER_IS_BETTER = frozenset({"false_refusal_rate", "aurc", "latency_p50_s", "latency_p95_s"})
BUCKETS = (
    "ok",
    "retrieval_miss",
    "wrong_answer",
    "uncited_or_miscited",
    "false_refusal",
    "answered_unanswerable",
    "crash",
)


class UsageError(Exception):
    """Bad input to the harness (suite, thresholds, baseline, arguments): exit code 2."""


# --- the suite ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Item:
    id: str
    question: str
    answerable: bool
    answers: list[str]
    evidence: list[str]
    history: list[tuple[str, str]]
    type: str
    source: str = ""  # the document the question was written about (squad2-open)


def load_suite(path: Path = SUITE_PATH) -> list[Item]:
    """Read and check the suite: one JSON object a line, every field present and typed."""
    items: list[Item] = []
    seen: set[str] = set()
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path.name}:{lineno}"
        try:
            raw = json.loads(line)
            item = Item(
                id=str(raw["id"]),
                question=str(raw["question"]),
                answerable=bool(raw["answerable"]),
                answers=[str(a) for a in raw["answers"]],
                evidence=[str(e) for e in raw["evidence"]],
                history=[(str(u), str(a)) for u, a in raw["history"]],
                type=str(raw["type"]),
            )
        except (json.JSONDecodeError, KeyError, TypeError, ValueError) as exc:
            raise UsageError(f"{where}: not a valid suite item ({exc!r})") from None
        if item.id in seen:
            raise UsageError(f"{where}: duplicate id {item.id!r}")
        if item.type not in TYPES:
            raise UsageError(f"{where}: unknown type {item.type!r} (one of {', '.join(TYPES)})")
        if item.answerable and (not item.answers or not item.evidence):
            raise UsageError(f"{where}: an answerable item needs answers and evidence")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise UsageError(f"{path}: the suite is empty")
    return items


def suite_digest(path: Path = SUITE_PATH) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


@dataclass
class Suite:
    """What one `assistant eval --suite` run asks, and what it is gated against."""

    name: str
    items: list[Item]
    digest: str
    thresholds: Path
    baseline: Path
    settings: Any  # the settings whose index the suite is asked against


def squad_suite(settings: Any, part: str, *, progress: bool = False) -> Suite:
    """The squad2-open sample of `part`, with its corpus ingested into its own index."""
    from eval import squad

    try:
        questions = squad.sample(part)
        suite_settings = squad.ensure_index(settings, progress=progress)
    except squad.SuiteUnavailable as exc:
        raise UsageError(str(exc)) from None
    items = [
        Item(
            id=q["id"],
            question=q["question"],
            answerable=bool(q["answerable"]),
            answers=[str(a) for a in q["answers"]],
            evidence=[],
            history=[],
            type="squad_answerable" if q["answerable"] else "squad_unanswerable",
            source=f"{q['article']}.txt",
        )
        for q in questions
    ]
    digest = hashlib.sha256("\n".join(i.id for i in items).encode()).hexdigest()[:16]
    name = squad.NAME if part == "test" else f"{squad.NAME}-{part}"
    return Suite(
        name,
        items,
        digest,
        EVAL_DIR / f"thresholds-{squad.NAME}.toml",
        EVAL_DIR / f"baseline-{name}.json",
        suite_settings,
    )


def seed_suite(settings: Any, path: Path = SUITE_PATH) -> Suite:
    return Suite(
        "seed", load_suite(path), suite_digest(path), THRESHOLDS_PATH, BASELINE_PATH, settings
    )


def spread(items: Sequence[Item], limit: int | None) -> list[Item]:
    """`limit` items spread evenly over the suite (so a short run still covers every type)."""
    if limit is None or limit >= len(items):
        return list(items)
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]


# --- one item ----------------------------------------------------------------------------


@dataclass
class ItemResult:
    id: str
    type: str
    answerable: bool
    question: str
    answer: str = ""
    refused: bool = False
    crashed: bool = False
    error: str = ""
    generator: str = ""  # the generator that actually answered
    standalone: str = ""  # the question the pipeline searched
    gold_rank: int | None = None  # rank of the first gold passage in the top RETRIEVE_DEPTH
    retrieved: list[str] = field(default_factory=list)  # "source:start-end" of the ranking
    exact_match: float = 0.0
    f1: float = 0.0
    contains: bool = False
    correct: bool = False
    citations_valid: bool = False
    citation_support: float = 0.0
    citation_coverage: float = 0.0
    crag: int = -1
    bucket: str = "crash"
    probability: float | None = None  # the calibrated answerability of the answer
    timings: dict[str, float] = field(default_factory=dict)


def score_item(
    item: Item,
    answer: Any | None,
    ranked: Sequence[Any] | None,
    *,
    k_shown: int,
    error: str = "",
    wall: float | None = None,
) -> ItemResult:
    """Score one item from the pipeline's Answer (None when it crashed) and retrieval ranking.

    `ranked` holds passage-like objects (`.text`, `.source`, `.start`, `.end`) best first;
    `k_shown` is how many passages a generator is shown, for telling a retrieval miss apart.
    """
    r = ItemResult(item.id, item.type, item.answerable, item.question, error=error)
    if ranked is not None:
        r.retrieved = [f"{p.source}:{p.start}-{p.end}" for p in ranked]
        if item.answerable and item.evidence:
            r.gold_rank = m.first_gold_rank([p.text for p in ranked], item.evidence)
        elif item.answerable:  # no evidence sentence: a chunk of its document with an answer
            golds = [p.text if p.source == item.source else "" for p in ranked]
            r.gold_rank = next(
                (i for i, t in enumerate(golds, 1) if m.contains_answer(t, item.answers)), None
            )
    if answer is None or error:
        r.crashed = True
        r.timings = {"wall": wall} if wall is not None else {}
        r.crag = m.crag_score(item.answerable, False, False, crashed=True)
        r.bucket = "crash"
        return r

    r.answer = answer.text
    r.refused = bool(answer.refused)
    r.generator = getattr(answer, "generator", "") or ""
    r.standalone = getattr(answer, "question", "") or ""
    r.timings = {k: float(v) for k, v in (answer.timings or {}).items()}
    trace = getattr(answer, "trace", None) or {}
    r.probability = trace.get("probability")
    if wall is not None:
        r.timings["wall"] = wall
    passages = {c.number: c.text for c in answer.citations}
    r.citations_valid = m.citations_valid(answer.text, passages)
    if not r.refused:
        r.citation_coverage = m.citation_coverage(answer.text)
    if item.answerable and not r.refused:
        r.exact_match = m.exact_match(answer.text, item.answers)
        r.f1 = m.token_f1(answer.text, item.answers)
        r.contains = m.contains_answer(answer.text, item.answers)
        if item.evidence:
            r.citation_support = m.citation_support(answer.text, passages, item.evidence)
        else:  # the dataset's rule: a cited passage holds an answer the text gives
            cited = m.cited_answer(answer.text, passages.values(), item.answers)
            r.citation_support = float(cited)
            r.contains = r.contains and r.citation_support == 1.0
    r.correct = r.refused if not item.answerable else (not r.refused and r.contains)
    r.crag = m.crag_score(item.answerable, r.refused, r.correct)
    r.bucket = bucket(r, k_shown)
    return r


def bucket(r: ItemResult, k_shown: int) -> str:
    """The failure bucket of a scored item ("ok" when nothing is wrong)."""
    if r.crashed:
        return "crash"
    if not r.answerable:
        return "ok" if r.refused else "answered_unanswerable"
    retrieval_missed = r.gold_rank is None or r.gold_rank > k_shown
    if r.refused:
        return "retrieval_miss" if retrieval_missed else "false_refusal"
    if not r.correct:
        return "retrieval_miss" if retrieval_missed else "wrong_answer"
    if not r.citations_valid or r.citation_support < 1.0 or r.citation_coverage < 1.0:
        return "uncited_or_miscited"
    return "ok"


# --- aggregates --------------------------------------------------------------------------


def _mean(values: Sequence[float]) -> float | None:
    return m.mean([float(v) for v in values])


def aggregate(results: Sequence[ItemResult]) -> dict[str, Any]:
    """Headline metrics, per-stage latency, per-type accuracy and bucket counts.

    Denominators: retrieval, answer and citation-support metrics over the answerable items;
    citation validity over all items (a refusal has no dangling marker); citation coverage
    over the items that were answered or crashed (a refusal makes no claim); refusal metrics as
    in `eval.metrics.refusal_scores`. Crashed items score 0 (wrong) everywhere.
    """
    answerable = [r for r in results if r.answerable]
    answered = [r for r in results if r.crashed or not r.refused]
    headline: dict[str, float | None] = {
        "accuracy": _mean([r.correct for r in results]),
        "crag": _mean([r.crag for r in results]),
        "hit@1": _mean([m.hit_at_k(r.gold_rank, 1) for r in answerable]),
        "hit@3": _mean([m.hit_at_k(r.gold_rank, 3) for r in answerable]),
        "hit@5": _mean([m.hit_at_k(r.gold_rank, 5) for r in answerable]),
        "mrr@10": _mean([m.reciprocal_rank(r.gold_rank, 10) for r in answerable]),
        "exact_match": _mean([r.exact_match for r in answerable]),
        "f1": _mean([r.f1 for r in answerable]),
        "contains": _mean([r.contains for r in answerable]),
        "citation_validity": _mean([r.citations_valid for r in results]),
        "citation_support": _mean([r.citation_support for r in answerable]),
        "citation_coverage": _mean([r.citation_coverage for r in answered]),
    }
    headline.update(m.refusal_scores((r.answerable, r.refused and not r.crashed) for r in results))
    headline.update(
        m.selective_scores(
            [(not r.refused or r.crashed, r.correct, r.probability) for r in results]
        )
    )

    def total(r: ItemResult) -> float | None:
        return r.timings.get("total", r.timings.get("wall"))

    totals = [t for t in map(total, results) if t is not None]
    headline["latency_p50_s"] = m.percentile(totals, 50)
    headline["latency_p95_s"] = m.percentile(totals, 95)

    stages = sorted({s for r in results for s in r.timings})
    latency = {
        s: {
            "n": len(vals),
            "p50": m.percentile(vals, 50),
            "p95": m.percentile(vals, 95),
        }
        for s in stages
        for vals in [[r.timings[s] for r in results if s in r.timings]]
    }
    per_type = {}
    for t in TYPES:
        rows = [r for r in results if r.type == t]
        if rows:
            per_type[t] = {"n": len(rows), "accuracy": _mean([r.correct for r in rows])}
    counts = Counter(r.bucket for r in results)
    return {
        "headline": {k: _round(headline[k]) for k in HEADLINE},
        "latency": {s: {k: _round(v) for k, v in d.items()} for s, d in latency.items()},
        "per_type": per_type,
        "buckets": {b: counts.get(b, 0) for b in BUCKETS},
        "counts": {
            "items": len(results),
            "answerable": len(answerable),
            "unanswerable": len(results) - len(answerable),
            "crashed": sum(r.crashed for r in results),
            "refused": sum(r.refused for r in results),
        },
    }


def _round(value: Any) -> Any:
    return round(value, 4) if isinstance(value, float) else value


# --- thresholds and baseline -------------------------------------------------------------


@dataclass
class Thresholds:
    bounds: dict[str, dict[str, dict[str, float]]]  # generator -> metric -> {"min"/"max": x}
    max_drop: dict[str, float | None]  # metric -> allowed drop vs baseline (None: not compared)
    relative: dict[str, bool]  # metric -> the drop is a fraction of the baseline value

    def for_generator(self, name: str) -> dict[str, dict[str, float]]:
        return self.bounds.get(name, self.bounds.get("default", {}))


def load_thresholds(path: Path = THRESHOLDS_PATH) -> Thresholds:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise UsageError(f"cannot read thresholds {path}: {exc}") from None
    default_drop = data.get("compare", {}).get("max_drop")
    metrics_cfg = data.get("metrics", {})
    unknown = set(metrics_cfg) - set(HEADLINE)
    if unknown:
        raise UsageError(f"{path.name}: unknown metric(s) {sorted(unknown)} in [metrics]")
    max_drop: dict[str, float | None] = {}
    relative: dict[str, bool] = {}
    for name in HEADLINE:
        cfg = metrics_cfg.get(name, {})
        extra = set(cfg) - {"doc", "max_drop", "relative"}
        if extra:
            raise UsageError(f"{path.name}: [metrics.{name}] has unknown key(s) {sorted(extra)}")
        drop = cfg.get("max_drop", default_drop)
        max_drop[name] = None if drop is False or drop is None else float(drop)
        relative[name] = bool(cfg.get("relative", False))
    bounds: dict[str, dict[str, dict[str, float]]] = {}
    for gen, table in data.get("generators", {}).items():
        bounds[gen] = {}
        for name, bound in table.items():
            if name not in HEADLINE:
                raise UsageError(f"{path.name}: unknown metric {name!r} in [generators.{gen}]")
            if not isinstance(bound, dict) or not set(bound) <= {"min", "max"} or not bound:
                raise UsageError(
                    f"{path.name}: [generators.{gen}] {name} must be {{ min = x }} or {{ max = x }}"
                )
            bounds[gen][name] = {k: float(v) for k, v in bound.items()}
    return Thresholds(bounds, max_drop, relative)


def load_baseline(path: Path = BASELINE_PATH) -> dict[str, Any]:
    if not path.exists():
        return {"generators": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read baseline {path}: {exc}") from None
    data.setdefault("generators", {})
    return data


def write_baseline(path: Path, runs: Sequence[Run], digest: str) -> None:
    data = {
        "_comment": "Headline metrics per generator that `assistant eval` compares against. "
        "Rewrite with `assistant eval --generator NAME --write-baseline` after an intended "
        "change; the allowed drops are in eval/thresholds.toml.",
        **load_baseline(path),
    }
    for run in runs:
        data["generators"][run.generator] = {
            "suite": digest,
            "items": run.summary["counts"]["items"],
            "written": run.finished,
            "k": run.k,
            "metrics": run.summary["headline"],
        }
    path.write_text(json.dumps(data, indent=2, sort_keys=False) + "\n", encoding="utf-8")


@dataclass
class Check:
    metric: str
    value: float | None
    baseline: float | None
    delta: float | None
    bound: str  # ">= 0.8", "<= 0.1" or ""
    ok: bool
    reasons: list[str]


def gate(
    generator: str,
    headline: dict[str, float | None],
    thresholds: Thresholds,
    baseline: dict[str, Any] | None,
    *,
    compare: bool = True,
) -> list[Check]:
    """One check per headline metric: its bound for this generator and its drop vs baseline."""
    bounds = thresholds.for_generator(generator)
    base = (baseline or {}).get("metrics", {})
    checks = []
    for name in HEADLINE:
        value = headline.get(name)
        b = base.get(name)
        delta = None if value is None or b is None else round(value - b, 4)
        reasons: list[str] = []
        bound = bounds.get(name, {})
        text = " ".join(f"{'>=' if k == 'min' else '<='} {v:g}" for k, v in sorted(bound.items()))
        if value is not None:
            if "min" in bound and value < bound["min"]:
                reasons.append(f"{value:.4g} is below the minimum {bound['min']:g}")
            if "max" in bound and value > bound["max"]:
                reasons.append(f"{value:.4g} is above the maximum {bound['max']:g}")
        allowed = thresholds.max_drop.get(name)
        if compare and delta is not None and allowed is not None and b is not None:
            drop = delta if name in LOWER_IS_BETTER else -delta
            limit = allowed * abs(b) if thresholds.relative.get(name) else allowed
            if drop > limit + 1e-9:
                worse = "rose" if name in LOWER_IS_BETTER else "dropped"
                reasons.append(
                    f"{worse} by {abs(delta):.4g} against the baseline {b:.4g} "
                    f"(allowed {limit:.4g})"
                )
        checks.append(Check(name, value, b, delta, text, not reasons, reasons))
    return checks


# --- running -----------------------------------------------------------------------------


@dataclass
class Run:
    suite: str
    generator: str
    k: int
    started: str
    finished: str
    results: list[ItemResult]
    summary: dict[str, Any]
    checks: list[Check] = field(default_factory=list)
    baseline: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    folder: Path | None = None


class GeneratorFailed(Exception):
    """The generator could not answer at all (not installed, unreachable, swapped for another)."""


AnswerFn = Callable[..., Any]


def ranked_from_trace(answer: Any) -> list[SimpleNamespace]:
    """The ranked retrieval `answer()` itself ran (`Answer.trace["retrieved"]`), best first,
    as passage-like objects (`.text`, `.source`, `.start`, `.end`)."""
    trace = getattr(answer, "trace", None) or {}
    return [SimpleNamespace(**hit) for hit in trace.get("retrieved", [])][:RETRIEVE_DEPTH]


def run_generator(
    items: Sequence[Item],
    generator: str,
    settings: Any,
    k: int,
    *,
    answer_fn: AnswerFn,
    progress: bool = True,
) -> list[ItemResult]:
    """Ask every item; an exception on one item makes it a crash, never drops it.

    Raises GeneratorFailed when the generator cannot answer anything (its first successful
    answer never came), or when the pipeline answered with another generator than asked for.
    """
    from tqdm import tqdm

    from assistant.errors import GeneratorUnavailable

    results: list[ItemResult] = []
    succeeded = False
    bar = tqdm(
        items,
        desc=f"eval {generator}",
        unit="q",
        disable=not progress,
        file=sys.stderr,
        mininterval=0.1 if sys.stderr.isatty() else 15.0,  # few lines in a CI log
    )
    for item in bar:
        history = item.history or None
        ranked = None
        answer = None
        error = ""
        started = time.perf_counter()
        try:
            answer = answer_fn(item.question, history, generator=generator, k=k, settings=settings)
            ranked = ranked_from_trace(answer)
        except GeneratorUnavailable as exc:
            if not succeeded:
                raise GeneratorFailed(f"generator {generator!r} is unavailable: {exc}") from exc
            error = f"{type(exc).__name__}: {exc}"
        except Exception as exc:  # any failure of one item counts as a wrong answer
            error = f"{type(exc).__name__}: {exc}"
        wall = time.perf_counter() - started
        if answer is not None and not error:
            actual = getattr(answer, "generator", generator) or generator
            if actual != generator:
                raise GeneratorFailed(
                    f"asked for generator {generator!r} but {actual!r} answered "
                    f"(is {generator!r} installed?)"
                )
            succeeded = True
        results.append(score_item(item, answer, ranked, k_shown=k, error=error, wall=wall))
        bar.set_postfix(ok=sum(r.bucket == "ok" for r in results), refresh=False)
    bar.close()
    return results


def evaluate(
    items: Sequence[Item],
    generator: str,
    settings: Any,
    k: int,
    *,
    progress: bool = True,
    warmup: bool = True,
    suite: str = "seed",
) -> Run:
    """Run the suite for one generator through the real pipeline."""
    from assistant import answer

    if warmup:  # load the embedder, index and model outside the timed items
        first = next((i for i in items if i.answerable), items[0])
        with contextlib.suppress(Exception):  # the scored run reports failures per item
            answer(first.question, generator=generator, k=k, settings=settings)
    started = _now()
    results = run_generator(
        items,
        generator,
        settings,
        k,
        answer_fn=answer,
        progress=progress,
    )
    return Run(suite, generator, k, started, _now(), results, aggregate(results))


def _now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")


# --- reports -----------------------------------------------------------------------------


def _fmt(value: Any, metric: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.2f}s" if metric.startswith("latency") else f"{value:.3f}"
    return str(value)


def _fmt_delta(delta: float | None, metric: str) -> str:
    if delta is None:
        return ""
    if abs(delta) < 5e-4:
        return "="
    better = (delta < 0) if metric in LOWER_IS_BETTER else (delta > 0)
    arrow = "▲" if better else "▼"
    return f"{delta:+.3f} {arrow}"


def terminal_table(run: Run, color: bool = False) -> str:
    def paint(text: str, ok: bool) -> str:
        if not color:
            return text
        return f"\033[{32 if ok else 31}m{text}\033[0m"

    rows = [("metric", "value", "baseline", "change", "bound", "")]
    for c in run.checks:
        rows.append(
            (
                c.metric,
                _fmt(c.value, c.metric),
                _fmt(c.baseline, c.metric),
                _fmt_delta(c.delta, c.metric),
                c.bound,
                "ok" if c.ok else "FAIL",
            )
        )
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    lines = []
    counts = run.summary["counts"]
    lines.append(
        f"== {run.suite} suite, {run.generator} (k={run.k}): {counts['items']} questions, "
        f"{counts['answerable']} answerable, {counts['crashed']} crashed =="
    )
    for i, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            cell.rjust(widths[j]) for j, cell in enumerate(row) if j > 0
        ]
        line = "  ".join(cells).rstrip()
        if i > 0 and row[-1]:
            line = line[: -len(row[-1])] + paint(row[-1], row[-1] == "ok")
        lines.append(line)
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    buckets = ", ".join(f"{b} {n}" for b, n in run.summary["buckets"].items() if n)
    lines.append(f"buckets: {buckets}")
    for note in run.notes:
        lines.append(f"note: {note}")
    first_error = next((r.error for r in run.results if r.error), "")
    if first_error:
        lines.append(f"first error: {first_error.splitlines()[0][:200]}")
    return "\n".join(lines)


def _md_escape(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("|", "\\|")


def markdown_report(run: Run) -> str:
    counts = run.summary["counts"]
    out = [
        f"# Eval report: `{run.generator}` on the {run.suite} suite",
        "",
        f"- started {run.started}, finished {run.finished}; k = {run.k}",
        f"- {counts['items']} questions ({counts['answerable']} answerable, "
        f"{counts['unanswerable']} unanswerable), {counts['crashed']} crashed, "
        f"{counts['refused']} refused",
        f"- gate: **{'pass' if all(c.ok for c in run.checks) else 'FAIL'}**",
    ]
    out += [f"- note: {n}" for n in run.notes]
    out += [
        "",
        "## Headline metrics",
        "",
        "| metric | value | baseline | change | bound | status |",
        "|---|---:|---:|---:|---|---|",
    ]
    for c in run.checks:
        status = "ok" if c.ok else "FAIL: " + "; ".join(c.reasons)
        out.append(
            f"| {c.metric} | {_fmt(c.value, c.metric)} | {_fmt(c.baseline, c.metric)} | "
            f"{_fmt_delta(c.delta, c.metric)} | {c.bound} | {status} |"
        )
    out += [
        "",
        "## Latency per stage (seconds)",
        "",
        "| stage | n | p50 | p95 |",
        "|---|---:|---:|---:|",
    ]
    for stage, d in run.summary["latency"].items():
        out.append(f"| {stage} | {d['n']} | {_fmt(d['p50'])} | {_fmt(d['p95'])} |")
    out += ["", "## Failure buckets", "", "| bucket | items |", "|---|---:|"]
    out += [f"| {b} | {n} |" for b, n in run.summary["buckets"].items()]
    out += ["", "## Accuracy per question type", "", "| type | n | accuracy |", "|---|---:|---:|"]
    for t, d in run.summary["per_type"].items():
        out.append(f"| {t} | {d['n']} | {_fmt(d['accuracy'])} |")
    out += [
        "",
        "## Per question",
        "",
        "| id | type | bucket | gold rank | contains | F1 | cites valid | support | coverage "
        "| answer |",
        "|---|---|---|---:|---|---:|---|---:|---:|---|",
    ]
    for r in run.results:
        shown = r.error if r.crashed else ("(refused) " if r.refused else "") + r.answer
        out.append(
            f"| {r.id} | {r.type} | {r.bucket} | {r.gold_rank or '-'} | "
            f"{'yes' if r.contains else 'no'} | {r.f1:.2f} | "
            f"{'yes' if r.citations_valid else 'no'} | {r.citation_support:.2f} | "
            f"{r.citation_coverage:.2f} | {_md_escape(shown)} |"
        )
    return "\n".join(out) + "\n"


QUESTION_COLUMNS = (
    "id",
    "type",
    "answerable",
    "bucket",
    "gold_rank",
    "refused",
    "crashed",
    "exact_match",
    "f1",
    "contains",
    "correct",
    "citations_valid",
    "citation_support",
    "citation_coverage",
    "crag",
    "total_s",
    "question",
    "answer",
    "error",
)


def write_questions_csv(path: Path, results: Sequence[ItemResult]) -> None:
    with path.open("w", newline="", encoding="utf-8") as f:
        writer = csv.writer(f)
        writer.writerow(QUESTION_COLUMNS)
        for r in results:
            d = asdict(r)
            d["total_s"] = _round(r.timings.get("total", r.timings.get("wall")))
            writer.writerow([d.get(c, "") for c in QUESTION_COLUMNS])


CHART_METRICS = tuple(name for name in HEADLINE if not name.startswith("latency"))


def write_chart(path: Path, runs: Sequence[Run], baseline: dict[str, Any]) -> None:
    """Grouped bars of the headline metrics per generator; black ticks mark the baseline."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    names = list(CHART_METRICS)
    fig, (ax, lat) = plt.subplots(
        1, 2, figsize=(13, 6), gridspec_kw={"width_ratios": [4, 1]}, layout="constrained"
    )
    width = 0.8 / max(len(runs), 1)
    for i, run in enumerate(runs):
        values = [run.summary["headline"].get(n) for n in names]
        xs = [j + (i - (len(runs) - 1) / 2) * width for j in range(len(names))]
        bars = ax.bar(xs, [0 if v is None else v for v in values], width, label=run.generator)
        ax.bar_label(bars, labels=[_fmt(v) for v in values], fontsize=7, padding=2)
        base = baseline.get("generators", {}).get(run.generator, {}).get("metrics", {})
        bx = [x for x, n in zip(xs, names, strict=True) if base.get(n) is not None]
        by = [base[n] for n in names if base.get(n) is not None]
        ax.scatter(bx, by, marker="_", s=200, color="black", zorder=3)
        lat_values = [
            run.summary["headline"].get(n) or 0 for n in ("latency_p50_s", "latency_p95_s")
        ]
        lat_bars = lat.bar(
            [x + (i - (len(runs) - 1) / 2) * width for x in (0, 1)], lat_values, width
        )
        lat.bar_label(lat_bars, fmt="%.2f", fontsize=7, padding=2)
    ax.set_xticks(range(len(names)), names, rotation=45, ha="right")
    lowest = min([0.0] + [r.summary["headline"].get("crag") or 0.0 for r in runs])
    ax.set_ylim(lowest - 0.1, 1.1)
    ax.axhline(0, color="grey", linewidth=0.5)
    ax.set_title("Headline metrics (black tick = baseline)")
    ax.legend()
    lat.set_xticks([0, 1], ["p50", "p95"])
    lat.set_title("Latency per question (s)")
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_risk_coverage(path: Path, runs: Sequence[Run]) -> None:
    """The risk-coverage curve of each generator of the run (AURC in the legend)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6, 4.5), layout="constrained")
    for run in runs:
        outcomes = [(not r.refused or r.crashed, r.correct, r.probability) for r in run.results]
        curve = m.risk_coverage(outcomes)
        aurc = run.summary["headline"].get("aurc")
        label = f"{run.generator} (AURC {_fmt(aurc)})"
        ax.plot([c for c, _ in curve], [r for _, r in curve], marker=".", label=label)
    ax.set_xlim(0, 1)
    ax.set_ylim(0, 1)
    ax.set_xlabel("coverage (share of questions answered)")
    ax.set_ylabel("risk (share of answers that are wrong)")
    ax.set_title(f"Risk-coverage, {runs[0].suite} suite" if runs else "Risk-coverage")
    ax.grid(alpha=0.3)
    ax.legend()
    fig.savefig(path, dpi=100)
    plt.close(fig)


def write_reports(
    root: Path, runs: Sequence[Run], baseline: dict[str, Any], stamp: str, suite: Suite
) -> None:
    prefix = stamp if suite.name == "seed" else f"{stamp}-{suite.name}"
    for run in runs:
        folder = root / f"{prefix}-{run.generator}"
        n = 2
        while folder.exists():
            folder = root / f"{prefix}-{run.generator}-{n}"
            n += 1
        folder.mkdir(parents=True)
        run.folder = folder
        report = {
            "generator": run.generator,
            "k": run.k,
            "started": run.started,
            "finished": run.finished,
            "suite": {"name": suite.name, "sha256_16": suite.digest},
            "gate": {
                "pass": all(c.ok for c in run.checks),
                "checks": [asdict(c) for c in run.checks],
            },
            "notes": run.notes,
            **run.summary,
            "items": [asdict(r) for r in run.results],
        }
        (folder / "report.json").write_text(
            json.dumps(report, indent=2, ensure_ascii=False) + "\n", encoding="utf-8"
        )
        (folder / "report.md").write_text(markdown_report(run), encoding="utf-8")
        write_questions_csv(folder / "questions.csv", run.results)
        write_chart(folder / "chart.png", runs, baseline)
        write_risk_coverage(folder / "risk_coverage.png", runs)


# --- the command -------------------------------------------------------------------------


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
    p.add_argument(
        "--results", type=Path, default=RESULTS_DIR, metavar="DIR", help="results folder"
    )
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
        "35 articles, ingested into their own index; see eval/squad2_open.toml), or a .jsonl "
        "file in the seed suite's format",
    )
    p.add_argument(
        "--part",
        choices=("test", "calibration"),
        default="test",
        help="squad2-open: the test part (the headline, default) or the calibration part",
    )
    p.add_argument("--thresholds", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--baseline", type=Path, help=argparse.SUPPRESS)
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    return p


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:  # --help (0) or bad usage (2): argparse has printed why
        return int(exc.code or 0)
    try:
        return _main(args)
    except UsageError as exc:
        print(f"assistant eval: {exc}", file=sys.stderr)
        return 2
    except GeneratorFailed as exc:
        print(f"assistant eval: {exc}", file=sys.stderr)
        return 1


def _main(args: argparse.Namespace) -> int:
    from assistant.errors import AssistantError
    from assistant.generators import NAMES
    from assistant.settings import Settings

    if args.limit is not None and args.limit < 1:
        raise UsageError("--limit must be at least 1")
    if args.write_baseline and args.limit is not None:
        raise UsageError("--write-baseline needs the whole suite; drop --limit")
    try:
        settings = Settings()
    except Exception as exc:  # pydantic ValidationError from a bad ASSISTANT_* variable
        raise UsageError(f"bad settings: {str(exc).splitlines()[0]}") from None
    generators = list(dict.fromkeys(args.generator or [settings.generator]))
    for name in generators:
        if name not in NAMES:
            raise UsageError(f"unknown generator {name!r}; use one of {', '.join(NAMES)}")
    k = args.k or settings.k
    if not 1 <= k <= 20:
        raise UsageError("--k must be between 1 and 20")

    if args.suite == "squad2-open":
        suite = squad_suite(settings, args.part, progress=not args.quiet)
    elif args.suite == "seed":
        suite = seed_suite(settings)
    elif args.suite.endswith(".jsonl"):
        suite = seed_suite(settings, Path(args.suite))
    else:
        raise UsageError(f"unknown suite {args.suite!r}; use seed, squad2-open or a .jsonl file")
    thresholds_path = args.thresholds or suite.thresholds
    baseline_path = args.baseline or suite.baseline
    thresholds = load_thresholds(thresholds_path)
    baseline = load_baseline(baseline_path)
    digest = suite.digest
    items = spread(suite.items, args.limit)
    partial = len(items) < len(suite.items)

    runs: list[Run] = []
    for name in generators:
        try:
            run = evaluate(
                items, name, suite.settings, k, progress=not args.quiet, suite=suite.name
            )
        except AssistantError as exc:
            raise GeneratorFailed(str(exc)) from exc
        base = baseline["generators"].get(name)
        run.baseline = base
        compare = not partial and not args.write_baseline
        if partial:
            run.notes.append(
                f"partial run ({len(items)} of {len(suite.items)} items): baseline shown, "
                "not compared"
            )
        if base is None:
            run.notes.append(f"no baseline for {name!r} yet (--write-baseline stores one)")
        elif base.get("suite") != digest:
            run.notes.append("the baseline was measured on another version of the suite")
        if base is not None and base.get("k") not in (None, k):
            run.notes.append(f"the baseline was measured with k={base.get('k')}, this run k={k}")
        run.checks = gate(name, run.summary["headline"], thresholds, base, compare=compare)
        runs.append(run)

    stamp = datetime.now().strftime("%Y%m%d-%H%M%S")
    write_reports(args.results, runs, baseline, stamp, suite)
    if args.write_baseline:
        write_baseline(baseline_path, runs, digest)

    color = sys.stdout.isatty()
    for run in runs:
        print(terminal_table(run, color=color))
        print(f"report: {run.folder}")
        print()
    failed = [(run.generator, c) for run in runs for c in run.checks if not c.ok]
    if args.write_baseline:
        print(f"baseline written to {baseline_path} for {', '.join(generators)}")
    if not failed:
        print("gate: pass")
        return 0
    for gen, c in failed:
        print(f"gate: {gen} {c.metric}: {'; '.join(c.reasons)}")
    if args.no_gate:
        print("gate: FAIL (ignored: --no-gate)")
        return 0
    print("gate: FAIL")
    return 1

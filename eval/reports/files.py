"""What a run writes: <results>/<timestamp>-<generator>/ with report.json (everything, per
item included), report.md, questions.csv, chart.png and risk_coverage.png."""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from dataclasses import asdict
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eval.reports.charts import write_chart, write_risk_coverage
from eval.reports.text import markdown_report
from eval.scoring.aggregate import round4, total_seconds
from eval.scoring.item import ItemResult
from eval.suites.suite import Suite

if TYPE_CHECKING:
    from eval.runner import Run

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
            d["total_s"] = round4(total_seconds(r))
            writer.writerow([d.get(c, "") for c in QUESTION_COLUMNS])


def report_json(run: Run, suite: Suite) -> dict[str, Any]:
    return {
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


def _new_folder(root: Path, prefix: str, generator: str) -> Path:
    """A folder of its own for every run: -2, -3, ... when the second's one exists."""
    folder = root / f"{prefix}-{generator}"
    n = 2
    while folder.exists():
        folder = root / f"{prefix}-{generator}-{n}"
        n += 1
    folder.mkdir(parents=True)
    return folder


def write_reports(
    root: Path, runs: Sequence[Run], baseline: dict[str, Any], stamp: str, suite: Suite
) -> None:
    prefix = stamp if suite.name == "seed" else f"{stamp}-{suite.name}"
    for run in runs:
        folder = run.folder = _new_folder(root, prefix, run.generator)
        (folder / "report.json").write_text(
            json.dumps(report_json(run, suite), indent=2, ensure_ascii=False) + "\n",
            encoding="utf-8",
        )
        (folder / "report.md").write_text(markdown_report(run), encoding="utf-8")
        write_questions_csv(folder / "questions.csv", run.results)
        write_chart(folder / "chart.png", runs, baseline)
        write_risk_coverage(folder / "risk_coverage.png", runs)

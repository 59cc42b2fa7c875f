"""`assistant eval --compare RUN_A RUN_B`: what changed from one run to another.

Each run is a `report.json` or the folder that holds one (a path, or a folder name under the
results folder, default eval-results/ under ASSISTANT_DATA_DIR). Prints every headline metric
of A and B with the change, then the items (matched by id) that turned right and those that
turned wrong.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from eval.errors import UsageError
from eval.reports.text import fmt, fmt_delta
from eval.scoring.aggregate import HEADLINE


def load_report(name: str, results: Path) -> tuple[Path, dict[str, Any]]:
    """The report.json that `name` points at, read; UsageError (one line) when none does."""
    for candidate in (Path(name), results / name):
        path = candidate / "report.json" if candidate.is_dir() else candidate
        if path.is_file():
            try:
                return path, json.loads(path.read_text(encoding="utf-8"))
            except (OSError, json.JSONDecodeError) as exc:
                raise UsageError(f"cannot read {path}: {exc}") from None
    raise UsageError(f"no run at {name}: give a report.json or a run folder (under {results})")


def metric_lines(a: dict[str, Any], b: dict[str, Any]) -> list[str]:
    """One row per headline metric: A, B and the change (an arrow when it is better/worse)."""
    rows = [("metric", "A", "B", "change")]
    for name in HEADLINE:
        va, vb = a["headline"].get(name), b["headline"].get(name)
        delta = None if va is None or vb is None else round(vb - va, 4)
        rows.append((name, fmt(va, name), fmt(vb, name), fmt_delta(delta, name)))
    widths = [max(len(row[i]) for row in rows) for i in range(4)]
    return [
        "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w) for i, (cell, w) in enumerate(cells))
        for row in rows
        for cells in [list(zip(row, widths, strict=True))]
    ]


def turned(a: dict[str, Any], b: dict[str, Any]) -> tuple[list[dict[str, Any]], ...]:
    """The items of B that were wrong in A and are right now, and those that went the
    other way (items asked in only one of the runs are left out)."""
    before = {item["id"]: bool(item["correct"]) for item in a["items"]}
    right = [i for i in b["items"] if i["id"] in before and i["correct"] and not before[i["id"]]]
    wrong = [i for i in b["items"] if i["id"] in before and not i["correct"] and before[i["id"]]]
    return right, wrong


def _describe(label: str, path: Path, report: dict[str, Any]) -> str:
    suite = report.get("suite", {}).get("name", "?")
    n = len(report.get("items", []))
    return f"{label}: {path} ({suite} suite, {report.get('generator')}, {n} items)"


def _item_lines(title: str, items: list[dict[str, Any]]) -> list[str]:
    lines = [f"turned {title} ({len(items)}):" if items else f"turned {title}: none"]
    for item in items:
        question = " ".join(str(item.get("question", "")).split())
        lines.append(f"  {item['id']}  {question[:90]}")
    return lines


def compare(name_a: str, name_b: str, *, results: Path) -> int:
    """Print the comparison of run A and run B; 0, or UsageError when one cannot be read."""
    path_a, a = load_report(name_a, results)
    path_b, b = load_report(name_b, results)
    lines = [_describe("A", path_a, a), _describe("B", path_b, b)]
    if a.get("suite") != b.get("suite"):
        lines.append("note: the runs are of different suites (or versions of one)")
    ids_a, ids_b = {i["id"] for i in a["items"]}, {i["id"] for i in b["items"]}
    if ids_a != ids_b:
        lines.append(
            f"note: {len(ids_a & ids_b)} items in both runs, {len(ids_a - ids_b)} only in A, "
            f"{len(ids_b - ids_a)} only in B; the metrics are over each run's own items"
        )
    lines += ["", *metric_lines(a, b), ""]
    right, wrong = turned(a, b)
    lines += [*_item_lines("right", right), *_item_lines("wrong", wrong)]
    print("\n".join(lines))
    return 0

"""What each check after generation refuses, from runs' reports:
`python -m eval.reports.checks RUN [RUN ...] [--at T]`.

Every answer's trace lists each check after generation that objected to its draft (all are
asked, also those left out with `--without`), and the report keeps the draft and whether it
states the item's first nugget (`draft_right`). So one run tells, per check, what it refuses
rightly (an unanswerable question's draft, or a wrong answer to an answerable one) and
wrongly (a right answer), and what it refuses alone (the only check that objected: what
leaving it out would let through). `--at T` counts only the drafts the reader would have
written at operating point T (its probability at least T; a gate-off run,
`ASSISTANT_ANSWER_THRESHOLD=0`, has them all). The table in eval/CALIBRATION.md comes from it.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from typing import Any

from eval.reports.curve import load

COLUMNS = ("unanswerable", "wrong", "right")  # what the refused draft was


def kind(item: dict[str, Any]) -> str:
    if not item["answerable"]:
        return "unanswerable"
    return "right" if item.get("draft_right") else "wrong"


def drafts(items: Sequence[dict[str, Any]], at: float) -> list[dict[str, Any]]:
    """The items whose draft reached the checks after generation at operating point `at`."""
    return [
        i
        for i in items
        if i.get("draft") and (i.get("probability") is None or i["probability"] >= at)
    ]


def table(items: Sequence[dict[str, Any]], at: float = 0.0) -> dict[str, dict[str, int]]:
    """Per check: the drafts it objected to, and those it alone objected to, by kind."""
    out: dict[str, dict[str, int]] = {}
    for item in drafts(items, at):
        objected = item.get("objected", [])
        for name in objected:
            row = out.setdefault(
                name, dict.fromkeys([*COLUMNS, *(f"alone {c}" for c in COLUMNS)], 0)
            )
            row[kind(item)] += 1
            if len(objected) == 1:
                row[f"alone {kind(item)}"] += 1
    return out


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.reports.checks", description=__doc__)
    parser.add_argument("runs", nargs="+", help="run folders or report.json files")
    parser.add_argument("--at", type=float, default=0.0, help="operating point (default 0)")
    args = parser.parse_args(argv)
    for run in args.runs:
        name, items = load(run)
        reached = drafts(items, args.at)
        counts = {c: sum(kind(i) == c for i in reached) for c in COLUMNS}
        print(
            f"== {name}: {len(reached)} drafts reached the checks at {args.at:.2f} "
            f"({counts['unanswerable']} unanswerable, {counts['wrong']} wrong, "
            f"{counts['right']} right answers)"
        )
        print("check       refuses: unanswerable  wrong  right | alone: unanswerable  wrong  right")
        for check, row in table(items, args.at).items():
            print(
                f"{check:<10}  {row['unanswerable']:21d}  {row['wrong']:5d}  {row['right']:5d} | "
                f"{row['alone unanswerable']:19d}  {row['alone wrong']:5d}  {row['alone right']:5d}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

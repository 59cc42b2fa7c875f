"""Whole answers against the reader's threshold, from runs taken with the gate off:
`python -m eval.reports.curve RUN [RUN ...] [--at T ...]`.

A run of `assistant eval ... --no-gate` with `ASSISTANT_ANSWER_THRESHOLD=0` keeps every
item's reader probability (1 - P(NOT_FOUND) at its first token, `report.json`'s
`probability`); any threshold can then be replayed without asking again: an item is refused
when the run refused it or its probability is under the threshold. Printed per threshold:
answerable right / complete / faithful (answered), answerable refused, unanswerable refused,
and the median first-token and whole-answer seconds of the run. This is how the answer form
and the excerpt are chosen on the calibration parts (eval/CALIBRATION.md).
"""

from __future__ import annotations

import argparse
import json
import statistics
from collections.abc import Sequence
from pathlib import Path
from typing import Any


def load(run: str) -> tuple[str, list[dict[str, Any]]]:
    path = Path(run)
    if path.is_dir():
        path = path / "report.json"
    data = json.loads(path.read_text(encoding="utf-8"))
    return path.parent.name, data["items"]


def refused_at(item: dict[str, Any], threshold: float) -> bool:
    p = item.get("probability")
    return bool(item["refused"]) or (p is not None and p < threshold)


def row(items: Sequence[dict[str, Any]], threshold: float) -> dict[str, float]:
    answerable = [i for i in items if i["answerable"]]
    other = [i for i in items if not i["answerable"]]
    kept = [i for i in answerable if not refused_at(i, threshold)]

    def share(n: int, of: Sequence[Any]) -> float:
        return n / len(of) if of else 0.0

    return {
        "right": share(sum(i["right"] for i in kept), answerable),
        "complete": share(sum(i["complete"] for i in kept), answerable),
        "faithful": share(sum(i["faithful"] for i in kept), answerable),
        "refused": share(len(answerable) - len(kept), answerable),
        "unanswerable_refused": share(sum(refused_at(i, threshold) for i in other), other),
    }


def seconds(items: Sequence[dict[str, Any]], stage: str) -> float | None:
    values = [i["timings"][stage] for i in items if stage in i.get("timings", {})]
    return statistics.median(values) if values else None


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.reports.curve", description=__doc__)
    parser.add_argument("runs", nargs="+", help="run folders or report.json files")
    parser.add_argument("--at", type=float, nargs="*", default=[0.0, 0.2, 0.3, 0.41, 0.5, 0.6])
    args = parser.parse_args(argv)
    for run in args.runs:
        name, items = load(run)
        first, total = seconds(items, "first_token"), seconds(items, "total")
        print(
            f"== {name}: {len(items)} items; first token p50 "
            f"{first if first is None else round(first, 2)} s, whole answer p50 "
            f"{total if total is None else round(total, 2)} s"
        )
        print("threshold  right  complete  faithful  ans.refused  unans.refused")
        for t in args.at:
            r = row(items, t)
            print(
                f"{t:9.2f}  {r['right']:5.2f}  {r['complete']:8.2f}  {r['faithful']:8.2f}  "
                f"{r['refused']:11.2f}  {r['unanswerable_refused']:13.2f}"
            )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

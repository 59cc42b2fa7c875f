"""Fit the answer decision: `python -m eval.calibration.calibrate [--collect] [--write]`.

1. **Collect** (`--collect`, or when the outcome file is missing): ask every question of the
   two *calibration* parts (never a test part, never the seed suite) through the real pipeline with
   the gate off (`ASSISTANT_ANSWER_THRESHOLD=0`): the squad2-open calibration sample
   (eval/suites/squad2_open.toml) and the users'-words calibration part
   (eval/suites/users_words/calibration.jsonl), both over the 35 squad2-open articles, and the
   everyday documents' calibration part over its own 8 documents (eval/suites/everyday/__init__.py).
   Per question keep the reader's first-token P(NOT_FOUND) and the best sentence cosine from
   `Answer.trace`, whether the answer survived the checks after generation, and whether it was right
   (SQuAD scoring). One file per generator: `eval/calibration/<generator>.jsonl`.
2. **The floor** (before the model): the largest best-sentence cosine under which no
   answerable question of the squad2-open and users'-words calibration parts falls; the
   questions below it are plainly unrelated to every document. (With the everyday part it
   would be 0.27, and off-topic questions were answered from unrelated documents: measured in
   eval/CALIBRATION.md.)
3. **The operating point** (the product aim, `--max-false-refusals`, default 10%): the
   highest reader threshold at which the decision (the floor and the reader) refuses at most
   that share of the answerable calibration questions beyond those the pipeline refuses
   anyway with the gate off (the model's own NOT_FOUND and the checks after generation, which
   turn mostly wrong answers into refusals); that refuses as many unanswerable ones as the
   aim allows. The risk-coverage table of every threshold is printed, per style.
4. `--write` stores the floor and the thresholds in assistant/question/answerability.json
   (format 2).
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from assistant.question.answerability import CALIBRATOR_FORMAT, CALIBRATOR_PATH, FLOOR_FEATURE
from eval.scoring import nuggets
from eval.suites import everyday, users_words
from eval.suites import squad2_open as squad

OUTCOMES_DIR = Path(__file__).resolve().parent
GRID = np.round(np.arange(0.0, 1.0001, 0.01), 2)
MAX_FALSE_REFUSALS = 0.10  # the product aim: answerable questions refused, at most
FLOOR_MARGIN = 0.02  # the floor sits this far below the least related answerable question
# The parts the floor reads: on the everyday documents the least related answerable questions
# sit among the off-topic ones (0.29), and a floor under them let off-topic questions be
# answered from unrelated documents (eval/CALIBRATION.md, "the floor with the everyday part").
FLOOR_STYLES = ("squad", "users")
READERS = ("local",)  # generators whose first-token probability decides


# --- collecting outcomes -----------------------------------------------------------------


def calibration_questions() -> list[dict[str, Any]]:
    """The three calibration parts, each question tagged with its style."""
    out = [{**q, "style": "squad"} for q in squad.sample("calibration")]
    out += [{**q, "style": "users"} for q in users_words.questions("calibration")]
    out += [
        {**q, "style": "everyday", "article": Path(q["source"]).stem if q["source"] else ""}
        for q in everyday.load_part("calibration")
    ]
    return out


def is_right(question: dict[str, Any], answer: Any) -> bool:
    """squad2-open's scoring, or for a question with nuggets (the everyday documents): its
    first nugget stated in a cited claim whose passage holds it (eval/scoring/nuggets.py)."""
    if not question.get("nuggets") or not question["answerable"] or answer.refused:
        return squad.is_correct(question, answer)
    passages = {c.number: c.text for c in answer.citations}
    first = nuggets.score(answer.text, passages, question["nuggets"][:1])
    return first.right and first.faithful


def collect(generator: str, *, progress: bool = True) -> list[dict[str, Any]]:
    from tqdm import tqdm

    from assistant import answer
    from assistant.settings import Settings
    from eval.suites.index import own_index

    gate_off = Settings(answer={"answer_threshold": 0.0})
    per_style = {
        "squad": squad.ensure_index(gate_off, progress=progress),
        "everyday": own_index(
            gate_off, f"{everyday.NAME}-calibration", everyday.DOCS / "calibration"
        ),
    }
    rows = []
    for q in tqdm(calibration_questions(), desc=f"calibrate {generator}", disable=not progress):
        settings = per_style.get(q["style"], per_style["squad"])
        history = [tuple(turn) for turn in q.get("history", [])]
        result = answer(q["question"], history, generator=generator, settings=settings)
        trace = result.trace
        verdict = trace.decision if trace else None
        rows.append(
            {
                "id": q["id"],
                "style": q["style"],
                "article": q["article"],
                "answerable": q["answerable"],
                "answered": not result.refused,
                "correct": is_right(q, result),
                "features": trace.features.to_dict() if trace else {},
                "stage": verdict.stage if verdict else "",
                "reason": verdict.reason if verdict else "",
                "answer": result.text,
                "draft": verdict.draft if verdict else "",
            }
        )
    return rows


def outcomes_path(generator: str) -> Path:
    return OUTCOMES_DIR / f"{generator}.jsonl"


def save_outcomes(generator: str, rows: Sequence[dict[str, Any]]) -> None:
    OUTCOMES_DIR.mkdir(exist_ok=True)
    text = "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)
    outcomes_path(generator).write_text(text, encoding="utf-8")


def load_outcomes(generator: str) -> list[dict[str, Any]]:
    with outcomes_path(generator).open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


# --- choosing ------------------------------------------------------------------------------


def choose_floor(rows: Sequence[dict[str, Any]]) -> float:
    """FLOOR_MARGIN below the least related answerable question's best cosine among the
    FLOOR_STYLES parts (0 if none)."""
    cosines = [
        float(r["features"].get(FLOOR_FEATURE, 0.0))
        for r in rows
        if r["answerable"] and r.get("style") in FLOOR_STYLES
    ]
    return max(0.0, round(min(cosines, default=0.0) - FLOOR_MARGIN, 2))


def reader_probability(row: dict[str, Any]) -> float:
    """1 - P(NOT_FOUND): the reader's probability that its passages state the answer (1.0
    when it was not asked)."""
    p = row["features"].get("refusal_probability")
    return 1.0 if p is None else 1.0 - float(p)


def answers_at(rows: Sequence[dict[str, Any]], floor: float, threshold: float) -> list[bool]:
    """Which rows would be answered: above the floor, the reader at or above `threshold`,
    and the answer kept by the checks after generation."""
    return [
        bool(
            r["answered"]
            and float(r["features"].get(FLOOR_FEATURE, 0.0)) >= floor
            and reader_probability(r) >= threshold
        )
        for r in rows
    ]


def outcome(rows: Sequence[dict[str, Any]], answered: Sequence[bool]) -> dict[str, float]:
    """Answerable right / refused, unanswerable refused, and the CRAG-style score."""
    ans = [(r, a) for r, a in zip(rows, answered, strict=True) if r["answerable"]]
    una = [(r, a) for r, a in zip(rows, answered, strict=True) if not r["answerable"]]
    right = sum(1 for r, a in ans if a and r["correct"])
    wrong = sum(1 for r, a in ans if a and not r["correct"]) + sum(1 for _, a in una if a)
    refused_una = sum(1 for _, a in una if not a)
    return {
        "answerable": len(ans),
        "unanswerable": len(una),
        "right": right,
        "false_refusals": sum(1 for _, a in ans if not a),
        "unanswerable_refused": refused_una,
        "crag": (right - wrong + refused_una) / max(1, len(rows)),
    }


def choose_threshold(
    rows: Sequence[dict[str, Any]], floor: float, max_false: float
) -> tuple[float, dict[str, float]]:
    """The highest threshold at which the decision refuses at most `max_false` of the
    answerable questions beyond those refused with the gate off."""
    base = outcome(rows, answers_at(rows, 0.0, 0.0))
    best = (0.0, base)
    for t in GRID:
        result = outcome(rows, answers_at(rows, floor, float(t)))
        if result["false_refusals"] - base["false_refusals"] <= max_false * result["answerable"]:
            best = (float(t), result)
    return best


def describe(name: str, result: dict[str, float]) -> str:
    return (
        f"{name}: answerable right {result['right']}/{result['answerable']}, refused "
        f"{result['false_refusals']}; unanswerable refused "
        f"{result['unanswerable_refused']}/{result['unanswerable']}; CRAG {result['crag']:+.3f}"
    )


def curve(rows: Sequence[dict[str, Any]], floor: float) -> None:
    """The risk-coverage table: each style's outcome at every tenth of the threshold."""
    styles = sorted({r["style"] for r in rows})
    print("threshold | " + " | ".join(f"{s}: right / false ref / unans ref" for s in styles))
    for t in np.round(np.arange(0.0, 1.0001, 0.1), 1):
        cells = []
        for style in styles:
            part = [r for r in rows if r["style"] == style]
            o = outcome(part, answers_at(part, floor, float(t)))
            cells.append(
                f"{o['right']}/{o['answerable']} {o['false_refusals']} "
                f"{o['unanswerable_refused']}/{o['unanswerable']}"
            )
        print(f"{t:.1f} | " + " | ".join(cells))


def calibrate(
    data: dict[str, list[dict[str, Any]]], max_false: float
) -> tuple[float, dict[str, float]]:
    """The floor (from every generator's rows) and each reader's threshold, printed."""
    floor = min(choose_floor(rows) for rows in data.values())
    print(f"floor on {FLOOR_FEATURE}: {floor:.2f}")
    thresholds = {}
    for gen, rows in data.items():
        print(describe(f"[{gen}] gate off", outcome(rows, answers_at(rows, 0.0, 0.0))))
        print(describe(f"[{gen}] floor only", outcome(rows, answers_at(rows, floor, 0.0))))
        if gen not in READERS:
            continue
        t, result = choose_threshold(rows, floor, max_false)
        thresholds[gen] = t
        print(describe(f"[{gen}] threshold {t:.2f}", result))
        for style in sorted({r["style"] for r in rows}):
            part = [r for r in rows if r["style"] == style]
            print(describe(f"  {style}", outcome(part, answers_at(part, floor, t))))
        curve(rows, floor)
    thresholds.setdefault("openai", thresholds.get("local", 0.0))
    return floor, thresholds


def write_calibrator(floor: float, thresholds: dict[str, float], max_false: float) -> None:
    out = {
        "format": CALIBRATOR_FORMAT,
        "floor": floor,
        "thresholds": thresholds,
        "fitted": datetime.now().astimezone().isoformat(timespec="seconds"),
        "data": "calibration parts of squad2-open (eval/suites/squad2_open.toml), of the "
        "users'-words suite (eval/suites/users_words/calibration.jsonl) and of the everyday "
        "documents (eval/suites/everyday/calibration/); outcomes in eval/calibration/",
        "aim": f"at most {max_false:.0%} of answerable calibration questions refused beyond "
        "those refused with the gate off",
        "script": "python -m eval.calibration.calibrate --write",
    }
    CALIBRATOR_PATH.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {CALIBRATOR_PATH}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m eval.calibration.calibrate", description=__doc__
    )
    parser.add_argument(
        "--generator", action="append", metavar="NAME", help="extractive and/or local"
    )
    parser.add_argument("--collect", action="store_true", help="ask the questions again")
    parser.add_argument("--write", action="store_true", help=f"write {CALIBRATOR_PATH.name}")
    parser.add_argument(
        "--max-false-refusals",
        type=float,
        default=MAX_FALSE_REFUSALS,
        metavar="F",
        help="the largest share of answerable calibration questions the operating point may "
        f"refuse (default {MAX_FALSE_REFUSALS})",
    )
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    data: dict[str, list[dict[str, Any]]] = {}
    for gen in args.generator or ["extractive", "local"]:
        if args.collect or not outcomes_path(gen).exists():
            save_outcomes(gen, collect(gen, progress=not args.quiet))
        data[gen] = load_outcomes(gen)
    floor, thresholds = calibrate(data, args.max_false_refusals)
    if args.write:
        write_calibrator(floor, thresholds, args.max_false_refusals)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

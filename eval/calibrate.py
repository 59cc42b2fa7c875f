"""Calibrate the refusal rule on the suite: `python -m eval.calibrate`.

For every item it computes the evidence features the rule looks at (the best sentence's
score and how close the question's least-matched topic word comes to the retrieved text),
then tries a grid of thresholds and prints, for each, the false refusals on answerable items
and the unanswerable items that would be answered. The defaults in `assistant.evidence` are
the row this picks (fewest errors, answering an unanswerable item counting double, as a
wrong answer costs more than a refusal); eval/CALIBRATION.md records the run.
"""

from __future__ import annotations

import argparse
import itertools
import json

from assistant.condense import condense, is_follow_up
from assistant.evidence import EvidenceScorer, Rule, closest_missing_term
from assistant.guard import strip_instructions
from assistant.pipeline import get_pipeline
from assistant.settings import Settings
from eval.harness import SUITE_PATH


def features(settings: Settings) -> list[tuple[dict, float, float]]:
    pipeline = get_pipeline(settings)
    rows = []
    with open(SUITE_PATH, encoding="utf-8") as fh:
        items = [json.loads(line) for line in fh if line.strip()]
    for item in items:
        history = [tuple(h) for h in item.get("history") or []]
        question = strip_instructions(item["question"])
        if history and is_follow_up(question):
            question = condense(question, history)
        if not question:
            rows.append((item, 0.0, 0.0))
            continue
        chunks = pipeline.retrieve(question, settings.k)
        sentences = EvidenceScorer.sentences([(p.start, p.text) for p in chunks])
        ranked = pipeline.scorer.rank(question, sentences)
        _, closeness = closest_missing_term(pipeline.scorer, question, ranked)
        rows.append((item, ranked[0].score if ranked else 0.0, closeness))
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.calibrate", description=__doc__)
    parser.add_argument("--top", type=int, default=8, help="rules to print (best first)")
    args = parser.parse_args(argv)
    rows = features(Settings(generator="extractive"))
    grid = itertools.product(
        [0.15, 0.2, 0.25, 0.3], [0.35, 0.4, 0.45, 0.5], [0.3, 0.35, 0.4], [0.45, 0.5]
    )
    results = []
    for min_score, weak, foreign, near in grid:
        rule = Rule(min_score, weak, foreign, near)
        false_refusals = [i["id"] for i, s, c in rows if i["answerable"] and rule.refuses(s, c)]
        answered = [i["id"] for i, s, c in rows if not i["answerable"] and not rule.refuses(s, c)]
        results.append((len(false_refusals) + 2 * len(answered), rule, false_refusals, answered))
    results.sort(key=lambda r: r[0])
    current = Rule()
    answerable = sum(i["answerable"] for i, _, _ in rows)
    print(f"{len(rows)} items: {answerable} answerable, {len(rows) - answerable} unanswerable")
    print("cost  min_score weak foreign near  false_refusals  answered_unanswerable")
    shown = results[: args.top]
    if all(r[1] != current for r in shown):
        shown += [r for r in results if r[1] == current]
    for cost, rule, fr, au in shown:
        mark = "  <- current" if rule == current else ""
        print(
            f"{cost:4d}  {rule.min_score:9.2f} {rule.weak_score:4.2f} {rule.foreign_term:7.2f}"
            f" {rule.near_term:4.2f}  {len(fr):14d}  {len(au):21d}{mark}"
        )
    cost, rule, fr, au = next(r for r in results if r[1] == current)
    print(f"current rule: false refusals {fr}\n              answered unanswerable {au}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

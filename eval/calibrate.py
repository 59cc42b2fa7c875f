"""Fit the answerability calibrator: `python -m eval.calibrate [--collect] [--write]`.

1. **Collect** (`--collect`, or when a generator's outcome file is missing): ask every
   question of the squad2-open *calibration* part (eval/squad2_open.toml; never the test part,
   never the seed suite) through the real pipeline with the probability gate off
   (`ASSISTANT_ANSWER_THRESHOLD=0`), and keep per question the answerability signals from
   `Answer.trace`, whether the generator answered, and whether that answer was right (SQuAD
   scoring, eval/squad.py). One file per generator: `eval/calibration/<generator>.jsonl`.
2. **Fit** a logistic model of P(right | answered, signals): `evidence` on the extractive
   outcomes with the signals every generator has, `local` on the local outcomes with those,
   and `local+judge` with the local model's own judgement added (the log-odds of its
   "not found" reply to `prompts/judge.txt`; it costs a prompt evaluation, so it is asked
   only where the evidence probability leaves the decision open, and only with
   `ASSISTANT_JUDGE=1`). Standardised features, L2 (C=1).
3. **Choose the operating points** for the best mean CRAG-style score (+1 right, -1 wrong,
   0 an answerable question refused, +1 an unanswerable one refused) on out-of-fold
   probabilities (each article predicted by a model fitted on the other eight), so the
   threshold is not chosen on the fit's own optimism. For `local` a lower pre-model
   threshold on the `evidence` probability is chosen with it (refuse without calling the
   model), and for `local+judge` the `probe_below` from which the judge is not asked, with
   at most `--probe-budget` of the questions judged; ties go to the lower pre-threshold
   (the model gets its say), then to fewer judged questions.
4. `--write` stores the models in assistant/answerability.json (format 1).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np

from assistant.answerability import CALIBRATOR_FORMAT, CALIBRATOR_PATH
from assistant.signals import EVIDENCE_FEATURES, MODEL_FEATURE, refusal_logit
from eval import squad

OUTCOMES_DIR = Path(__file__).resolve().parent / "calibration"
GRID = np.round(np.arange(0.0, 1.0001, 0.01), 2)
# The calibration sample is half unanswerable by construction (SQuAD 2.0's near-misses); the
# operating point is chosen for a deployment where about one question in four is not
# answered by the documents (`--unanswerable-share`), by weighting the rows.
UNANSWERABLE_SHARE = 0.25
TOLERANCE = 0.01  # CRAG differences below this (2 of 216 questions) count as ties
PRE_GRID = (0.0, 0.02, 0.05, 0.1)  # only the clearly irrelevant is refused before the model
# From which evidence probability `local+judge` answers without the model's judgement (1.0:
# always asked); the judge costs about 1 s on 2 cores, so at most PROBE_BUDGET of the
# questions may pay for it (`--probe-budget`).
PROBE_GRID = (0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.6, 0.7, 0.8, 1.0)
PROBE_BUDGET = 0.5


# --- collecting outcomes -----------------------------------------------------------------


def collect(generator: str, *, progress: bool = True) -> list[dict[str, Any]]:
    from tqdm import tqdm

    from assistant import answer
    from assistant.settings import Settings

    settings = squad.ensure_index(Settings(answer_threshold=0.0), progress=progress)
    rows = []
    for q in tqdm(squad.sample("calibration"), desc=f"calibrate {generator}", disable=not progress):
        result = answer(q["question"], generator=generator, settings=settings)
        trace = result.trace
        rows.append(
            {
                "id": q["id"],
                "article": q["article"],
                "answerable": q["answerable"],
                "answered": not result.refused,
                "correct": squad.is_correct(q, result),
                "features": trace.get("features", {}),
                "stage": trace.get("decision", {}).get("stage", ""),
                "answer": result.text,
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


# --- fitting -------------------------------------------------------------------------------


def matrix(rows: Sequence[dict[str, Any]], names: Sequence[str]) -> np.ndarray:
    def value(row: dict[str, Any], name: str) -> float:
        if name == MODEL_FEATURE:
            return refusal_logit(float(row["features"].get("refusal_probability", 0.5)))
        return float(row["features"].get(name, 0.0))

    return np.array([[value(r, n) for n in names] for r in rows], dtype=float)


def fit(x: np.ndarray, y: np.ndarray) -> dict[str, Any]:
    from sklearn.linear_model import LogisticRegression

    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-9] = 1.0
    model = LogisticRegression(C=1.0, max_iter=1000).fit((x - mean) / scale, y)
    return {
        "mean": mean.round(6).tolist(),
        "scale": scale.round(6).tolist(),
        "coef": model.coef_[0].round(6).tolist(),
        "intercept": round(float(model.intercept_[0]), 6),
    }


def predict(params: dict[str, Any], x: np.ndarray) -> np.ndarray:
    z = params["intercept"] + ((x - params["mean"]) / params["scale"]) @ np.array(params["coef"])
    return 1.0 / (1.0 + np.exp(-z))


def out_of_fold(rows: Sequence[dict[str, Any]], names: Sequence[str]) -> np.ndarray:
    """P(right) of every answered row from a model fitted without its article (NaN for rows
    the generator refused by itself)."""
    answered = [i for i, r in enumerate(rows) if r["answered"]]
    x = matrix([rows[i] for i in answered], names)
    y = np.array([rows[i]["correct"] for i in answered], dtype=int)
    groups = np.array([rows[i]["article"] for i in answered])
    p = np.full(len(rows), np.nan)
    for article in sorted(set(groups)):
        train = groups != article
        if len(set(y[train])) < 2:
            continue
        params = fit(x[train], y[train])
        for j in np.flatnonzero(~train):
            p[answered[j]] = predict(params, x[j : j + 1])[0]
    return p


def crag(
    rows: Sequence[dict[str, Any]], answers: Sequence[bool], share: float | None = None
) -> float:
    """Mean CRAG-style score when row i is answered iff answers[i] (and the generator did);
    with `share`, the rows are weighted as if that share of the questions were unanswerable."""
    unanswerable = sum(not r["answerable"] for r in rows)
    weights = {True: 1.0, False: 1.0}
    if share is not None and 0 < unanswerable < len(rows):
        weights = {
            True: (1 - share) * len(rows) / (len(rows) - unanswerable),
            False: share * len(rows) / unanswerable,
        }
    total = 0.0
    for row, yes in zip(rows, answers, strict=True):
        if yes and row["answered"]:
            score = 1 if row["correct"] else -1
        else:
            score = 0 if row["answerable"] else 1
        total += weights[row["answerable"]] * score
    return total / len(rows)


def choose(
    rows: Sequence[dict[str, Any]],
    p: np.ndarray,
    pre: np.ndarray | None,
    share: float,
    budget: float = 1.0,
) -> dict:
    """The operating point with the best weighted CRAG on these probabilities: the
    threshold, and with `pre` (the evidence probability before the model) the
    pre-threshold below which the model is not asked and the `probe_below` from which it is
    not probed, probing at most `budget` of the questions. Among points within TOLERANCE of
    the best: the lowest threshold (answer when refusing gains nothing measurable), then the
    lowest pre-threshold (the model gets its say), then the fewest probes."""
    scored = []
    for t0 in PRE_GRID if pre is not None else [0.0]:
        for hi in PROBE_GRID if pre is not None else [1.0]:
            if pre is not None and probed_share(pre, t0, hi) > budget:
                continue
            for t in GRID:
                answers = answering(p, pre, float(t0), float(t), hi)
                scored.append((crag(rows, answers, share), float(t0), float(t), hi))
    best = max(s[0] for s in scored)
    near = [s for s in scored if s[0] >= best - TOLERANCE]
    score, t0, t, hi = min(near, key=lambda s: (s[2], s[1], s[3]))
    return {"crag": score, "pre_threshold": t0, "threshold": t, "probe_below": hi}


def probed_share(pre: np.ndarray, t0: float, hi: float) -> float:
    """The share of questions whose evidence probability leaves the decision to the probe."""
    return float(np.mean((pre >= t0) & (pre < hi)))


def answering(
    p: np.ndarray, pre: np.ndarray | None, t0: float, t: float, hi: float = 1.0
) -> list[bool]:
    """Which rows are answered at these thresholds (a NaN probability: the generator refused
    by itself, so the threshold does not matter). With `pre`: refused below `t0`, answered
    from `hi` on without the probe, decided on `p` in between."""
    p = np.nan_to_num(p, nan=1.0)
    if pre is None:
        return [bool(pi >= t) for pi in p]
    return [bool(pr >= t0 and (pr >= hi or pi >= t)) for pi, pr in zip(p, pre, strict=True)]


def summary(rows: Sequence[dict[str, Any]], answers: Sequence[bool], share: float) -> str:
    yes = [a and r["answered"] for r, a in zip(rows, answers, strict=True)]
    ans = [r for r in rows if r["answerable"]]
    right = sum(1 for r, a in zip(rows, yes, strict=True) if a and r["answerable"] and r["correct"])
    refused_un = sum(1 for r, a in zip(rows, yes, strict=True) if not a and not r["answerable"])
    return (
        f"answerable right {right}/{len(ans)}, unanswerable refused "
        f"{refused_un}/{len(rows) - len(ans)}, coverage {sum(yes) / len(rows):.2f}, "
        f"CRAG {crag(rows, answers):+.3f} ({crag(rows, answers, share):+.3f} at "
        f"{share:.0%} unanswerable)"
    )


def calibrate_model(
    name: str,
    rows: list[dict[str, Any]],
    names: Sequence[str],
    pre: np.ndarray | None,
    share: float,
    budget: float = PROBE_BUDGET,
) -> dict[str, Any]:
    answered = [r for r in rows if r["answered"]]
    x = matrix(answered, names)
    y = np.array([r["correct"] for r in answered], dtype=int)
    params = fit(x, y)
    oof = out_of_fold(rows, names)
    chosen = choose(rows, oof, pre, share, budget)
    print(f"[{name}] {len(rows)} questions, {len(answered)} answered, {int(y.sum())} right")
    print(f"  gate off:            {summary(rows, [True] * len(rows), share)}")
    t0, t, hi = chosen["pre_threshold"], chosen["threshold"], chosen["probe_below"]
    answers = answering(oof, pre, t0, t, hi)
    band = "" if pre is None else f", probed below {hi:.2f} ({probed_share(pre, t0, hi):.0%})"
    print(
        f"  chosen (out-of-fold): {summary(rows, answers, share)} at threshold "
        f"{t:.2f}, pre-threshold {t0:.2f}{band}"
    )
    print(
        "  coefficients: "
        + ", ".join(f"{n} {c:+.2f}" for n, c in zip(names, params["coef"], strict=True))
    )
    model = {
        "features": list(names),
        **params,
        "threshold": chosen["threshold"],
        "pre_threshold": t0 if pre is not None else 0.0,
        "probe_below": hi if pre is not None else 1.0,
        "fitted_on": f"{name}: {len(rows)} calibration questions ({len(answered)} answered)",
        "aim": f"CRAG-style score with {share:.0%} of questions unanswerable",
        "calibration_crag_out_of_fold": round(chosen["crag"], 4),
    }
    return model


def calibrate_local(
    rows: list[dict[str, Any]], evidence: dict[str, Any], share: float, budget: float
) -> dict[str, dict[str, Any]]:
    """The `local` models: `local` without the model's own judgement (the default: no time
    added), and `local+judge` with it (`ASSISTANT_JUDGE=1`), probing at most `budget` of
    the questions."""
    pre = predict(evidence, matrix(rows, EVIDENCE_FEATURES))
    plain = calibrate_model("local, without the judge", rows, EVIDENCE_FEATURES, None, share)
    judged = calibrate_model(
        "local+judge", rows, (*EVIDENCE_FEATURES, MODEL_FEATURE), pre, share, budget
    )
    gain = judged["calibration_crag_out_of_fold"] - plain["calibration_crag_out_of_fold"]
    print(f"local: the judge changes the out-of-fold CRAG by {gain:+.3f}")
    return {"local": plain, "local+judge": judged}


def write_calibrator(models: dict[str, Any]) -> None:
    existing: dict[str, Any] = {}
    with contextlib.suppress(OSError, ValueError):
        existing = json.loads(CALIBRATOR_PATH.read_text(encoding="utf-8")).get("models", {})
    out = {
        "format": CALIBRATOR_FORMAT,
        "fitted": datetime.now().astimezone().isoformat(timespec="seconds"),
        "data": "squad2-open calibration part (eval/squad2_open.toml), outcomes in "
        "eval/calibration/",
        "script": "python -m eval.calibrate --write",
        "models": {**existing, **models},
    }
    CALIBRATOR_PATH.write_text(json.dumps(out, indent=1) + "\n", encoding="utf-8")
    print(f"wrote {CALIBRATOR_PATH}", file=sys.stderr)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.calibrate", description=__doc__)
    parser.add_argument(
        "--generator", action="append", metavar="NAME", help="extractive and/or local"
    )
    parser.add_argument("--collect", action="store_true", help="ask the questions again")
    parser.add_argument("--write", action="store_true", help=f"write {CALIBRATOR_PATH.name}")
    parser.add_argument(
        "--unanswerable-share",
        type=float,
        default=UNANSWERABLE_SHARE,
        metavar="S",
        help="the share of unanswerable questions the operating point is chosen for "
        f"(default {UNANSWERABLE_SHARE})",
    )
    parser.add_argument(
        "--probe-budget",
        type=float,
        default=PROBE_BUDGET,
        metavar="B",
        help="the largest share of questions the local model's probe may run on "
        f"(default {PROBE_BUDGET})",
    )
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args(argv)
    generators = args.generator or ["extractive", "local"]
    share = args.unanswerable_share
    data: dict[str, list[dict[str, Any]]] = {}
    for gen in generators:
        if args.collect or not outcomes_path(gen).exists():
            save_outcomes(gen, collect(gen, progress=not args.quiet))
        data[gen] = load_outcomes(gen)
    if "extractive" not in data:
        data["extractive"] = load_outcomes("extractive")

    models: dict[str, Any] = {}
    models["evidence"] = calibrate_model(
        "evidence (extractive)", data["extractive"], EVIDENCE_FEATURES, None, share
    )
    if "local" in data:
        models |= calibrate_local(data["local"], models["evidence"], share, args.probe_budget)
    if args.write:
        write_calibrator(models)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

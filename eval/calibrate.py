"""Fit the answerability calibrator: `python -m eval.calibrate [--collect] [--write]`.

1. **Collect** (`--collect`, or when a generator's outcome file is missing): ask every
   question of the squad2-open *calibration* part (eval/squad2_open.toml; never the test part,
   never the seed suite) through the real pipeline with the probability gate off
   (`ASSISTANT_ANSWER_THRESHOLD=0`), and keep per question the answerability signals from
   `Answer.trace`, whether the generator answered, and whether that answer was right (SQuAD
   scoring, eval/squad.py). One file per generator: `eval/calibration/<generator>.jsonl`.
2. **Fit** a logistic model of P(right | answered, signals): `evidence` on the extractive
   outcomes with the signals every generator has, `local` on the local outcomes with those,
   and once more with the model's own refusal log-odds added; the probe (which costs time
   on every answer) is kept only when it raises the out-of-fold CRAG by TOLERANCE or more.
   Standardised features, L2 (C=1).
3. **Choose the operating points** for the best mean CRAG-style score (+1 right, -1 wrong,
   0 an answerable question refused, +1 an unanswerable one refused) on out-of-fold
   probabilities (each article predicted by a model fitted on the other eight), so the
   threshold is not chosen on the fit's own optimism. For `local` a lower pre-model
   threshold on the `evidence` probability is chosen with it (refuse without calling the
   model); ties go to the lower pre-threshold (the model gets its say).
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

from assistant.answerability import (
    CALIBRATOR_FORMAT,
    CALIBRATOR_PATH,
    EVIDENCE_FEATURES,
    MODEL_FEATURE,
    refusal_logit,
)
from eval import squad

OUTCOMES_DIR = Path(__file__).resolve().parent / "calibration"
GRID = np.round(np.arange(0.0, 1.0001, 0.01), 2)
# The calibration sample is half unanswerable by construction (SQuAD 2.0's near-misses); the
# operating point is chosen for a deployment where about one question in four is not
# answered by the documents (`--unanswerable-share`), by weighting the rows.
UNANSWERABLE_SHARE = 0.25
TOLERANCE = 0.01  # CRAG differences below this (2 of 216 questions) count as ties
PRE_GRID = (0.0, 0.02, 0.05, 0.1)  # only the clearly irrelevant is refused before the model


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
    rows: Sequence[dict[str, Any]], p: np.ndarray, pre: np.ndarray | None, share: float
) -> dict:
    """The (pre_threshold, threshold) with the best weighted CRAG on these probabilities;
    among those within TOLERANCE of the best, the lowest threshold (answer when refusing
    gains nothing measurable), then the lowest pre-threshold (the model gets its say)."""
    scored = []
    for t0 in PRE_GRID if pre is not None else [0.0]:
        for t in GRID:
            answers = answering(p, pre, float(t0), float(t))
            scored.append((crag(rows, answers, share), float(t0), float(t)))
    best = max(score for score, _, _ in scored)
    near = [s for s in scored if s[0] >= best - TOLERANCE]
    score, t0, t = min(near, key=lambda s: (s[2], s[1]))
    return {"crag": score, "pre_threshold": t0, "threshold": t}


def answering(p: np.ndarray, pre: np.ndarray | None, t0: float, t: float) -> list[bool]:
    """Which rows are answered at these thresholds (a NaN probability: the generator refused
    by itself, so the threshold does not matter)."""
    p = np.nan_to_num(p, nan=1.0)
    gate = pre if pre is not None else np.ones_like(p)
    return [bool(pi >= t and (pre is None or pr >= t0)) for pi, pr in zip(p, gate, strict=True)]


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
) -> dict[str, Any]:
    answered = [r for r in rows if r["answered"]]
    x = matrix(answered, names)
    y = np.array([r["correct"] for r in answered], dtype=int)
    params = fit(x, y)
    oof = out_of_fold(rows, names)
    chosen = choose(rows, oof, pre, share)
    print(f"[{name}] {len(rows)} questions, {len(answered)} answered, {int(y.sum())} right")
    print(f"  gate off:            {summary(rows, [True] * len(rows), share)}")
    answers = answering(oof, pre, chosen["pre_threshold"], chosen["threshold"])
    print(
        f"  chosen (out-of-fold): {summary(rows, answers, share)} at threshold "
        f"{chosen['threshold']:.2f}, pre-threshold {chosen['pre_threshold']:.2f}"
    )
    print(
        "  coefficients: "
        + ", ".join(f"{n} {c:+.2f}" for n, c in zip(names, params["coef"], strict=True))
    )
    model = {
        "features": list(names),
        **params,
        "threshold": chosen["threshold"],
        "pre_threshold": chosen["pre_threshold"] if pre is not None else 0.0,
        "fitted_on": f"{name}: {len(rows)} calibration questions ({len(answered)} answered)",
        "aim": f"CRAG-style score with {share:.0%} of questions unanswerable",
        "calibration_crag_out_of_fold": round(chosen["crag"], 4),
    }
    return model


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
        rows = data["local"]
        pre = predict(models["evidence"], matrix(rows, EVIDENCE_FEATURES))
        plain = calibrate_model("local, without the probe", rows, EVIDENCE_FEATURES, None, share)
        probed = calibrate_model(
            "local, with the probe", rows, (*EVIDENCE_FEATURES, MODEL_FEATURE), pre, share
        )
        # The probe costs time on every answer: use it only when it measurably helps.
        gain = probed["calibration_crag_out_of_fold"] - plain["calibration_crag_out_of_fold"]
        models["local"] = probed if gain >= TOLERANCE else plain
        print(
            f"local: the probe changes the out-of-fold CRAG by {gain:+.3f}; "
            f"{'using' if gain >= TOLERANCE else 'not using'} it"
        )
    if args.write:
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
    return 0


if __name__ == "__main__":
    raise SystemExit(main())

"""The gate: a run's headline metrics against their bounds (the thresholds file) and against
the stored baseline; reading both files, and writing the baseline after an intended change.
"""

from __future__ import annotations

import json
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from eval.errors import UsageError
from eval.scoring.aggregate import HEADLINE, LOWER_IS_BETTER
from eval.suites.suite import BASELINE_PATH, THRESHOLDS_PATH

Bounds = dict[str, dict[str, float]]  # metric -> {"min"/"max": x}


@dataclass
class Thresholds:
    bounds: dict[str, Bounds]  # generator -> metric -> {"min"/"max": x}
    max_drop: dict[str, float | None]  # metric -> allowed drop vs baseline (None: not compared)
    relative: dict[str, bool]  # metric -> the drop is a fraction of the baseline value

    def for_generator(self, name: str) -> Bounds:
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
    bounds = {
        gen: _bounds(path.name, gen, table) for gen, table in data.get("generators", {}).items()
    }
    return Thresholds(bounds, max_drop, relative)


def _bounds(filename: str, generator: str, table: dict[str, Any]) -> Bounds:
    """One [generators.NAME] table, checked: known metrics, each { min = x } or { max = x }."""
    bounds: Bounds = {}
    for name, bound in table.items():
        if name not in HEADLINE:
            raise UsageError(f"{filename}: unknown metric {name!r} in [generators.{generator}]")
        if not isinstance(bound, dict) or not set(bound) <= {"min", "max"} or not bound:
            raise UsageError(
                f"{filename}: [generators.{generator}] {name} must be {{ min = x }} or "
                "{ max = x }"
            )
        bounds[name] = {k: float(v) for k, v in bound.items()}
    return bounds


def load_baseline(path: Path = BASELINE_PATH) -> dict[str, Any]:
    if not path.exists():
        return {"generators": {}}
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, json.JSONDecodeError) as exc:
        raise UsageError(f"cannot read baseline {path}: {exc}") from None
    data.setdefault("generators", {})
    return data


class Measured(Protocol):
    """What the baseline keeps of a run (eval.runner.Run has it; runner imports this module,
    so the gate names the shape instead of importing the class)."""

    generator: str
    k: int
    finished: str
    summary: dict[str, Any]


def write_baseline(path: Path, runs: Sequence[Measured], digest: str) -> None:
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
        bound = bounds.get(name, {})
        text = " ".join(f"{'>=' if k == 'min' else '<='} {v:g}" for k, v in sorted(bound.items()))
        reasons = _outside(value, bound)
        if compare:
            reasons += _dropped(name, delta, b, thresholds)
        checks.append(Check(name, value, b, delta, text, not reasons, reasons))
    return checks


def _outside(value: float | None, bound: dict[str, float]) -> list[str]:
    """Why `value` is outside its bound (nothing when it is inside, or not measured)."""
    reasons: list[str] = []
    if value is not None:
        if "min" in bound and value < bound["min"]:
            reasons.append(f"{value:.4g} is below the minimum {bound['min']:g}")
        if "max" in bound and value > bound["max"]:
            reasons.append(f"{value:.4g} is above the maximum {bound['max']:g}")
    return reasons


def _dropped(name: str, delta: float | None, b: float | None, thresholds: Thresholds) -> list[str]:
    """Why the metric got worse than the baseline by more than its allowed drop."""
    allowed = thresholds.max_drop.get(name)
    if delta is None or allowed is None or b is None:
        return []
    drop = delta if name in LOWER_IS_BETTER else -delta
    limit = allowed * abs(b) if thresholds.relative.get(name) else allowed
    if drop <= limit + 1e-9:
        return []
    worse = "rose" if name in LOWER_IS_BETTER else "dropped"
    return [f"{worse} by {abs(delta):.4g} against the baseline {b:.4g} (allowed {limit:.4g})"]

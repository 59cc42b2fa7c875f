"""A run's pictures: chart.png (the headline metrics per generator, black ticks marking the
baseline) and risk_coverage.png (each generator's risk-coverage curve)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eval.reports.text import fmt
from eval.scoring import metrics as m
from eval.scoring.aggregate import HEADLINE, selective_outcomes

if TYPE_CHECKING:
    from eval.runner import Run

CHART_METRICS = tuple(name for name in HEADLINE if not name.startswith("latency"))


def _pyplot() -> Any:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def write_chart(path: Path, runs: Sequence[Run], baseline: dict[str, Any]) -> None:
    """Grouped bars of the headline metrics per generator; black ticks mark the baseline."""
    plt = _pyplot()
    names = list(CHART_METRICS)
    fig, (ax, lat) = plt.subplots(
        1, 2, figsize=(13, 6), gridspec_kw={"width_ratios": [4, 1]}, layout="constrained"
    )
    width = 0.8 / max(len(runs), 1)
    for i, run in enumerate(runs):
        values = [run.summary["headline"].get(n) for n in names]
        xs = [j + (i - (len(runs) - 1) / 2) * width for j in range(len(names))]
        bars = ax.bar(xs, [0 if v is None else v for v in values], width, label=run.generator)
        ax.bar_label(bars, labels=[fmt(v) for v in values], fontsize=7, padding=2)
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
    plt = _pyplot()
    fig, ax = plt.subplots(figsize=(6, 4.5), layout="constrained")
    for run in runs:
        curve = m.risk_coverage(selective_outcomes(run.results))
        aurc = run.summary["headline"].get("aurc")
        label = f"{run.generator} (AURC {fmt(aurc)})"
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

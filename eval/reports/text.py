"""A run as text: the terminal table printed after each generator, and report.md."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from eval.scoring.aggregate import LOWER_IS_BETTER

if TYPE_CHECKING:
    from eval.runner import Run
    from eval.scoring.gate import Check


def fmt(value: Any, metric: str = "") -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.2f}s" if metric.startswith("latency") else f"{value:.3f}"
    return str(value)


def fmt_delta(delta: float | None, metric: str) -> str:
    if delta is None:
        return ""
    if abs(delta) < 5e-4:
        return "="
    better = (delta < 0) if metric in LOWER_IS_BETTER else (delta > 0)
    arrow = "▲" if better else "▼"
    return f"{delta:+.3f} {arrow}"


def _check_row(c: Check) -> tuple[str, ...]:
    return (
        c.metric,
        fmt(c.value, c.metric),
        fmt(c.baseline, c.metric),
        fmt_delta(c.delta, c.metric),
        c.bound,
        "ok" if c.ok else "FAIL",
    )


def terminal_table(run: Run, color: bool = False) -> str:
    def paint(text: str, ok: bool) -> str:
        if not color:
            return text
        return f"\033[{32 if ok else 31}m{text}\033[0m"

    rows: list[tuple[str, ...]] = [("metric", "value", "baseline", "change", "bound", "")]
    rows += [_check_row(c) for c in run.checks]
    widths = [max(len(r[i]) for r in rows) for i in range(len(rows[0]))]
    counts = run.summary["counts"]
    lines = [
        f"== {run.suite} suite, {run.generator} (k={run.k}): {counts['items']} questions, "
        f"{counts['answerable']} answerable, {counts['crashed']} crashed =="
    ]
    for i, row in enumerate(rows):
        cells = [row[0].ljust(widths[0])] + [
            cell.rjust(widths[j]) for j, cell in enumerate(row) if j > 0
        ]
        line = "  ".join(cells).rstrip()
        if i > 0 and row[-1]:
            line = line[: -len(row[-1])] + paint(row[-1], row[-1] == "ok")
        lines.append(line)
        if i == 0:
            lines.append("  ".join("-" * w for w in widths))
    buckets = ", ".join(f"{b} {n}" for b, n in run.summary["buckets"].items() if n)
    lines.append(f"buckets: {buckets}")
    lines.append("per question type:")
    lines += per_type_lines(run)
    lines += [f"note: {note}" for note in run.notes]
    first_error = next((r.error for r in run.results if r.error), "")
    if first_error:
        lines.append(f"first error: {first_error.splitlines()[0][:200]}")
    return "\n".join(lines)


def _md_escape(text: str, limit: int = 160) -> str:
    text = " ".join(text.split())
    if len(text) > limit:
        text = text[: limit - 1] + "…"
    return text.replace("|", "\\|")


def markdown_report(run: Run) -> str:
    counts = run.summary["counts"]
    out = [
        f"# Eval report: `{run.generator}` on the {run.suite} suite",
        "",
        f"- started {run.started}, finished {run.finished}; k = {run.k}",
        f"- {counts['items']} questions ({counts['answerable']} answerable, "
        f"{counts['unanswerable']} unanswerable), {counts['crashed']} crashed, "
        f"{counts['refused']} refused",
        f"- gate: **{'pass' if all(c.ok for c in run.checks) else 'FAIL'}**",
    ]
    out += [f"- note: {n}" for n in run.notes]
    out += _md_headline(run) + _md_summary(run) + _md_per_question(run)
    return "\n".join(out) + "\n"


def _section(title: str, header: str, align: str) -> list[str]:
    """A Markdown section's title and its table's head."""
    return ["", f"## {title}", "", header, align]


def _md_headline(run: Run) -> list[str]:
    out = _section(
        "Headline metrics",
        "| metric | value | baseline | change | bound | status |",
        "|---|---:|---:|---:|---|---|",
    )
    for c in run.checks:
        status = "ok" if c.ok else "FAIL: " + "; ".join(c.reasons)
        out.append(
            f"| {c.metric} | {fmt(c.value, c.metric)} | {fmt(c.baseline, c.metric)} | "
            f"{fmt_delta(c.delta, c.metric)} | {c.bound} | {status} |"
        )
    return out


def _md_summary(run: Run) -> list[str]:
    """Latency per stage, failure buckets and accuracy per question type."""
    out = _section(
        "Latency per stage (seconds)", "| stage | n | p50 | p95 |", "|---|---:|---:|---:|"
    )
    for stage, d in run.summary["latency"].items():
        out.append(f"| {stage} | {d['n']} | {fmt(d['p50'])} | {fmt(d['p95'])} |")
    out += _section("Failure buckets", "| bucket | items |", "|---|---:|")
    out += [f"| {b} | {n} |" for b, n in run.summary["buckets"].items()]
    out += _section(
        "Per question type (right / complete / faithful: eval/scoring/nuggets.py)",
        "| type | n | accuracy | refused | right | complete | faithful |",
        "|---|---:|---:|---:|---:|---:|---:|",
    )
    for t, d in run.summary["per_type"].items():
        whole = [fmt(d.get(name)) if name in d else "-" for name in WHOLE]
        out.append(
            f"| {t} | {d['n']} | {fmt(d['accuracy'])} | {fmt(d.get('refused'))} | "
            + " | ".join(whole)
            + " |"
        )
    return out


WHOLE = ("right", "complete", "faithful")


def per_type_lines(run: Run) -> list[str]:
    """The per-type figures for the terminal: one short line per question type."""
    lines = []
    for t, d in run.summary["per_type"].items():
        line = f"  {t:<22} n={d['n']:<3} accuracy {fmt(d['accuracy'])}"
        line += f"  refused {fmt(d.get('refused'))}"
        if "right" in d:
            line += "  " + "  ".join(f"{name} {fmt(d[name])}" for name in WHOLE)
        lines.append(line)
    return lines


def _md_per_question(run: Run) -> list[str]:
    out = _section(
        "Per question",
        "| id | type | bucket | gold rank | contains | nuggets | F1 | cites valid | support "
        "| coverage | answer |",
        "|---|---|---|---:|---|---:|---:|---|---:|---:|---|",
    )
    for r in run.results:
        shown = r.error if r.crashed else ("(refused) " if r.refused else "") + r.answer
        out.append(
            f"| {r.id} | {r.type} | {r.bucket} | {r.gold_rank or '-'} | "
            f"{'yes' if r.contains else 'no'} | {r.nugget_share:.2f} | {r.f1:.2f} | "
            f"{'yes' if r.citations_valid else 'no'} | {r.citation_support:.2f} | "
            f"{r.citation_coverage:.2f} | {_md_escape(shown)} |"
        )
    return out

"""The bench's printed table: one row per figure (ours, the LangChain baseline, the ratio),
rows written per stage from the figures `assistant bench` collected (the same dict its
`--json` file holds)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

Figures = dict[str, Any]


def row(label: str, ours: str, base: str = "-", ratio: str = "-") -> str:
    return f"  {label:<44} {ours:>20} {base:>20} {ratio:>9}"


def _ms(x: float) -> str:
    return f"{x * 1000:,.1f} ms"


def _p50_p95(s: Figures) -> str:
    return f"{_ms(s['p50'])} [{s['p95'] * 1000:.0f}]"


def _ratio(ours: float, base: float) -> str:
    return f"{ours / base:.2f}x" if base else "-"


def ingest_rows(i: Figures) -> list[str]:
    """Chunks, corpus bytes and tiktoken tokens per second of one corpus, ours and baseline."""
    name = i["corpus"]
    if "missing" in i:
        return [row(f"ingest, {name}", "not found", "-", "-")]
    lines = [
        row(
            f"ingest, {name} ({i['chunks']:,} / {i['baseline_chunks']:,} chunks)",
            f"{i['chunks_per_s']:.0f} chunks/s",
            f"{i['baseline_chunks_per_s']:.0f} chunks/s",
            _ratio(i["chunks_per_s"], i["baseline_chunks_per_s"]),
        ),
        row(
            f"  corpus bytes/s ({i['bytes'] / 1e6:,.2f} MB, {i['files']} files)",
            f"{i['bytes_per_s'] / 1e3:,.1f} kB/s",
            f"{i['baseline_bytes_per_s'] / 1e3:,.1f} kB/s",
            _ratio(i["bytes_per_s"], i["baseline_bytes_per_s"]),
        ),
        row(
            f"  tiktoken tokens/s ({i['tokens']:,} tokens)",
            f"{i['tokens_per_s']:,.0f} tokens/s",
            f"{i['baseline_tokens_per_s']:,.0f} tokens/s",
            _ratio(i["tokens_per_s"], i["baseline_tokens_per_s"]),
        ),
    ]
    if "no_change_seconds" in i:
        lines.append(row("second ingest, nothing changed", f"{i['no_change_seconds']:.2f} s"))
    return lines


def retrieval_rows(x: Figures) -> list[str]:
    lines = [
        row(
            "retrieval latency p50 [p95]",
            _p50_p95(x["ours"]),
            _p50_p95(x["baseline"]),
            _ratio(x["ours"]["p50"], x["baseline"]["p50"]),
        )
    ]
    for n in ("hit@1", "hit@5"):
        lines.append(
            row(
                f"retrieval {n} ({x['questions']} answerable questions)",
                f"{x[n]:.3f}",
                f"{x['baseline_' + n]:.3f}",
                _ratio(x[n], x["baseline_" + n]),
            )
        )
    return lines


def scope_rows(x: Figures) -> list[str]:
    """Scoped retrieval against the same questions over every document (ratio: scoped /
    all; a scope should cost at most 1.2x)."""
    corpus = f"{x['documents']} documents, {x['chunks']:,} chunks"
    return [
        row(f"retrieval p50 [p95], all of {corpus}", _p50_p95(x["all"])),
        row(
            "  scoped to one document / vs all",
            _p50_p95(x["one"]),
            "-",
            _ratio(x["one"]["p50"], x["all"]["p50"]),
        ),
        row(
            "  scoped to ten documents / vs all",
            _p50_p95(x["ten"]),
            "-",
            _ratio(x["ten"]["p50"], x["all"]["p50"]),
        ),
    ]


def answer_rows(name: str, a: Figures) -> list[str]:
    if "error" in a:
        return [row(f"{name}: answer", "unavailable")]
    lines = [
        row(f"{name}: whole answer p50 [p95]", _p50_p95(a["total"])),
        row(f"{name}: first token p50 [p95]", _p50_p95(a["first_token"])),
    ]
    if a.get("read"):
        lines.append(row(f"{name}: reader's decision (prompt read) p50", _ms(a["read"]["p50"])))
    if a.get("without_probe"):
        probed, bare = a["without_probe"]["with"]["p50"], a["without_probe"]["without"]["p50"]
        lines.append(
            row(
                f"{name}: answer p50, gate off, decision read / not",
                f"{_ms(probed)} / {_ms(bare)}",
                "-",
                f"{100 * (probed / bare - 1):+.0f}%" if bare else "-",
            )
        )
    return lines + (local_rows(a) if name == "local" else [])


def local_rows(a: Figures) -> list[str]:
    """Model load and prompt-prefix warm-up, in this process and in new ones."""
    load = a.get("model_load_seconds", a["load_seconds"])
    lines = [row("local: model load (this process)", f"{load:.2f} s")]
    if a.get("warm_up_seconds"):
        how = "restored" if a.get("prefix_restored") else "evaluated"
        lines.append(row(f"local: prompt-prefix warm-up ({how})", f"{a['warm_up_seconds']:.2f} s"))
    if "new_process_load" in a:
        load, restore = a["new_process_load"], a["new_process_restore"]
        label = "local: model load / prefix restore, new process (3 runs)"
        lines.append(row(label, f"{load['p50']:.2f} s / {restore['p50']:.2f} s"))
    elif "new_process_error" in a:
        lines.append(row("local: model load, new process", "failed"))
    return lines


def cold_rows(name: str, c: Figures) -> list[str]:
    value = "failed" if "error" in c else f"{c['p50']:.1f} s"
    return [row(f"cold start to first answer ({name})", value)]


def scale_rows(s: Figures) -> list[str]:
    if "error" in s:
        return [row("scale test", "failed")]
    written = "re-used" if s["write_seconds"] is None else f"{s['write_seconds']:.0f} s"
    label = "  app process peak memory" + (
        ", local model loaded" if s["local_model_loaded"] else ""
    )
    steps = ", ".join(f"{k} {v:,.0f}" for k, v in s["rss_steps_mb"].items())
    return [
        row(f"hybrid query p50 [p95], {s['chunks']:,} chunks", _p50_p95(s["query"])),
        row("  store write / BM25 build", f"{written} / {s['bm25_build_seconds']:.1f} s"),
        row(label, f"{s['peak_rss_mb']:,.0f} MB"),
        f"    memory (MB) after: {steps}",
    ]


def conversation_rows(c: Figures) -> list[str]:
    """The chat's conversation list (target: p50 <= target_ms)."""
    label = f"conversation list, {c['conversations']:,} stored (p50 <= {c['target_ms']:.0f} ms)"
    return [
        row(label, _p50_p95(c["page_list"])),
        row("  its store query", _p50_p95(c["store_list"])),
    ]


def team_rows(t: Figures) -> list[str]:
    """People asking at once through two app processes (errors must be 0)."""
    if "error" in t:
        return [row("team deployment", "unavailable"), f"    {t['error']}"]
    label = f"team: {t['users']} people over {t['apps']} apps, answer p50 [p95]"
    total = t["total"]
    lines = [
        row(label, f"{total['p50']:.1f} s [{total['p95']:.1f}]"),
        row(f"  answers per minute ({t['answers']} answers, {t['refused']} refused)",
            f"{t['per_minute']:.1f}"),
        row("  errors", str(t["errors"])),
    ]  # fmt: skip
    refusals = [f"    refused {n}x: {reason}" for reason, n in t.get("refusals", [])]
    return lines + [f"    {line}" for line in t["error_lines"]] + refusals


def memory_rows(mem: Figures) -> list[str]:
    label = "bench process peak memory (all of the above)"
    return [row(label, f"{mem['peak_rss_mb']:,.0f} MB")]


def machine_rows(cpu: Figures) -> list[str]:
    speed = f"{cpu['start']:.0f} / {cpu['end']:.0f}"
    return [row("machine speed at start / end (float32 GFLOPS)", speed)]


# The figures' keys in the table's order, with the rows each one gets.
SECTIONS: tuple[tuple[str, Callable[[Figures], list[str]]], ...] = (
    ("ingest", ingest_rows),
    ("ingest_squad2_open", ingest_rows),
    ("retrieval", retrieval_rows),
    ("retrieval_scope", scope_rows),
    ("answer_extractive", lambda a: answer_rows("extractive", a)),
    ("answer_local", lambda a: answer_rows("local", a)),
    ("cold_extractive", lambda c: cold_rows("extractive", c)),
    ("cold_local", lambda c: cold_rows("local", c)),
    ("scale", scale_rows),
    ("conversations", conversation_rows),
    ("team", team_rows),
    ("memory", memory_rows),
    ("cpu_gflops", machine_rows),
)


def report(r: Figures) -> str:
    lines = ["", "Benchmark (medians over repeated runs after a warm-up; p95 in brackets)", ""]
    lines.append(row("figure", "ours", "LangChain baseline", "ratio"))
    for key, rows in SECTIONS:
        if r.get(key):
            lines += rows(r[key])
    return "\n".join(lines) + "\n"

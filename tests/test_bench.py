"""The bench's ingestion figures: chunks, corpus bytes and tiktoken tokens per
second, ours and the LangChain baseline's, with their ratio, per corpus; and the table's rows
for them. The measuring test ingests a tiny corpus for real (real embedder, embedded Chroma,
LangChain's Chroma)."""

from __future__ import annotations

import argparse

import pytest

from eval.bench.ingest import corpus_size, measure
from eval.bench.report import ingest_rows, report, team_rows
from eval.bench.tools import Context
from index.tokens import count_tokens

TEXTS = {
    "a.txt": "The crew at Kourou confirmed the launch window. The pilot approved it.\n",
    "sub/b.md": "# Notes\n\nThe station tested the solar array repair in 1999.\n",
}


@pytest.fixture
def corpus(tmp_path):
    folder = tmp_path / "corpus"
    for name, text in TEXTS.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    (folder / "ignored.bin").write_bytes(b"\x00\x01")  # not a supported document
    return folder


def test_corpus_size_counts_the_supported_files_in_bytes_and_tiktoken_tokens(corpus):
    size = corpus_size(corpus)
    assert size == {
        "files": 2,
        "bytes": sum(len(t.encode("utf-8")) for t in TEXTS.values()),
        "tokens": sum(count_tokens(t) for t in TEXTS.values()),
    }


def test_measure_gives_both_pipelines_per_second_of_chunks_bytes_and_tokens(corpus, tmp_path):
    args = argparse.Namespace(quick=True)
    ctx = Context(args, tmp_path / "work")
    figures = measure(ctx, "tiny corpus", corpus, again=True)
    assert figures["files"] == 2 and figures["chunks"] >= 2 and figures["baseline_chunks"] >= 2
    for prefix in ("", "baseline_"):
        seconds = figures[prefix + "seconds"]
        assert figures[prefix + "bytes_per_s"] == pytest.approx(figures["bytes"] / seconds)
        assert figures[prefix + "tokens_per_s"] == pytest.approx(figures["tokens"] / seconds)
    ratio = figures["ratio"]
    # one corpus, two timings: bytes/s and tokens/s give the same ratio (the time's inverse)
    assert ratio["bytes_per_s"] == pytest.approx(figures["baseline_seconds"] / figures["seconds"])
    assert ratio["tokens_per_s"] == pytest.approx(ratio["bytes_per_s"])
    # Ingesting the same corpus again finds nothing changed: it embeds and writes nothing, so
    # it takes less than the first ingestion did.
    assert 0 < figures["no_change_seconds"] < figures["seconds"]


FIGURES = {
    "corpus": "generated corpus",
    "files": 20,
    "bytes": 250_000,
    "tokens": 50_000,
    "chunks": 500,
    "seconds": 10.0,
    "chunks_per_s": 50.0,
    "bytes_per_s": 25_000.0,
    "tokens_per_s": 5_000.0,
    "no_change_seconds": 0.05,
    "baseline_chunks": 600,
    "baseline_seconds": 8.0,
    "baseline_chunks_per_s": 75.0,
    "baseline_bytes_per_s": 31_250.0,
    "baseline_tokens_per_s": 6_250.0,
}


def test_ingest_rows_show_each_unit_with_the_ratio_ours_over_baseline():
    rows = ingest_rows(FIGURES)
    assert "500 / 600 chunks" in rows[0] and rows[0].endswith("0.67x")
    assert "25.0 kB/s" in rows[1] and "31.2 kB/s" in rows[1] and rows[1].endswith("0.80x")
    assert "5,000 tokens/s" in rows[2] and "6,250 tokens/s" in rows[2]
    assert rows[2].endswith("0.80x")
    assert "second ingest" in rows[3]
    missing = {"corpus": "squad2-open docs", "missing": "/nowhere/docs"}
    (row,) = ingest_rows(missing)
    assert "squad2-open docs" in row and "not found" in row


def test_report_prints_both_corpora():
    squad = {**FIGURES, "corpus": "squad2-open docs"}
    del squad["no_change_seconds"]
    text = report({"ingest": FIGURES, "ingest_squad2_open": squad})
    assert text.count("tiktoken tokens/s") == 2 and text.count("second ingest") == 1
    assert text.index("generated corpus") < text.index("squad2-open docs")


def test_scoped_retrieval_is_timed_against_the_same_questions_over_every_document(tmp_path):
    from eval.bench.report import scope_rows
    from eval.bench.retrieval import scoped

    ctx = Context(argparse.Namespace(quick=True), tmp_path / "work")
    figures = scoped(ctx)
    assert (figures["documents"], figures["k"]) == (20, 4) and figures["chunks"] > 20
    for name in ("all", "one", "ten"):
        assert figures[name]["n"] == 18 and 0 < figures[name]["p50"] <= figures[name]["p95"]
    rows = scope_rows(figures)
    assert "all of 20 documents" in rows[0] and "one document" in rows[1]
    ratio = figures["one"]["p50"] / figures["all"]["p50"]
    assert rows[1].endswith(f"{ratio:.2f}x") and rows[2].endswith("x")


TEAM = {
    "users": 16, "apps": 2, "questions_each": 2, "answers": 31, "refused": 6, "errors": 1,
    "refusals": [["the reader finds no answer in the passages (N < N)", 6]],
    "error_lines": ["Connection refused"], "total": {"p50": 121.94, "p95": 156.92, "n": 31},
    "wall_seconds": 296.0, "per_minute": 6.28,
}  # fmt: skip


def test_team_rows_show_the_answer_times_the_rate_the_errors_and_why_refused():
    rows = team_rows(TEAM)
    assert "team: 16 people over 2 apps, answer p50 [p95]" in rows[0]
    assert "121.9 s [156.9]" in rows[0]
    assert "(31 answers, 6 refused)" in rows[1] and "6.3" in rows[1]
    assert rows[2].split()[:2] == ["errors", "1"]
    assert rows[3].strip() == "Connection refused"
    assert rows[4].strip() == "refused 6x: the reader finds no answer in the passages (N < N)"
    unavailable = report({"team": {"error": "PostgreSQL is not installed (no initdb)"}})
    assert "team deployment" in unavailable and "PostgreSQL is not installed" in unavailable

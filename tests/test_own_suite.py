"""`assistant eval --suite FILE.jsonl --docs DIR` (a suite over one's own documents, checked
first, asked against DIR's own index) and `assistant eval --compare RUN_A RUN_B`.

Through the `assistant` command itself (its `eval` entry point), with the extractive
generator and the real embedder in a temporary data directory.
"""

from __future__ import annotations

import json
from pathlib import Path

from assistant.cli import main

NORMANS = (
    "The Normans gave their name to Normandy, a region in France. They descended from Norse "
    "raiders led by Rollo, who swore fealty to King Charles III in 911."
)
LIGHTHOUSE = "The lighthouse keeper lit the lamp every evening at six o'clock."
RHINE = (
    "The Rhine rises in the Swiss Alps and flows into the North Sea near Rotterdam. It is "
    "about 1,230 kilometres long."
)
ROLLO = (
    "They descended from Norse raiders led by Rollo, who swore fealty to King Charles III in 911."
)


def _item(id_: str, question: str, answers: list[str], evidence: list[str], kind: str) -> dict:
    return {
        "id": id_,
        "question": question,
        "answerable": bool(answers),
        "answers": answers,
        "evidence": evidence,
        "history": [],
        "type": kind,
    }


ITEMS = [
    _item("n-1", "Who led the Norse raiders?", ["Rollo"], [ROLLO], "person"),
    _item("l-1", "At what time did the keeper light the lamp?", ["six o'clock"], [LIGHTHOUSE],
          "number"),
    _item("r-1", "How long is the Rhine river in kilometres?", [], [], "unanswerable_offtopic"),
]  # fmt: skip


def _write(path: Path, rows: list[dict | str]) -> Path:
    lines = [row if isinstance(row, str) else json.dumps(row) for row in rows]
    path.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return path


def test_a_suite_over_your_documents_runs_and_compare_lists_the_turned_item(
    tmp_path, monkeypatch, capsys
):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "Normans.txt").write_text(NORMANS, encoding="utf-8")
    (docs / "Lighthouse.md").write_text(LIGHTHOUSE, encoding="utf-8")
    suite = _write(tmp_path / "mine.jsonl", ITEMS)
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    results = tmp_path / "results"
    argv = ["eval", "--suite", str(suite), "--docs", str(docs), "--generator", "extractive"]
    argv += ["--results", str(results), "--quiet"]

    assert main(argv) == 0  # no bounds of the seed suite; no baseline yet
    (first,) = results.iterdir()
    assert first.name.endswith("-mine-extractive")
    report = json.loads((first / "report.json").read_text(encoding="utf-8"))
    assert report["suite"]["name"] == "mine" and report["counts"]["items"] == 3
    assert {i["id"]: i["correct"] for i in report["items"]}["r-1"] is True  # refused
    assert (first / "chart.png").is_file() and (first / "report.md").is_file()
    (index,) = (tmp_path / "data" / "suites").iterdir()
    assert index.name.startswith("docs-docs-") and (index / "chroma").is_dir()

    # the index follows the folder: with the Rhine's article, r-1 gets answered (wrong)
    (docs / "Rhine.txt").write_text(RHINE, encoding="utf-8")
    assert main([*argv, "--no-gate"]) == 0
    second = next(p for p in results.iterdir() if p != first)
    capsys.readouterr()
    assert main(["eval", "--compare", str(first), str(second / "report.json")]) == 0
    out = capsys.readouterr().out
    assert "turned right: none" in out
    assert "turned wrong (1):\n  r-1  How long is the Rhine" in out
    assert any(line.split()[:1] == ["accuracy"] and "▼" in line for line in out.splitlines())


def test_a_bad_suite_gives_one_line_per_problem_and_exit_2(tmp_path, monkeypatch, capsys):
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "Normans.txt").write_text(NORMANS, encoding="utf-8")
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "data"))
    made_up = "They descended from Viking raiders led by Rollo."
    rows: list[dict | str] = [
        _item("n-1", "Who led the raiders?", ["Rollo"], [made_up], "person"),
        _item("n-1", "When?", ["912"], [NORMANS.split(". ")[0] + "."], "date"),
        {k: v for k, v in _item("n-3", "Who?", ["Rollo"], [ROLLO], "person").items()
         if k != "evidence"},
        _item("n-4", "Who swore fealty?", ["Rollo"], [ROLLO], "trivia"),
        "not json",
    ]  # fmt: skip
    suite = _write(tmp_path / "bad.jsonl", rows)
    argv = ["eval", "--suite", str(suite), "--docs", str(docs), "--generator", "extractive"]

    assert main(argv) == 2
    err = capsys.readouterr().err.splitlines()
    assert all(line.startswith("assistant eval: bad.jsonl:") for line in err)
    assert [line.split(": ", 2)[2] for line in err] == [
        f"evidence not found verbatim in any document of {docs}: {made_up!r}",
        "duplicate id",
        "answer '912' is not inside its evidence",
        "missing field(s) evidence",
        "unknown type 'trivia'",
        "not JSON (Expecting value)",
    ]
    assert not (tmp_path / "data").exists()  # checked before anything is ingested


def test_compare_needs_two_runs_it_can_read(tmp_path, capsys):
    assert main(["eval", "--compare", str(tmp_path / "a"), str(tmp_path / "b")]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("assistant eval: no run at ")

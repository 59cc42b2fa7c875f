""".docx ingestion: a Word document's paragraphs and tables (each row's cells on a
line) through the one ingestion path, with the same one-line problems as other types. The
documents are written with python-docx itself."""

from __future__ import annotations

from pathlib import Path

import pytest

from index.load import load_documents, read_text


def _docx(path: Path) -> Path:
    import docx

    document = docx.Document()
    document.add_heading("Station maintenance", level=1)
    document.add_paragraph("The coolant pump was replaced in March.")
    table = document.add_table(rows=2, cols=3)
    for cell, text in zip(table.rows[0].cells, ["Module", "Crew", "Year"], strict=True):
        cell.text = text
    for cell, text in zip(table.rows[1].cells, ["Zvezda", "Anna Petrova", "2019"], strict=True):
        cell.text = text
    merged = document.add_table(rows=1, cols=2)
    merged.cell(0, 0).merge(merged.cell(0, 1)).text = "Merged note once"
    document.add_paragraph("The final paragraph follows the tables.")
    document.save(str(path))
    return path


def test_docx_paragraphs_and_tables_are_read_in_order(tmp_path):
    text = read_text(_docx(tmp_path / "report.docx"))
    assert text.splitlines() == [
        "Station maintenance",
        "The coolant pump was replaced in March.",
        "Module | Crew | Year",
        "Zvezda | Anna Petrova | 2019",
        "Merged note once",
        "The final paragraph follows the tables.",
    ]


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (b"this is plain text, not a zip", "not a readable Word document"),
        (b"PK\x03\x04 truncated zip", "not a readable Word document"),
        (b"", "not a readable Word document"),
    ],
)
def test_bad_docx_files_are_one_line_problems(tmp_path, content, reason):
    (tmp_path / "bad.docx").write_bytes(content)
    (tmp_path / "good.txt").write_text("A good document.", encoding="utf-8")
    docs, problems = load_documents([tmp_path], tmp_path)
    assert [d.source for d in docs] == ["good.txt"]
    (problem,) = problems
    assert problem.path == "bad.docx" and reason in problem.reason and "\n" not in str(problem)


def test_an_empty_docx_has_no_text(tmp_path):
    import docx

    docx.Document().save(str(tmp_path / "empty.docx"))
    _, problems = load_documents([tmp_path], tmp_path)
    assert [(p.path, p.reason) for p in problems] == [("empty.docx", "no text in it")]


def test_a_docx_is_ingested_and_cited_like_any_document(tmp_path, embedder):
    from assistant import answer
    from assistant.settings import Settings
    from index import Store, ingest

    docs = tmp_path / "docs"
    docs.mkdir()
    _docx(docs / "report.docx")
    s = Settings(
        index={"data_dir": tmp_path / "data"},
        answer={"generator": "extractive", "answer_threshold": 0.0},
    )
    report = ingest(
        [docs], Store(s.index.data_dir), embedder, progress=False,
        chunk_size=s.index.chunk_size, overlap=s.index.chunk_overlap,
    )  # fmt: skip
    assert (report.added, report.problems) == (1, [])
    result = answer("Which crew member is listed for Zvezda?", settings=s)
    cite = result.citations[0]
    assert (cite.source, cite.page) == ("report.docx", None) and "Anna Petrova" in cite.text

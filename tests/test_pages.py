"""Page numbers for PDFs: the extracted text marks each page with a form feed,
chunks keep the page they start on, and a citation of a PDF carries the 1-based page of its
quote besides the character offsets (None for other types); `assistant ask` prints
"report.pdf p. 3". Real PDFs (built byte by byte), real embedder and Chroma, extractive."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import answer
from assistant.types import Passage
from index.load import PAGE_BREAK, Document, page_at, read_text, text_sha256
from index.split import Chunk, split_document
from tests.test_index import make_pdf

PAGES = [
    "The report covers the Zvezda service module and its crew quarters.",
    "",  # a blank page still counts
    "The coolant pump of the Destiny laboratory failed in March and was replaced by Anna Petrova.",
    "The final page lists the Kibo experiments planned for the next decade.",
]
QUESTION = "Who replaced the coolant pump of the Destiny laboratory?"


def test_pdf_pages_are_separated_by_form_feeds_and_blank_pages_count(tmp_path):
    (tmp_path / "r.pdf").write_bytes(make_pdf(PAGES))
    text = read_text(tmp_path / "r.pdf")
    assert text.split(f"\n{PAGE_BREAK}\n") == PAGES
    assert page_at(text, text.index("coolant")) == 3 and page_at(text, 0) == 1


def test_chunks_keep_the_page_they_start_on():
    pages = [
        " ".join(f"Page {n} sentence {i} about module {n}." for i in range(30)) for n in (1, 2, 3)
    ]
    text = f"\n{PAGE_BREAK}\n".join(pages)
    chunks = split_document(Document("r.pdf", text, text_sha256(text)), 64, 16)
    assert len(chunks) > 3
    for c in chunks:
        assert c.page == page_at(text, c.start) and f"Page {c.page} " in c.text
    assert {c.page for c in chunks} == {1, 2, 3}
    other = split_document(Document("r.txt", text, text_sha256(text)), 64, 16)
    assert {c.page for c in other} == {0}  # only a PDF's form feeds are pages


def test_a_passage_across_a_page_break_gives_the_quote_its_own_page():
    text = f"First page ends here.\n{PAGE_BREAK}\nSecond page starts here."
    passage = Passage(1, Chunk("id", "r.pdf", 10, 10 + len(text), text, page=4), 1.0)
    assert passage.page_of("First page ends here.") == 4
    assert passage.page_of("Second page starts here.") == 5
    assert Passage(1, Chunk("id", "r.txt", 0, len(text), text), 1.0).page_of("Second") is None


@pytest.fixture(scope="module")
def paged_dir(tmp_path_factory, embedder) -> Path:
    from assistant.settings import Settings
    from index import Store, ingest

    root = tmp_path_factory.mktemp("pages")
    docs = root / "docs"
    docs.mkdir()
    (docs / "report.pdf").write_bytes(make_pdf(PAGES))
    (docs / "notes.txt").write_text("The Kibo airlock was tested in 2010.\n", encoding="utf-8")
    s = Settings()
    ingest(
        [docs], Store(root / "data"), embedder, progress=False,
        chunk_size=s.index.chunk_size, overlap=s.index.chunk_overlap,
    )  # fmt: skip
    return root / "data"


@pytest.fixture(scope="module")
def paged_settings(paged_dir):
    from assistant.settings import Settings

    return Settings(
        index={"data_dir": paged_dir}, answer={"generator": "extractive", "answer_threshold": 0.0}
    )


def test_a_pdf_citation_carries_its_page_and_offsets(paged_settings):
    from assistant.stores.corpus import document_text

    result = answer(QUESTION, settings=paged_settings)
    cite = result.citations[0]
    assert (cite.source, cite.page) == ("report.pdf", 3) and "Petrova" in cite.quote
    text = document_text(paged_settings, "report.pdf")
    assert text is not None and text[cite.start : cite.end] == cite.text
    assert page_at(text, text.index(cite.quote)) == 3


def test_other_types_have_no_page(paged_settings):
    result = answer("When was the Kibo airlock tested?", settings=paged_settings)
    cited = {c.source: c.page for c in result.citations}
    assert cited.get("notes.txt", "absent") is None


def test_cli_prints_the_page_of_a_pdf_source(paged_dir):
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(paged_dir), "ASSISTANT_GENERATOR": "extractive"}
    env["ASSISTANT_ANSWER_THRESHOLD"] = "0"
    run = [sys.executable, "-m", "assistant", "ask", QUESTION]
    proc = subprocess.run(run, capture_output=True, text=True, env=env, timeout=300)
    assert "[1] report.pdf p. 3 (characters " in proc.stdout, proc.stderr
    proc = subprocess.run([*run, "--json"], capture_output=True, text=True, env=env, timeout=300)
    assert json.loads(proc.stdout)["citations"][0]["page"] == 3

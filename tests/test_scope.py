"""Document scope: a question searches only the documents it names, filtered in the
store before ranking (Chroma's `where` for the dense side, the same filter for BM25), so k
passages still come back; an unknown name is one line of bad input. Real embedder, real
Chroma, the extractive generator."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from assistant import answer
from assistant.errors import BadInput
from tests.ingesting import ingest_texts

QUESTION = "Who repaired the solar array on the station?"
BUDGET = "What did the review board note about the observatory budget?"


def _prose(topic: str, n: int) -> str:
    return "\n".join(
        f"Report {i} on {topic}: the review board met on day {i} and noted progress on {topic}."
        for i in range(n)
    )


DOCS = {
    "alpha.txt": "Engineer Ada Volkov repaired the solar array on the station in 2019. "
    "She replaced two damaged panels during a six-hour spacewalk.\n",
    "beta.txt": _prose("the observatory budget", 120),  # many chunks, none about the repair
    "sub/gamma.md": "# Weather\n\n" + _prose("coastal weather", 30),
}


@pytest.fixture(scope="module")
def scoped_dir(tmp_path_factory, embedder) -> Path:
    return ingest_texts(tmp_path_factory.mktemp("scope"), DOCS, embedder)


@pytest.fixture(scope="module")
def scoped_settings(scoped_dir):
    from assistant.settings import Settings

    return Settings(
        index={"data_dir": scoped_dir}, answer={"generator": "extractive", "answer_threshold": 0.0}
    )


@pytest.fixture(scope="module")
def scoped_pipeline(scoped_settings):
    from assistant.question.pipeline import get_pipeline

    return get_pipeline(scoped_settings)


def test_unscoped_question_finds_the_answering_document(scoped_pipeline):
    assert scoped_pipeline.retrieve(QUESTION, 4)[0].source == "alpha.txt"


def test_scoped_retrieval_returns_k_passages_of_the_chosen_document_only(scoped_pipeline):
    passages = scoped_pipeline.retrieve(QUESTION, 4, ["beta.txt"])
    assert [p.source for p in passages] == ["beta.txt"] * 4


def test_a_document_outranked_everywhere_still_gives_k_passages(scoped_pipeline):
    """beta's chunks fill every retriever's candidates for a budget question: a filter after
    retrieval would find no gamma chunk among them."""
    unscoped = scoped_pipeline.retrieve(BUDGET, 20)
    assert "sub/gamma.md" not in {p.source for p in unscoped}
    passages = scoped_pipeline.retrieve(BUDGET, 4, ["sub/gamma.md"])
    assert [p.source for p in passages] == ["sub/gamma.md"] * 4


def test_several_sources_search_each_of_them(scoped_pipeline):
    passages = scoped_pipeline.retrieve(QUESTION, 6, ["sub/gamma.md", "alpha.txt"])
    assert {p.source for p in passages} == {"alpha.txt", "sub/gamma.md"}


def test_the_store_filters_dense_search_by_source(scoped_pipeline):
    store, retriever = scoped_pipeline.store, scoped_pipeline.retriever
    chunks = {c.id: c.source for c in retriever.chunks(store.generation())}
    vector = scoped_pipeline.embedder.encode([BUDGET])[0]
    assert "sub/gamma.md" not in {chunks[i] for i, _ in store.nearest(vector, 3)}
    ids = [id_ for id_, _ in store.nearest(vector, 3, ["sub/gamma.md"])]
    assert len(ids) >= 3 and {chunks[i] for i in ids} == {"sub/gamma.md"}


def test_bm25_ranks_within_the_chosen_documents(scoped_pipeline):
    index = scoped_pipeline.retriever._bm25_index(scoped_pipeline.store.generation())
    assert index.search("solar array repaired", 5)[0][0].source == "alpha.txt"
    scoped = index.search("station review board", 5, ["beta.txt"])
    assert len(scoped) == 5 and {c.source for c, _ in scoped} == {"beta.txt"}


def test_answer_with_sources_cites_only_those_documents(scoped_settings):
    whole = answer(QUESTION, settings=scoped_settings)
    assert "Volkov" in whole.text and whole.citations[0].source == "alpha.txt"
    scoped = answer(QUESTION, settings=scoped_settings, sources=["beta.txt"])
    assert "Volkov" not in scoped.text
    assert {c.source for c in scoped.citations} <= {"beta.txt"}
    retrieved = scoped.trace.retrieved
    assert len(retrieved) == 10 and {h.source for h in retrieved} == {"beta.txt"}


@pytest.mark.parametrize("sources", [None, [], [" "]])
def test_no_sources_means_every_document(scoped_settings, sources):
    result = answer(QUESTION, settings=scoped_settings, sources=sources)
    assert result.citations[0].source == "alpha.txt"


@pytest.mark.parametrize("sources", [["nope.txt"], ["alpha.txt", "docs/beta.txt"], [3]])
def test_unknown_or_bad_source_is_one_line_of_bad_input(scoped_settings, sources):
    with pytest.raises(BadInput) as caught:
        answer(QUESTION, settings=scoped_settings, sources=sources)
    message = str(caught.value)
    assert "\n" not in message and caught.value.exit_code == 2
    if sources != [3]:
        assert repr(sources[-1]) in message and "alpha.txt" in message


def _ask(data: Path, *args: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "ASSISTANT_DATA_DIR": str(data), "ASSISTANT_GENERATOR": "extractive"}
    env["ASSISTANT_ANSWER_THRESHOLD"] = "0"
    return subprocess.run(
        [sys.executable, "-m", "assistant", "ask", QUESTION, "--json", *args],
        capture_output=True,
        text=True,
        env=env,
        timeout=300,
    )


def test_cli_source_is_repeatable_and_an_unknown_name_exits_2(scoped_dir):
    import json

    proc = _ask(scoped_dir, "--source", "alpha.txt", "--source", "sub/gamma.md")
    assert proc.returncode == 0, proc.stderr
    data = json.loads(proc.stdout)
    assert {h["source"] for h in data["trace"]["retrieved"]} == {"alpha.txt", "sub/gamma.md"}
    assert data["citations"][0]["source"] == "alpha.txt"
    bad = _ask(scoped_dir, "--source", "missing.txt")
    assert (bad.returncode, bad.stdout, bad.stderr.count("\n")) == (2, "", 1)
    assert bad.stderr.startswith("error: no indexed document is called 'missing.txt'")

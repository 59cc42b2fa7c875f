"""Re-ranking by meaning: a question in the reader's own words finds the passage that answers
it even when other passages share more of its words (BM25 favours those). Real embedder, real
Chroma, a small corpus of its own."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.ingesting import ingest_texts

QUESTION = "Who looks after the lighthouse?"
ANSWER = "keeper.txt"


def _wordy(i: int) -> str:
    return (
        f"Lighthouse notice {i}: the lighthouse committee discussed the lighthouse paint, "
        f"the lighthouse car park and the lighthouse gift shop on day {i}."
    )


DOCS = {
    "keeper.txt": "Margit Halloran has tended the beacon on Varn Point every night since 1998; "
    "she trims the lamp and logs passing ships.\n",
    "notices.txt": "\n".join(_wordy(i) for i in range(40)) + "\n",
}


@pytest.fixture(scope="module")
def rerank_dir(tmp_path_factory, embedder) -> Path:
    return ingest_texts(tmp_path_factory.mktemp("rerank"), DOCS, embedder)


def _top_source(data: Path, pool: int) -> str:
    from assistant.question.pipeline import Pipeline
    from assistant.settings import Settings

    settings = Settings(
        index={"data_dir": data},
        answer={"generator": "extractive"},
        retrieval={"rerank_pool": pool},
    )
    return Pipeline(settings).search(QUESTION, 1)[0].chunk.source


def test_fusion_alone_ranks_the_wordy_passages_first(rerank_dir):
    assert _top_source(rerank_dir, 0) != ANSWER  # the case the re-ranking is for


def test_the_passage_that_answers_in_other_words_comes_first(rerank_dir):
    assert _top_source(rerank_dir, 20) == ANSWER

"""The store against a real Chroma server (`chroma run` on loopback), and an unreachable one."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import pytest

from assistant.settings import IndexSettings
from index import Store, StoreError, ingest
from index.load import text_sha256
from tests.servers import ChromaServer, free_port

# The chunking `assistant ingest` uses by default (its one default lives in assistant.settings).
CHUNKING = {
    "chunk_size": IndexSettings.model_fields["chunk_size"].default,
    "overlap": IndexSettings.model_fields["chunk_overlap"].default,
}


ROOT = Path(__file__).resolve().parent.parent
BIN = Path(sys.executable).parent


@pytest.fixture(scope="module")
def chroma_url(tmp_path_factory):
    """A `chroma run` server on a free loopback port, stopped at the end of the module."""
    server = ChromaServer(tmp_path_factory.mktemp("chroma-server") / "db", free_port())
    try:
        server.start()
    except RuntimeError as exc:
        pytest.fail(str(exc))
    yield server.url
    server.stop()


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "iss.txt").write_text(
        "Russia will withdraw from the International Space Station after 2024. "
        "Roscosmos plans to build its own orbital outpost instead.\n",
        encoding="utf-8",
    )
    (root / "tides.md").write_text(
        "# Tides\n\nThe Moon's gravity raises two tidal bulges on Earth. "
        "Spring tides happen when the Sun and Moon align.\n",
        encoding="utf-8",
    )
    (root / "etna.html").write_text(
        "<p>Mount Etna is one of the most active volcanoes in the world.</p>", encoding="utf-8"
    )
    return root


def assert_consistent(store: Store) -> dict:
    manifest = store.manifest()
    visible = store.all_chunks()
    assert store.count() == sum(r.chunks for r in manifest.values()) == len(visible)
    assert max(Counter((c.source, c.start, c.end) for c in visible).values()) == 1
    for c in visible:
        text = store.document_text(c.source)
        assert text is not None and text[c.start : c.end] == c.text
        assert text_sha256(text) == manifest[c.source].sha256
    return manifest


@pytest.mark.server
def test_ingest_query_and_reingest_through_a_chroma_server(chroma_url, corpus, embedder):
    store = Store(url=chroma_url, collection="served")
    report = ingest([corpus], store, embedder, **CHUNKING, progress=False)
    assert (report.added, report.unchanged) == (3, 0) and report.chunks == store.count() > 0
    assert sorted(assert_consistent(store)) == ["etna.html", "iss.txt", "tides.md"]

    hits = store.query(embedder.embed_query("When does Russia leave the ISS?"), 2)
    assert hits[0].source == "iss.txt" and "withdraw" in hits[0].text

    again = ingest(
        [corpus], Store(url=chroma_url, collection="served"), embedder, **CHUNKING, progress=False
    )
    assert (again.added, again.updated, again.removed, again.unchanged) == (0, 0, 0, 3)
    assert again.chunks == 0 and store.count() == report.chunks

    (corpus / "tides.md").write_text("Neap tides happen at the quarter moons.", "utf-8")
    (corpus / "etna.html").unlink()
    changed = ingest([corpus], store, embedder, **CHUNKING, progress=False)
    assert (changed.updated, changed.removed, changed.unchanged) == (1, 1, 1)
    manifest = assert_consistent(store)
    assert sorted(manifest) == ["iss.txt", "tides.md"]
    assert not [c for c in store.all_chunks() if "Spring tides" in c.text or "Etna" in c.text]


@pytest.mark.server
def test_cli_ingest_uses_the_server_named_by_the_environment(
    chroma_url, corpus, tmp_path, embedder
):
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env.update(
        ASSISTANT_DATA_DIR=str(tmp_path / "data"),
        ASSISTANT_CHROMA_URL=chroma_url,
        ASSISTANT_COLLECTION="from_cli",
    )
    result = subprocess.run(
        [str(BIN / "assistant"), "ingest", str(corpus), "--quiet"], env=env, cwd=ROOT,
        capture_output=True, text=True, timeout=300, stdin=subprocess.DEVNULL,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.startswith("documents: 3 added, 0 updated, 0 removed, 0 unchanged;")
    assert not (tmp_path / "data" / "chroma").exists()  # nothing went to the embedded store
    store = Store(url=chroma_url, collection="from_cli", create=False)
    assert sorted(assert_consistent(store)) == ["etna.html", "iss.txt", "tides.md"]
    hits = store.query(embedder.embed_query("active volcano"), 1)
    assert hits[0].source == "etna.html"


@pytest.mark.server
def test_a_server_that_is_not_there_is_a_one_line_store_error():
    url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    started = time.monotonic()
    with pytest.raises(StoreError) as err:
        Store(url=url)
    message = str(err.value)
    assert "\n" not in message and url in message and "chroma run" in message
    assert time.monotonic() - started < 30

    with pytest.raises(StoreError) as err:
        Store(url="http://")
    assert "\n" not in str(err.value)

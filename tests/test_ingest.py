"""Ingestion into a real embedded Chroma: what a run adds, updates, removes and skips, and
the `assistant ingest` command (runs that stop part-way: test_ingest_interrupted.py).

Everything is real: files in temporary folders, the packaged embedding model (session
fixture), Chroma in a temporary data directory, and `assistant ingest` run as a subprocess.
"""

from __future__ import annotations

import random
import re
from pathlib import Path

import pytest

from index import Store, StoreError, ingest
from tests.ingesting import CHUNKING, check_consistent, run_cli

SUMMARY = re.compile(
    r"^documents: (\d+) added, (\d+) updated, (\d+) removed, (\d+) unchanged; "
    r"(\d+) chunks written in \d+\.\d s(; \d+ file\(s\) skipped)?$"
)


# -- helpers ------------------------------------------------------------------------------------


def sources_of(chunks) -> set[str]:
    return {c.source for c in chunks}


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    (root / "sub").mkdir(parents=True)
    (root / "iss.txt").write_text(
        "Russia will withdraw from the International Space Station after 2024. "
        "The Zvezda service module provides propulsion for the station. "
        "Roscosmos plans to build its own orbital outpost instead.\n",
        encoding="utf-8",
    )
    (root / "bread.md").write_text(
        "# Baking\n\nKnead the dough for ten minutes. Let it rise for an hour. "
        "Bake the loaf at 220 degrees until the crust is golden.\n",
        encoding="utf-8",
    )
    (root / "sub" / "tides.html").write_text(
        "<html><body><h1>Tides</h1><p>The Moon's gravity raises two tidal bulges on Earth. "
        "Spring tides happen when the Sun and Moon align.</p>"
        "<script>var hidden = 'never indexed';</script></body></html>",
        encoding="utf-8",
    )
    (root / "sub" / "volcano.txt").write_text(
        "Mount Etna is one of the most active volcanoes in the world. "
        "Its eruptions are mostly effusive, with lava flows on its flanks.\n",
        encoding="utf-8",
    )
    return root


def top_source(store: Store, embedder, question: str) -> str:
    hits = store.query(embedder.embed_query(question), 3)
    assert hits
    return hits[0].source


# -- ingest into the embedded store -----------------------------------------------------------


def test_ingest_indexes_every_document_and_answers_queries(tmp_path, corpus, embedder):
    store = Store(tmp_path / "data")
    report = ingest([corpus], store, embedder, **CHUNKING, progress=False)

    assert (report.added, report.updated, report.removed, report.unchanged) == (4, 0, 0, 0)
    assert report.problems == [] and report.chunks == store.count() > 0
    manifest = check_consistent(store)
    assert sorted(manifest) == ["bread.md", "iss.txt", "sub/tides.html", "sub/volcano.txt"]
    assert top_source(store, embedder, "When does Russia leave the ISS?") == "iss.txt"
    assert top_source(store, embedder, "How long should dough rise?") == "bread.md"
    assert top_source(store, embedder, "What causes spring tides?") == "sub/tides.html"
    question = embedder.embed_query("Which volcano erupts often?")
    hits = store.query(question, 2)
    distance = dict(store.nearest(question, 10))
    assert hits[0].source == "sub/volcano.txt"
    assert 0 <= distance[hits[0].id] < distance[hits[1].id]
    assert all("never indexed" not in c.text for c in store.all_chunks())
    assert report.summary().startswith("documents: 4 added, 0 updated, 0 removed, 0 unchanged;")


def test_second_ingest_adds_nothing(tmp_path, corpus, embedder):
    store = Store(tmp_path / "data")
    first = ingest([corpus], store, embedder, **CHUNKING, progress=False)
    ids = sorted(c.id for c in store.all_chunks())
    generation = store.generation()

    again = ingest([corpus], Store(tmp_path / "data"), embedder, **CHUNKING, progress=False)

    assert (again.added, again.updated, again.removed, again.chunks) == (0, 0, 0, 0)
    assert again.unchanged == 4
    assert store.count() == first.chunks
    assert sorted(c.id for c in store.all_chunks()) == ids
    assert store.generation() == generation  # nothing visible changed, caches stay valid
    check_consistent(store)


def test_a_changed_file_replaces_its_old_chunks(tmp_path, corpus, embedder):
    store = Store(tmp_path / "data")
    ingest([corpus], store, embedder, **CHUNKING, progress=False)
    generation = store.generation()
    path = corpus / "sub" / "volcano.txt"
    path.write_text(
        "Kilauea on Hawaii erupted continuously from 1983 to 2018. "
        "Its lava reached the ocean and built new land. " * 6,
        encoding="utf-8",
    )

    report = ingest([corpus], store, embedder, **CHUNKING, progress=False)

    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 1, 0, 3)
    manifest = check_consistent(store)  # no leftovers: raw count == manifest total
    assert manifest["sub/volcano.txt"].chunks == report.chunks
    assert store.document_text("sub/volcano.txt") == path.read_text(encoding="utf-8")
    assert not [c for c in store.all_chunks() if "Etna" in c.text]
    hits = store.query(embedder.embed_query("Mount Etna active volcano effusive eruptions"), 10)
    assert hits and not [h for h in hits if "Etna" in h.text]
    assert hits[0].source == "sub/volcano.txt" and "Kilauea" in hits[0].text
    assert store.generation() > generation


def test_a_deleted_file_loses_its_chunks(tmp_path, corpus, embedder):
    store = Store(tmp_path / "data")
    ingest([corpus], store, embedder, **CHUNKING, progress=False)
    (corpus / "bread.md").unlink()

    report = ingest([corpus], store, embedder, **CHUNKING, progress=False)

    assert (report.added, report.updated, report.removed, report.unchanged) == (0, 0, 1, 3)
    manifest = check_consistent(store)
    assert "bread.md" not in manifest and store.document_text("bread.md") is None
    assert "bread.md" not in sources_of(store.all_chunks())
    hits = store.query(embedder.embed_query("How long should dough rise?"), 3)
    assert "bread.md" not in sources_of(hits)


def test_ingesting_part_of_the_corpus_keeps_the_rest(tmp_path, corpus, embedder):
    store = Store(tmp_path / "data")
    ingest([corpus], store, embedder, **CHUNKING, progress=False)
    (corpus / "sub" / "new.txt").write_text("A new note about comets and their tails.", "utf-8")

    report = ingest([corpus / "sub"], store, embedder, root=corpus, **CHUNKING, progress=False)

    assert (report.added, report.updated, report.removed, report.unchanged) == (1, 0, 0, 2)
    manifest = check_consistent(store)
    assert sorted(manifest) == [
        "bread.md", "iss.txt", "sub/new.txt", "sub/tides.html", "sub/volcano.txt",
    ]  # fmt: skip


def test_ingesting_a_subfolder_on_its_own_keeps_the_other_documents(tmp_path, corpus, embedder):
    """`assistant ingest corpus/sub` after `assistant ingest corpus`: the default root is then
    corpus/sub, but the files outside it are still there and must stay indexed."""
    store = Store(tmp_path / "data")
    ingest([corpus], store, embedder, **CHUNKING, progress=False)

    ingest([corpus / "sub"], store, embedder, **CHUNKING, progress=False)

    manifest = check_consistent(store)
    assert {"bread.md", "iss.txt"} <= set(manifest), sorted(manifest)
    texts = [store.document_text(source) for source in manifest]
    assert len(set(texts)) == len(texts) == 4, sorted(manifest)  # each file indexed once


def test_new_chunk_settings_rebuild_every_document(tmp_path, corpus, embedder):
    store = Store(tmp_path / "data")
    ingest([corpus], store, embedder, **CHUNKING, progress=False)
    before = {c.id for c in store.all_chunks()}

    report = ingest([corpus], store, embedder, chunk_size=16, overlap=4, progress=False)

    assert (report.updated, report.unchanged) == (4, 0)
    check_consistent(store)
    after = store.all_chunks()
    assert not before & {c.id for c in after} and len(after) > len(before)


def test_bad_files_are_reported_and_the_rest_is_ingested(tmp_path, corpus, embedder):
    (corpus / "binary.txt").write_bytes(bytes(range(256)))
    (corpus / "empty.md").write_bytes(b"")
    (corpus / "table.csv").write_text("a,b\n1,2\n", encoding="utf-8")
    (corpus / "broken.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog")
    seen = []
    store = Store(tmp_path / "data")

    report = ingest([corpus], store, embedder, **CHUNKING, progress=False, on_problem=seen.append)

    assert report.added == 4
    assert sorted(p.path for p in report.problems) == [
        "binary.txt", "broken.pdf", "empty.md", "table.csv",
    ]  # fmt: skip
    assert seen == report.problems
    assert report.summary().endswith("; 4 file(s) skipped")
    assert sorted(check_consistent(store)) == [
        "bread.md", "iss.txt", "sub/tides.html", "sub/volcano.txt",
    ]  # fmt: skip


def test_a_file_that_becomes_unreadable_keeps_its_indexed_version(tmp_path, corpus, embedder):
    store = Store(tmp_path / "data")
    ingest([corpus], store, embedder, **CHUNKING, progress=False)
    count = store.count()
    (corpus / "iss.txt").write_bytes(b"\xff\xfe garbage \x80\x81")

    report = ingest([corpus], store, embedder, **CHUNKING, progress=False)

    assert [p.path for p in report.problems] == ["iss.txt"]
    assert (report.removed, report.updated) == (0, 0)
    assert store.count() == count and "iss.txt" in check_consistent(store)


def test_a_deleted_symlink_is_removed_from_the_index(tmp_path, corpus, embedder):
    target = tmp_path / "outside" / "comet.txt"
    target.parent.mkdir()
    target.write_text("Halley's comet returns about every 76 years.", encoding="utf-8")
    (corpus / "comet.txt").symlink_to(target)
    store = Store(tmp_path / "data")
    ingest([corpus], store, embedder, **CHUNKING, progress=False)
    assert [c for c in store.all_chunks() if "Halley" in c.text]

    (corpus / "comet.txt").unlink()
    report = ingest([corpus], store, embedder, **CHUNKING, progress=False)

    assert report.removed == 1
    assert not [c for c in store.all_chunks() if "Halley" in c.text]


def test_an_unusable_store_is_a_one_line_store_error(tmp_path):
    data = tmp_path / "data"
    (data / "chroma").mkdir(parents=True)
    (data / "chroma" / "chroma.sqlite3").write_bytes(random.Random(0).randbytes(8192))
    with pytest.raises(StoreError) as err:
        Store(data)
    assert "\n" not in str(err.value) and "chroma" in str(err.value)

    with pytest.raises(StoreError, match="assistant ingest"):
        Store(tmp_path / "empty", create=False)
    with pytest.raises(StoreError):
        Store(tmp_path / "x", collection="ab")


# -- the command line -------------------------------------------------------------------------


def test_cli_ingest_prints_the_summary_line(tmp_path, corpus):
    data = tmp_path / "data"
    result = run_cli("ingest", str(corpus), "--quiet", data_dir=data)
    assert result.returncode == 0, result.stderr[-2000:]
    lines = result.stdout.splitlines()
    assert len(lines) == 1 and SUMMARY.match(lines[0]), result.stdout
    added, updated, removed, unchanged, chunks = map(int, SUMMARY.match(lines[0]).groups()[:5])
    assert (added, updated, removed, unchanged) == (4, 0, 0, 0) and chunks > 0
    assert "Traceback" not in result.stderr
    store = Store(data, create=False)
    assert store.count() == chunks and sorted(check_consistent(store))[0] == "bread.md"


def test_cli_reports_each_skipped_file_on_one_line(tmp_path, corpus):
    # A PDF cut short: pypdf logs warnings about it, which must not reach the user's terminal.
    (corpus / "cut.pdf").write_bytes(b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nend")
    (corpus / "binary.txt").write_bytes(bytes(range(256)))
    (corpus / "image.png").write_bytes(b"\x89PNG\r\n\x1a\n")

    result = run_cli("ingest", str(corpus), "--quiet", data_dir=tmp_path / "data")

    assert result.returncode == 0, result.stderr[-2000:]
    assert SUMMARY.match(result.stdout.strip()) and result.stdout.strip().endswith(
        "; 3 file(s) skipped"
    )
    lines = result.stderr.splitlines()
    assert sorted(line.split(":")[0] for line in lines) == [
        "skipped binary.txt", "skipped cut.pdf", "skipped image.png",
    ], result.stderr  # fmt: skip


def test_cli_ingest_of_a_missing_path_is_bad_input(tmp_path):
    result = run_cli("ingest", "/does/not/exist", data_dir=tmp_path / "data")
    assert result.returncode == 2
    assert result.stdout == ""
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "/does/not/exist" in lines[0] and "Traceback" not in result.stderr
    assert not (tmp_path / "data" / "chroma").exists()


def test_cli_ingest_into_a_garbage_store_fails_cleanly_and_keeps_it(tmp_path, corpus):
    data = tmp_path / "data"
    (data / "chroma").mkdir(parents=True)
    garbage = random.Random(1).randbytes(16384)
    (data / "chroma" / "chroma.sqlite3").write_bytes(garbage)

    result = run_cli("ingest", str(corpus), "--quiet", data_dir=data)

    assert result.returncode == 1
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), result.stderr
    assert "Traceback" not in result.stderr and "chroma" in lines[0]
    assert (data / "chroma" / "chroma.sqlite3").read_bytes() == garbage  # never destroyed

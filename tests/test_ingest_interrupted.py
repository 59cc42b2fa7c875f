"""Ingestion that stops part-way: batches written one at a time, a run interrupted between
batches or killed (SIGKILL) while it commits, and another store that must see each commit.

None of them may leave a document half-visible, in two versions, or with duplicate chunks.
"""

from __future__ import annotations

import importlib
import os
import random
import shutil
import signal
import subprocess
import time
from collections import Counter
from pathlib import Path

import numpy as np
import pytest

from index import Document, Store, ingest
from index.load import text_sha256
from index.split import split_document
from tests.ingesting import CHUNKING, CLI, ROOT, check_consistent, cli_env

# -- batches ---------------------------------------------------------------------------------


def write_prose(
    root: Path, prefix: str, files: int, length: tuple[int, int] = (8, 16)
) -> dict[str, str]:
    """`files` files of `length` sentences (8-16: about two default chunks; 2-4: one);
    returns {source: text}."""
    root.mkdir(parents=True, exist_ok=True)
    texts = {}
    for i in range(files):
        rng = random.Random(f"{prefix}{i}")
        sentences = [
            " ".join(rng.choice(_WORDS) for _ in range(rng.randint(6, 14))).capitalize() + "."
            for _ in range(rng.randint(*length))
        ]
        texts[f"{prefix}{i:02d}.txt"] = " ".join(sentences) + "\n"
        (root / f"{prefix}{i:02d}.txt").write_text(texts[f"{prefix}{i:02d}.txt"], encoding="utf-8")
    return texts


def expected_ids(texts: dict[str, str], model: str) -> set[str]:
    return {
        c.id
        for source, text in texts.items()
        for c in split_document(
            Document(source, text, text_sha256(text)), *CHUNKING.values(), model
        )
    }


@pytest.fixture
def small_batches(monkeypatch):
    """Batches of 8 chunks, so that a small corpus takes several."""
    monkeypatch.setattr(importlib.import_module("index.ingest"), "EMBED_BATCH", 8)


def test_every_chunk_is_written_exactly_once_across_batches(tmp_path, embedder, small_batches):
    corpus = tmp_path / "corpus"
    texts = write_prose(corpus, "doc", 20)
    texts["copy.txt"] = texts["doc00.txt"]  # the same text twice: embedded once, found twice
    (corpus / "copy.txt").write_text(texts["copy.txt"], encoding="utf-8")
    store = Store(tmp_path / "data")

    report = ingest([corpus], store, embedder, **CHUNKING, progress=False)

    check_consistent(store)
    assert report.added == len(texts) and report.chunks > 8 * 3  # several batches
    assert {c.id for c in store.all_chunks()} == expected_ids(texts, embedder.name)
    assert report.chunks == store.count() == len(expected_ids(texts, embedder.name))
    first = min((c for c in store.all_chunks() if c.source == "doc00.txt"), key=lambda c: c.start)
    hits = store.query(embedder.embed_query(first.text), 2)
    assert {h.source for h in hits} == {"doc00.txt", "copy.txt"}
    distance = dict(store.nearest(embedder.embed_query(first.text), 10))
    assert hits[0].text == hits[1].text
    assert abs(distance[hits[0].id] - distance[hits[1].id]) < 1e-6


def test_each_chunk_gets_the_vector_of_its_own_text(embedder):
    from index.ingest import embed_chunks

    doc = Document("a.txt", "Tides follow the Moon. " * 3, "")
    other = Document("b.txt", "Bread rises in an hour. Knead it first.", "")
    chunks = [*split_document(doc, 8, 0), *split_document(other, 8, 0)]
    chunks += split_document(doc, 8, 0)  # repeated texts
    vectors = embed_chunks(embedder, chunks)
    singles = np.stack([embedder.encode_documents([c.text])[0] for c in chunks])
    assert vectors.shape == (len(chunks), 384)
    assert float((vectors * singles).sum(axis=1).min()) > 0.999
    assert embed_chunks(embedder, []).shape == (0, 384)


def test_an_interrupted_ingest_loses_and_duplicates_nothing(tmp_path, embedder, small_batches):
    """Stopped between batches: the written batch's documents are committed whole, the
    gathered ones not yet written stay invisible, and the next run finishes the job."""
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    texts = write_prose(corpus, "a", 12, length=(2, 4))  # a chunk each: batches of 8 files
    (corpus / "m.bin").write_bytes(b"\0")  # unsupported: reported between the a- and z-files
    texts |= write_prose(corpus, "z", 12)

    def stop(problem):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        ingest([corpus], Store(data), embedder, **CHUNKING, progress=False, on_problem=stop)

    store = Store(data)
    done = check_consistent(store)
    assert sorted(done) == [f"a{i:02d}.txt" for i in range(8)]  # the one batch written
    assert {c.id for c in store.all_chunks()} == expected_ids(
        {s: texts[s] for s in done}, embedder.name
    )
    report = ingest([corpus], store, embedder, **CHUNKING, progress=False)
    check_consistent(store)
    assert (report.added, report.unchanged) == (len(texts) - len(done), len(done))
    assert {c.id for c in store.all_chunks()} == expected_ids(texts, embedder.name)


def wordlist(text: str) -> list[str]:
    return text.split()


# -- a kill in the middle of an ingestion -----------------------------------------------------

_WORDS = wordlist(
    "station orbit module crew docking launch agency space research budget engineers "
    "partners program rocket cargo capsule solar panel oxygen water experiment science "
    "Russia America Europe Japan Canada decade contract funding schedule mission"
)
N_FILES = 150


def write_version(root: Path, version: int) -> dict[str, str]:
    """Rewrite every file of the generated corpus; returns {source: text}."""
    texts = {}
    for i in range(N_FILES):
        rng = random.Random(f"{i}-{version}")
        sentences = [
            " ".join(rng.choice(_WORDS) for _ in range(rng.randint(6, 14))).capitalize() + "."
            for _ in range(rng.randint(2, 4))
        ]
        text = f"File {i}, version {version}. " + " ".join(sentences) + "\n"
        source = f"part{i % 3}/file{i:03d}.txt"
        (root / source).parent.mkdir(parents=True, exist_ok=True)
        (root / source).write_text(text, encoding="utf-8")
        texts[source] = text
    return texts


def _chroma_state(chroma: Path) -> dict[str, tuple[int, int]]:
    state = {}
    for dirpath, _, names in os.walk(chroma):
        for name in names:
            try:
                st = os.stat(os.path.join(dirpath, name))
            except FileNotFoundError:
                continue
            state[os.path.join(dirpath, name)] = (st.st_mtime_ns, st.st_size)
    return state


def kill_while_committing(corpus: Path, data: Path, delay: float) -> bool:
    """Start `assistant ingest`, wait until it writes documents (a burst of store writes),
    SIGKILL it `delay` seconds later. Returns whether it was killed before finishing."""
    proc = subprocess.Popen(
        [str(CLI), "ingest", str(corpus), "--quiet"], env=cli_env(data), cwd=ROOT,
        stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        state, events, deadline = _chroma_state(data / "chroma"), [], time.monotonic() + 400
        while proc.poll() is None and time.monotonic() < deadline:
            now_state = _chroma_state(data / "chroma")
            if now_state != state:
                state = now_state
                events.append(time.monotonic())
                if len([t for t in events if t > events[-1] - 1.0]) >= 6:
                    break  # writing chunks and committing documents
            time.sleep(0.02)
        time.sleep(delay)
        finished = proc.poll() is not None
        if not finished:
            proc.send_signal(signal.SIGKILL)
        _, err = proc.communicate(timeout=60)
        finished = finished or proc.returncode == 0  # it ended just before the kill landed
        assert finished or proc.returncode == -signal.SIGKILL
        if finished:
            assert proc.returncode == 0, err.decode(errors="replace")[-2000:]
        return not finished
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()


def test_a_killed_ingestion_never_shows_mixed_or_duplicate_chunks(tmp_path, embedder):
    corpus, data = tmp_path / "corpus", tmp_path / "data"
    history: dict[str, set[str]] = {}

    def remember(texts):
        for source, text in texts.items():
            history.setdefault(source, set()).add(text_sha256(text))

    remember(write_version(corpus, 1))
    first = ingest([corpus], Store(data), embedder, **CHUNKING, progress=False)
    assert first.added == N_FILES
    # From here on this process opens only copies of `data` (a fresh Store on each).

    seed = int(os.environ.get("KILL_SEED") or random.randrange(1_000_000))
    print(f"KILL_SEED={seed}")  # shown with a failure: rerun with it to replay the delays
    rng = random.Random(seed)
    interrupted = mixed = 0
    delays = [rng.uniform(0, 0.3), rng.uniform(0.3, 1.0), rng.uniform(1.0, 2.0)]
    for round_, delay in enumerate(delays, start=2):
        texts = write_version(corpus, round_)
        remember(texts)
        interrupted += kill_while_committing(corpus, data, delay)

        snapshot = tmp_path / f"after-kill-{round_}"
        shutil.copytree(data, snapshot)
        store = Store(snapshot)
        manifest = store.manifest()
        assert sorted(manifest) == sorted(history)
        for source, record in manifest.items():
            assert record.sha256 in history[source]  # some complete version of the file
        visible = store.all_chunks()
        assert len(visible) == sum(r.chunks for r in manifest.values())
        assert store.count() >= len(visible)  # leftovers of the killed run stay invisible
        spans = Counter((c.source, c.start, c.end) for c in visible)
        assert max(spans.values()) == 1, "duplicate chunks are visible"
        by_source: dict[str, list] = {}
        for c in visible:
            by_source.setdefault(c.source, []).append(c)
        for source, record in manifest.items():
            text = store.document_text(source)
            assert text is not None and text_sha256(text) == record.sha256
            expected = split_document(
                Document(source, text, record.sha256), *CHUNKING.values(), embedder.name
            )
            got = sorted(by_source.get(source, []), key=lambda c: c.start)
            assert [(c.id, c.start, c.end, c.text) for c in got] == [
                (c.id, c.start, c.end, c.text) for c in expected
            ], source
        current = sum(manifest[s].sha256 == text_sha256(t) for s, t in texts.items())
        mixed += 0 < current < N_FILES
        hits = store.query(embedder.embed_query("crew docking schedule for the station"), 5)
        assert len(hits) == 5
        assert all(store.document_text(h.source)[h.start : h.end] == h.text for h in hits)

    assert interrupted >= 1, "no run was killed before it finished: the kill came too late"

    final = tmp_path / "rerun"
    shutil.copytree(data, final)
    store = Store(final)
    report = ingest([corpus], store, embedder, **CHUNKING, progress=False)
    manifest = check_consistent(store)  # raw count == manifest total: garbage collected
    assert report.added == report.removed == 0
    assert report.updated + report.unchanged == N_FILES
    for source, text in texts.items():
        assert manifest[source].sha256 == text_sha256(text)
    print(f"kill rounds interrupted: {interrupted}, left a mix of versions: {mixed}")


def test_another_store_sees_a_commit_through_the_generation_file_or_chroma(tmp_path, embedder):
    """The embedded store keeps its generation in a small file beside it (read per question
    instead of a Chroma read); without that file it asks Chroma, never an old value."""
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "a.txt").write_text("The harbour opened in 1911.", encoding="utf-8")
    writer, reader = Store(tmp_path / "data"), Store(tmp_path / "data")
    before = reader.generation()
    ingest([docs], writer, embedder, chunk_size=128, overlap=32, progress=False)
    seen = reader.generation()
    (tmp_path / "data" / ".generation-chunks").unlink()
    assert (seen > before, reader.generation()) == (True, seen)


def test_the_generation_file_holds_the_value_chroma_returns_after_every_commit(tmp_path, embedder):
    """Chroma's floats come back with the last digit changed (1796102988.4206343 ->
    ...345): the file must hold what Chroma returns, or it is dropped as overtaken."""
    from index import stamp

    docs = tmp_path / "docs"
    docs.mkdir()
    store = Store(tmp_path / "data")
    held = []
    for year in range(1901, 1931):
        (docs / "a.txt").write_text(f"The harbour opened in {year}.", encoding="utf-8")
        ingest([docs], store, embedder, chunk_size=128, overlap=32, progress=False)
        held.append(stamp.read(tmp_path / "data" / ".generation-chunks"))
    assert held[-1] == store.generation() and None not in held


def test_a_generation_file_that_another_commit_overtook_is_removed(tmp_path):
    from index import stamp

    path = tmp_path / ".generation-chunks"
    stamp.write(path, 2.0, current=lambda: 2.0)
    assert stamp.read(path) == 2.0
    stamp.write(path, 3.0, current=lambda: 4.0)  # Chroma already holds a later commit
    assert (path.exists(), stamp.read(path)) == (False, None)

"""Incremental, idempotent ingestion: files -> chunks -> embeddings -> Chroma.

Documents are identified by their path relative to the corpus root and versioned by their
text and the chunking settings. An unchanged document is skipped, a changed one gets its new
chunks written and then committed in one step (see `index.store`), and a document whose file
disappeared from the ingested paths is removed. A killed run leaves the index as it was,
except for documents already committed; the next run finishes the job.
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from tqdm import tqdm

from index.embed import Embedder
from index.load import (
    Document,
    LoadProblem,
    iter_files,
    read_text,
    relative_source,
    text_sha256,
)
from index.split import Chunk, split_document, split_version
from index.store import Commit, Store

EMBED_BATCH = 256  # chunks embedded and written together (across small documents)


@dataclass
class IngestReport:
    added: int = 0
    updated: int = 0
    removed: int = 0
    unchanged: int = 0
    chunks: int = 0  # chunks embedded and written in this run
    seconds: float = 0.0
    problems: list[LoadProblem] = field(default_factory=list)

    def summary(self) -> str:
        line = (
            f"documents: {self.added} added, {self.updated} updated, {self.removed} removed, "
            f"{self.unchanged} unchanged; {self.chunks} chunks written in {self.seconds:.1f} s"
        )
        if self.problems:
            line += f"; {len(self.problems)} file(s) skipped"
        return line


def corpus_root(paths: Sequence[Path]) -> Path:
    """The folder that sources are named relative to: the common parent of the paths."""
    dirs = [p.resolve() if p.is_dir() else p.resolve().parent for p in paths]
    return Path(os.path.commonpath(dirs))


def _under(source_path: Path, paths: Sequence[Path]) -> bool:
    source_path = source_path.parent.resolve() / source_path.name
    for p in paths:
        p = p.resolve()
        if source_path == p or p in source_path.parents:
            return True
    return False


def ingest(
    paths: Sequence[Path],
    store: Store,
    embedder: Embedder,
    *,
    root: Path | None = None,
    chunk_size: int = 128,
    overlap: int = 32,
    progress: bool = True,
    on_problem: Callable[[LoadProblem], None] | None = None,
) -> IngestReport:
    started = time.perf_counter()
    paths = [Path(p) for p in paths]
    root = (root or corpus_root(paths)).resolve()
    report = IngestReport()
    store.collect_garbage()
    manifest = store.manifest()

    files = list(iter_files(paths))
    seen: set[str] = set()
    seen_paths: dict[str, str] = {}  # absolute path of each file read -> its source
    pending: list[tuple[Document, list[Chunk], bool, str]] = []

    bar = tqdm(total=len(files), unit="file", desc="ingest", disable=not progress, leave=False)

    def flush() -> None:
        chunks = [c for _, doc_chunks, _, _ in pending for c in doc_chunks]
        if chunks:
            vectors = embedder.encode_full([c.text for c in chunks])
            store.add_chunks(chunks, vectors)
        commits = []
        for doc, doc_chunks, is_new, file_path in pending:
            version = (
                doc_chunks[0].version
                if doc_chunks
                else split_version(doc, chunk_size, overlap, embedder.name)
            )
            commits.append(
                Commit(doc.source, version, doc.sha256, len(doc_chunks), doc.text, file_path)
            )
            if is_new:
                report.added += 1
            else:
                report.updated += 1
            report.chunks += len(doc_chunks)
        store.commit_documents(commits)
        bar.update(len(pending))
        pending.clear()

    try:
        for path in files:
            source = relative_source(path, root)
            seen.add(source)
            file_path = str(path.parent.resolve() / path.name)  # a link keeps its own name
            try:
                text = read_text(path)
            except Exception as exc:  # UnreadableFile, or anything a parser throws
                problem = LoadProblem(source, str(exc) or type(exc).__name__)
                report.problems.append(problem)
                if on_problem:
                    on_problem(problem)
                bar.update(1)
                continue
            seen_paths[file_path] = source
            doc = Document(source=source, text=text, sha256=text_sha256(text))
            version = split_version(doc, chunk_size, overlap, embedder.name)
            record = manifest.get(source)
            if record is not None and record.version == version:
                report.unchanged += 1
                bar.update(1)
                continue
            doc_chunks = split_document(doc, chunk_size, overlap, embedder.name)
            pending.append((doc, doc_chunks, record is None, file_path))
            if sum(len(c) for _, c, _, _ in pending) >= EMBED_BATCH:
                flush()
        flush()

        for source, record in manifest.items():
            if source in seen:
                continue
            # Where the file was when it was ingested (the root may differ between runs).
            source_path = Path(record.path) if record.path else root / source
            gone = _under(source_path, paths) and not os.path.lexists(source_path)
            renamed = bool(record.path) and record.path in seen_paths  # same file, new name
            if gone or renamed:
                store.remove_document(source)
                report.removed += 1
    finally:
        bar.close()
    report.seconds = time.perf_counter() - started
    return report

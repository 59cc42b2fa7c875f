"""What the ingestion tests share: the default chunking, the `assistant` command run as a
subprocess, and the invariants every reader of a store relies on."""

from __future__ import annotations

import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

from assistant.settings import IndexSettings
from index import Store
from index.load import text_sha256

# The chunking `assistant ingest` uses by default (its one default lives in assistant.settings).
CHUNKING = {
    "chunk_size": IndexSettings.model_fields["chunk_size"].default,
    "overlap": IndexSettings.model_fields["chunk_overlap"].default,
}
ROOT = Path(__file__).resolve().parent.parent
CLI = Path(sys.executable).with_name("assistant")


def cli_env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ASSISTANT_")}
    env["ASSISTANT_DATA_DIR"] = str(data_dir)
    return env


def run_cli(*args: str, data_dir: Path, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(
        [str(CLI), *args], env=cli_env(data_dir), cwd=ROOT, capture_output=True, text=True,
        timeout=timeout, stdin=subprocess.DEVNULL,
    )  # fmt: skip


def ingest_texts(root: Path, docs: dict[str, str], embedder) -> Path:
    """`docs` (relative name -> text) written under `root`/docs and ingested with the default
    chunking into a store of their own; returns its data dir."""
    from index import ingest

    folder, data = root / "docs", root / "data"
    for name, text in docs.items():
        (folder / name).parent.mkdir(parents=True, exist_ok=True)
        (folder / name).write_text(text, encoding="utf-8")
    ingest([folder], Store(data), embedder, progress=False, **CHUNKING)
    return data


def check_consistent(store: Store, embedder=None) -> dict:
    """The invariants every reader relies on; returns the manifest."""
    manifest = store.manifest()
    visible = store.all_chunks()
    assert store.count() == sum(r.chunks for r in manifest.values()) == len(visible)
    spans = Counter((c.source, c.start, c.end) for c in visible)
    assert not [s for s, n in spans.items() if n > 1], "duplicate chunks"
    per_source = Counter(c.source for c in visible)
    for source, record in manifest.items():
        assert per_source[source] == record.chunks, source
        text = store.document_text(source)
        assert text is not None and text_sha256(text) == record.sha256
    for c in visible:
        assert store.document_text(c.source)[c.start : c.end] == c.text
    return manifest

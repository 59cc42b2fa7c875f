"""The indexed documents: the one ingestion path used by `assistant ingest` and the web chat.

Ingestion runs one at a time per process (a lock), so two uploads from the page, or an
upload and `--ingest`, do not interleave; a question asked meanwhile sees each document
whole or not at all (the store commits a document in one step, see `index.store`).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from pathlib import Path

from assistant.errors import AssistantError
from assistant.settings import Settings
from assistant.stores.access import Access, owners
from index import IngestReport, LoadProblem, Store, StoreError, ingest, shared_embedder
from index.store import DocRecord

_lock = threading.Lock()


def open_store(settings: Settings, *, create: bool = True) -> Store:
    try:
        return Store(
            settings.index.data_dir,
            settings.index.chroma_url,
            settings.index.collection,
            create=create,
        )
    except StoreError as exc:
        raise AssistantError(str(exc)) from None


def ingest_paths(
    settings: Settings,
    paths: Sequence[Path],
    *,
    root: Path | None = None,
    progress: bool = False,
    on_problem: Callable[[LoadProblem], None] | None = None,
    on_progress: Callable[[str, int, int], None] | None = None,
) -> IngestReport:
    """Index files and folders incrementally (see `index.ingest`), one run at a time."""
    with _lock:
        store = open_store(settings)
        try:
            return ingest(
                paths,
                store,
                shared_embedder(),
                root=root,
                chunk_size=settings.index.chunk_size,
                overlap=settings.index.chunk_overlap,
                progress=progress,
                on_problem=on_problem,
                on_progress=on_progress,
            )
        except StoreError as exc:
            raise AssistantError(str(exc)) from None


def documents(settings: Settings) -> dict[str, DocRecord]:
    """The indexed documents by source ({} when there is no index yet)."""
    try:
        return open_store(settings, create=False).manifest()
    except (AssistantError, StoreError):  # open_store says a StoreError as an AssistantError
        return {}


def remove(settings: Settings, source: str) -> DocRecord:
    """Take one document out of the index (in one step); returns its record."""
    with _lock:
        store = open_store(settings, create=False)
        try:
            record = store.manifest().get(source)
            if record is None:
                raise AssistantError(f"no indexed document is called {source!r}")
            store.remove_document(source)
        except StoreError as exc:
            raise AssistantError(str(exc)) from None
        owners(settings).forget(source)  # a later document of this name starts shared
    return record


def document_text(settings: Settings, source: str, reader: str | None = None) -> str | None:
    """The full (extracted) text of an indexed document `reader` may read, or None."""
    store = open_store(settings, create=False)
    try:
        if source not in store.manifest() or source in Access(settings).hidden(reader):
            return None
        return store.document_text(source)
    except StoreError as exc:
        raise AssistantError(str(exc)) from None

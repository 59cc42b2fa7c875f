"""The document side: load files, split them into token-sized chunks, embed, store in Chroma.

Nothing here imports `assistant` or `prompts`; callers pass every setting explicitly.
Importing the package loads nothing heavy: each name below is imported on first use, so
`index.offline.go_offline()` can run before any library that might reach the network.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from index.lazy import lazy_attributes

if TYPE_CHECKING:
    from index.embed import Embedder, shared_embedder
    from index.ingest import IngestReport, ingest
    from index.load import Document, LoadProblem, load_documents
    from index.split import Chunk, split_document
    from index.store import Store, StoreError

_WHERE = {
    "Chunk": "index.split",
    "Document": "index.load",
    "Embedder": "index.embed",
    "IngestReport": "index.ingest",
    "LoadProblem": "index.load",
    "Store": "index.store",
    "StoreError": "index.store",
    "ingest": "index.ingest",
    "load_documents": "index.load",
    "shared_embedder": "index.embed",
    "split_document": "index.split",
}

__all__ = [
    "Chunk",
    "Document",
    "Embedder",
    "IngestReport",
    "LoadProblem",
    "Store",
    "StoreError",
    "ingest",
    "load_documents",
    "shared_embedder",
    "split_document",
]


__getattr__ = lazy_attributes("index", _WHERE)

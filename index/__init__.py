"""The document side: load files, split them into token-sized chunks, embed, store in Chroma.

Nothing here imports `assistant` or `prompts`; callers pass every setting explicitly.
"""

from index.embed import Embedder
from index.ingest import IngestReport, ingest
from index.load import Document, LoadProblem, load_documents
from index.split import Chunk, split_document
from index.store import Store, StoreError

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
    "split_document",
]

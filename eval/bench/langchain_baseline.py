"""The plain LangChain pipeline the benchmark compares against.

Built from the same parts as ours: LangChain's recursive character splitter, the same
embedding model (our `Embedder` implements LangChain's `Embeddings`), LangChain's `Chroma`
vector store in an embedded Chroma, and plain similarity search with the same `k`.
"""

from __future__ import annotations

import time
from pathlib import Path

from index import Embedder
from index.load import load_documents

CHUNK_CHARS = 512  # about our 128 tiktoken tokens of English
OVERLAP_CHARS = 128


class LangChainBaseline:
    def __init__(self, embedder: Embedder, folder: Path) -> None:
        import chromadb
        from chromadb.config import Settings as ChromaSettings
        from langchain_chroma import Chroma

        client = chromadb.PersistentClient(
            path=str(folder), settings=ChromaSettings(anonymized_telemetry=False)
        )
        self.store = Chroma(
            collection_name="baseline",
            embedding_function=embedder,
            client=client,
            collection_metadata={"hnsw:space": "cosine"},
        )

    def ingest(self, paths: list[Path]) -> tuple[int, float]:
        """Split, embed and store; returns (chunks, seconds)."""
        from langchain_core.documents import Document
        from langchain_text_splitters import RecursiveCharacterTextSplitter

        started = time.perf_counter()
        root = paths[0] if paths[0].is_dir() else paths[0].parent
        docs, _ = load_documents(paths, root)
        splitter = RecursiveCharacterTextSplitter(
            chunk_size=CHUNK_CHARS, chunk_overlap=OVERLAP_CHARS
        )
        chunks = splitter.split_documents(
            [Document(page_content=d.text, metadata={"source": d.source}) for d in docs]
        )
        for i in range(0, len(chunks), 1000):
            self.store.add_documents(chunks[i : i + 1000])
        return len(chunks), time.perf_counter() - started

    def search(self, question: str, k: int) -> list[str]:
        return [d.page_content for d in self.store.similarity_search(question, k=k)]

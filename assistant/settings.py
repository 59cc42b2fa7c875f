"""One settings object for the whole assistant: defaults in code, `ASSISTANT_*` overrides.

Read at the edges (CLI, chat, `answer()` called without settings), never at import time.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field, model_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
K_DEFAULT, K_MIN, K_MAX = 4, 1, 20  # passages per question: the default and the range


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="ignore")

    data_dir: Path = Field(
        PROJECT_ROOT / "data", description="Where the index, caches and the assembled model live."
    )
    corpus_dir: Path = Field(
        PROJECT_ROOT / "seeds", description="What `assistant ingest` reads when given no path."
    )
    chroma_url: str | None = Field(
        None, description="http://host:port of a `chroma run` server; unset = embedded store."
    )
    collection: str = Field("chunks", description="Chroma collection name (3+ characters).")
    chunk_size: int = Field(128, ge=8, le=512, description="Chunk size in tiktoken tokens.")
    chunk_overlap: int = Field(32, ge=0, description="Tokens of whole sentences shared by chunks.")
    k: int = Field(K_DEFAULT, ge=K_MIN, le=K_MAX, description="Passages shown to the generator.")
    excerpt_tokens: int = Field(
        80,
        ge=1,
        description="Document tokens shown to a generator: the best sentences up to this "
        "many (at least one); fewer tokens, faster local answers.",
    )
    retrieval_candidates: int = Field(
        20, ge=1, description="Chunks each retriever (dense, BM25) ranks before fusion."
    )
    rrf_k: int = Field(60, ge=1, description="Reciprocal-rank-fusion constant (the usual 60).")
    rerank_pool: int = Field(
        20,
        ge=0,
        le=100,
        description="Best fused chunks ordered again by meaning (embedding closeness of the "
        "chunk and its closest sentence); 0 keeps the fused order.",
    )
    shown_sentences: int = Field(
        4, ge=1, description="Best sentences of the retrieved chunks shown to a generator."
    )
    support_threshold: float = Field(
        0.55,
        ge=0,
        le=1,
        description="Support score a passage needs to back an answer sentence (its citation).",
    )
    second_sentence_margin: float = Field(
        0.08, ge=0, le=1, description="extractive adds the runner-up sentence this close."
    )
    trace_depth: int = Field(
        10, ge=1, le=50, description="Ranked chunks kept in Answer.trace (eval hit@k, MRR@10)."
    )
    whole_corpus_tokens: int = Field(
        0,
        ge=0,
        description="When the whole corpus is at most this many tokens, the local model reads "
        "all of it from its cached prompt: first token about 4x sooner, but longer answers "
        "(seed suite F1 0.35 to 0.27, see README); 0 = off, the retrieved passages.",
    )
    generator: str = Field(
        "local", description="local (llama.cpp), extractive (no model) or openai."
    )
    answer_threshold: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Answer only when the reading model's probability that its passages state "
        "the answer (1 - P(NOT_FOUND) at its first token) reaches this (0..1); unset = the "
        "operating point in assistant/answerability.json; higher refuses more, 0 never "
        "refuses on probability or relatedness.",
    )
    calibrator: Path | None = Field(
        None,
        description="The answerability calibrator file; unset = assistant/answerability.json "
        "(rebuild with `python -m eval.calibrate --write`).",
    )
    max_question_chars: int = Field(4000, ge=1, description="Longer questions are rejected.")
    threads: int = Field(2, ge=1, description="CPU threads for the local model.")
    local_context: int = Field(
        2048, ge=512, description="Context window of the local model, in its tokens."
    )
    local_max_tokens: int = Field(200, ge=16, description="Answer length cap for `local`.")
    openai_base_url: str = Field(
        "http://127.0.0.1:8080/v1", description="OpenAI-compatible endpoint for `openai`."
    )
    openai_model: str = Field("local", description="Model name sent to the endpoint.")
    openai_api_key: str = Field("not-needed", description="API key for the endpoint.")
    openai_timeout: float = Field(60.0, gt=0, description="Seconds before an endpoint call fails.")
    # -- the web chat ------------------------------------------------------------------
    auth: str | None = Field(
        None,
        description="user:password the chat asks for (required when it listens beyond "
        "loopback; `assistant chat --auth FILE` reads user:password lines).",
    )
    chat_concurrency: int = Field(4, ge=1, description="Answers the chat writes at once.")
    saved_turns: int = Field(
        50, ge=1, description="Exchanges of a conversation kept in the browser's storage."
    )
    max_upload_file_mb: float = Field(20.0, gt=0, description="Largest uploaded file, in MB.")
    max_upload_mb: float = Field(50.0, gt=0, description="Largest upload (all files), in MB.")
    max_upload_files: int = Field(20, ge=1, description="Most files in one upload.")

    @model_validator(mode="after")
    def _chunks_fit(self) -> Settings:
        """The chunk overlap is smaller than the chunk size (the splitter's own rule)."""
        from index.split import check_sizes

        check_sizes(self.chunk_size, self.chunk_overlap)
        return self


def settings_table() -> str:
    """The README's settings table, made from the fields above (a test keeps them equal)."""
    rows = ["| variable | default | meaning |", "|---|---|---|"]
    for name, info in Settings.model_fields.items():
        rows.append(f"| `ASSISTANT_{name.upper()}` | {_shown(info.default)} | {info.description} |")
    return "\n".join(rows)


def _shown(value: object) -> str:
    if value is None:
        return "unset"
    if isinstance(value, Path):
        return (
            f"`./{value.relative_to(PROJECT_ROOT)}`"
            if value.is_relative_to(PROJECT_ROOT)
            else f"`{value}`"
        )
    return f"`{value}`"

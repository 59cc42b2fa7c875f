"""One settings object for the whole assistant: defaults in code, `ASSISTANT_*` overrides.

Read at the edges (CLI, chat, `answer()` called without settings), never at import time.
"""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent


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
    k: int = Field(4, ge=1, le=20, description="Passages shown to the generator.")
    excerpt_tokens: int = Field(
        80,
        ge=1,
        description="Document tokens shown to a generator: the best sentences up to this "
        "many (at least one); fewer tokens, faster local answers.",
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
    trace_depth: int = Field(
        10,
        ge=1,
        le=50,
        description="Ranked chunks kept in Answer.trace (the eval's hit@k, MRR@10).",
    )
    generator: str = Field(
        "local", description="local (llama.cpp), extractive (no model) or openai."
    )
    answer_threshold: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Answer only when the calibrated probability of a right answer reaches "
        "this (0..1); unset = the operating point in assistant/answerability.json; higher "
        "refuses more, 0 never refuses on probability.",
    )
    calibrator: Path | None = Field(
        None,
        description="The answerability calibrator file; unset = assistant/answerability.json "
        "(rebuild with `python -m eval.calibrate --write`).",
    )
    max_question_chars: int = Field(4000, ge=1, description="Longer questions are rejected.")
    threads: int = Field(2, ge=1, description="CPU threads for the local model.")
    local_max_tokens: int = Field(200, ge=16, description="Answer length cap for `local`.")
    openai_base_url: str = Field(
        "http://127.0.0.1:8080/v1", description="OpenAI-compatible endpoint for `openai`."
    )
    openai_model: str = Field("local", description="Model name sent to the endpoint.")
    openai_api_key: str = Field("not-needed", description="API key for the endpoint.")
    openai_timeout: float = Field(60.0, gt=0, description="Seconds before an endpoint call fails.")

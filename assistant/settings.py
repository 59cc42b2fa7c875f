"""One settings object for the whole assistant: defaults in code, `ASSISTANT_*` overrides.

The settings come in groups, one per concern (`settings.index.chunk_size`,
`settings.retrieval.k`, ...). Each group reads `ASSISTANT_` + its field's name, so a
variable's name is the same whichever group holds it (`ASSISTANT_K`, `ASSISTANT_THREADS`).
Read at the edges (CLI, chat, `answer()` called without settings), never at import time.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field, model_validator
from pydantic.fields import FieldInfo
from pydantic_settings import BaseSettings, SettingsConfigDict

PROJECT_ROOT = Path(__file__).resolve().parent.parent
K_DEFAULT, K_MIN, K_MAX = 4, 1, 20  # passages per question: the default and the range


class _Group(BaseSettings):
    """The settings of one concern, each read from `ASSISTANT_<FIELD NAME>`. A field name no
    group has is an error (a misspelt override fails instead of being dropped); other
    `ASSISTANT_*` variables are another group's business."""

    model_config = SettingsConfigDict(env_prefix="ASSISTANT_", extra="forbid")
    heading: ClassVar[str]  # the group's name in the README's tables


class IndexSettings(_Group):
    """Where documents, the index and the chat's stores live, and how documents become chunks."""

    heading: ClassVar[str] = "Index"
    data_dir: Path = Field(
        PROJECT_ROOT / "data", description="Where the index, caches and the assembled model live."
    )
    corpus_dir: Path = Field(
        PROJECT_ROOT / "seeds", description="What `assistant ingest` reads when given no path."
    )
    chroma_url: str | None = Field(
        None, description="http://host:port of a `chroma run` server; unset = embedded store."
    )
    database_url: str | None = Field(
        None,
        description="postgresql://user:password@host/db for conversations, feedback and "
        "document owners; unset = `assistant.db` in the data dir.",
    )
    collection: str = Field("chunks", description="Chroma collection name (3+ characters).")
    chunk_size: int = Field(128, ge=8, le=512, description="Chunk size in tiktoken tokens.")
    chunk_overlap: int = Field(32, ge=0, description="Tokens of whole sentences shared by chunks.")

    @model_validator(mode="after")
    def _chunks_fit(self) -> IndexSettings:
        """The chunk overlap is smaller than the chunk size (the splitter's own rule)."""
        from index.split import check_sizes

        check_sizes(self.chunk_size, self.chunk_overlap)
        return self


class RetrievalSettings(_Group):
    """How many chunks are found for a question, and how they are ranked."""

    heading: ClassVar[str] = "Retrieval"
    k: int = Field(K_DEFAULT, ge=K_MIN, le=K_MAX, description="Passages shown to the generator.")
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


class AnswerSettings(_Group):
    """Which generator answers, what it is shown, and when an answer (and each
    citation) stands or becomes a refusal."""

    heading: ClassVar[str] = "Answer"
    generator: str = Field(
        "local", description="local (llama.cpp), extractive (no model) or openai."
    )
    excerpt_tokens: int = Field(
        180,
        ge=1,
        description="Document tokens shown to a generator: the best chunk whole, then the "
        "best sentences, up to this many (at least one), and the headings of their sections; "
        "fewer tokens, faster local answers.",
    )
    shown_sentences: int = Field(
        4, ge=1, description="Best sentences of the retrieved chunks shown to a generator."
    )
    whole_chunks: int = Field(
        1,
        ge=0,
        le=10,
        description="Best-ranked retrieved chunks shown whole (within `excerpt_tokens`) "
        "before the best sentences of the others.",
    )
    whole_section: bool = Field(
        True,
        description="A chunk shown whole is cut to the section (heading to heading) of its "
        "best sentence: the end of the section before and the start of the next one stay out; "
        "every shown sentence comes with the heading of its section.",
    )
    excerpt_neighbours: int = Field(
        0,
        ge=0,
        le=5,
        description="Sentences on each side of each best sentence also shown, while "
        "`excerpt_tokens` lasts (a rule's condition, a fact's cause).",
    )
    quote_sources: bool = Field(
        True,
        description="After the answer, quote verbatim the source sentence each cited claim "
        "rests on, with its [n], so the conditions and exceptions come with it.",
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
    answer_threshold: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Answer only when the reading model's probability that its passages state "
        "the answer (1 - P(NOT_FOUND) at its first token) reaches this (0..1); unset = the "
        "operating point in assistant/question/answerability.json; higher refuses more, 0 never "
        "refuses on probability or relatedness.",
    )
    calibrator: Path | None = Field(
        None,
        description="The answerability calibrator file; unset = "
        "assistant/question/answerability.json "
        "(rebuild with `python -m eval.calibration.calibrate --write`).",
    )
    skip_checks: str = Field(
        "",
        description="Checks after generation left out, comma-separated (support, echo, "
        "orders, kind, unsourced): for measuring what each one refuses; unset = all run.",
    )
    max_question_chars: int = Field(4000, ge=1, description="Longer questions are rejected.")


class LocalModelSettings(_Group):
    """The bundled llama.cpp model (`generator=local`)."""

    heading: ClassVar[str] = "Local model"
    threads: int = Field(2, ge=1, description="CPU threads for the local model.")
    local_context: int = Field(
        2048, ge=512, description="Context window of the local model, in its tokens."
    )
    local_max_tokens: int = Field(200, ge=16, description="Answer length cap for `local`.")


class OpenAISettings(_Group):
    """The endpoint `generator=openai` calls."""

    heading: ClassVar[str] = "OpenAI-compatible endpoint"
    openai_base_url: str = Field(
        "http://127.0.0.1:8080/v1", description="OpenAI-compatible endpoint for `openai`."
    )
    openai_model: str = Field("local", description="Model name sent to the endpoint.")
    openai_api_key: str = Field("not-needed", description="API key for the endpoint.")
    openai_timeout: float = Field(60.0, gt=0, description="Seconds before an endpoint call fails.")


class ChatSettings(_Group):
    """The web chat."""

    heading: ClassVar[str] = "Chat"
    auth: str | None = Field(
        None,
        description="user:password the chat asks for (required when it listens beyond "
        "loopback; `assistant chat --auth FILE` reads user:password lines).",
    )
    chat_concurrency: int = Field(4, ge=1, description="Answers the chat writes at once.")
    admins: str = Field(
        "",
        description="Signed-in users who may remove or share anyone's document "
        "(comma-separated names).",
    )
    saved_turns: int = Field(
        50, ge=1, description="Exchanges of a conversation kept in the browser's storage."
    )


class UploadSettings(_Group):
    """Documents added in the chat."""

    heading: ClassVar[str] = "Uploads"
    max_upload_file_mb: float = Field(20.0, gt=0, description="Largest uploaded file, in MB.")
    max_upload_mb: float = Field(50.0, gt=0, description="Largest upload (all files), in MB.")
    max_upload_files: int = Field(20, ge=1, description="Most files in one upload.")


class Settings(BaseModel):
    """Every setting, by concern. `Settings()` reads the environment; `Settings(index={...})`
    sets some fields of a group and still reads the environment for the rest."""

    model_config = ConfigDict(extra="forbid")

    index: IndexSettings = Field(default_factory=IndexSettings)
    retrieval: RetrievalSettings = Field(default_factory=RetrievalSettings)
    answer: AnswerSettings = Field(default_factory=AnswerSettings)
    local: LocalModelSettings = Field(default_factory=LocalModelSettings)
    openai: OpenAISettings = Field(default_factory=OpenAISettings)
    chat: ChatSettings = Field(default_factory=ChatSettings)
    uploads: UploadSettings = Field(default_factory=UploadSettings)

    def updated(self, **groups: dict[str, Any]) -> Settings:
        """A copy with some fields changed, named by group:
        `settings.updated(index={"data_dir": d}, answer={"generator": "extractive"})`.
        Validated as `Settings(...)` is; the fields not named keep their values."""
        values = self.model_dump()
        for group, changes in groups.items():
            values[group] = {**values.get(group, {}), **changes}
        return type(self).model_validate(values)


def setting_fields() -> Iterator[tuple[str, str, FieldInfo]]:
    """(group, field name, field) of every setting, in the table's order."""
    for group, info in Settings.model_fields.items():
        for name, field in _group_type(info).model_fields.items():
            yield group, name, field


def settings_table() -> str:
    """The README's settings tables, one per group, made from the fields above (a test keeps
    them equal)."""
    parts = []
    for group, info in Settings.model_fields.items():
        kind = _group_type(info)
        about = " ".join((kind.__doc__ or "").split())
        rows = [f"**{kind.heading}** (`settings.{group}`): {about}", ""]
        rows += ["| variable | default | meaning |", "|---|---|---|"]
        for name, field in kind.model_fields.items():
            rows.append(
                f"| `ASSISTANT_{name.upper()}` | {_shown(field.default)} | {field.description} |"
            )
        parts.append("\n".join(rows))
    return "\n\n".join(parts)


def _group_type(info: FieldInfo) -> type[_Group]:
    group = info.annotation
    assert isinstance(group, type) and issubclass(group, _Group)
    return group


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

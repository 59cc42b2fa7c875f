"""The `local` generator: the bundled Qwen2.5-Coder-1.5B model run in-process by llama.cpp.

The GGUF file is assembled from its pip-installed parts on first use
(`assistant.generators.model_file`).
The `llama_cpp.Llama` object is loaded once per process and shared: a chat server calls
generators from several threads, so each generation holds that model's lock for its whole
run (llama.cpp contexts are not thread-safe). llama.cpp keeps the evaluated tokens of the
last prompt and re-evaluates only what differs, and a small in-memory state cache also keeps
the states of recent prompts, so the fixed prompt prefixes (answer and condense) are
processed about once per process even when condense and answer calls alternate. The
evaluated answer prefix is also saved next to the model file (`prefix-*.state`), so a new
process restores it in a fraction of a second instead of evaluating it again.
"""

from __future__ import annotations

import hashlib
import json
import time
from collections.abc import Iterator, Sequence
from functools import cached_property
from pathlib import Path
from typing import TYPE_CHECKING, Any

from langchain_core.callbacks import CallbackManagerForLLMRun
from langchain_core.language_models import BaseChatModel
from langchain_core.language_models.chat_models import generate_from_stream
from langchain_core.messages import (
    AIMessageChunk,
    BaseMessage,
)
from langchain_core.outputs import ChatGenerationChunk, ChatResult

from assistant.generators import NOT_FOUND
from assistant.generators.llama_runtime import (
    FirstTokenBan,
    SharedLlama,
    continuation_probability,
    import_llama_cpp,
    load_prefix_state,
    save_prefix_state,
    shared_llama,
)
from assistant.generators.llm import (
    CONDENSE_MAX_TOKENS,
    ChatModelGenerator,
    answer_messages,
    chat_dicts,
)
from assistant.generators.model_file import MODEL_SHA256, ensure_model
from assistant.types import Passage

if TYPE_CHECKING:
    from assistant.rules.evidence import EvidenceScorer
    from assistant.settings import Settings
    from index import Embedder


class ChatLlamaCpp(BaseChatModel):
    """A minimal LangChain chat model over an in-process, shared `llama_cpp.Llama`."""

    model_path: str
    n_ctx: int
    n_threads: int
    max_tokens: int
    temperature: float = 0.0

    @property
    def _llm_type(self) -> str:
        return "llama-cpp"

    @property
    def _identifying_params(self) -> dict[str, Any]:
        return {
            "model_path": self.model_path,
            "n_ctx": self.n_ctx,
            "max_tokens": self.max_tokens,
            "temperature": self.temperature,
        }

    def shared(self) -> SharedLlama:
        return shared_llama(self.model_path, n_ctx=self.n_ctx, n_threads=self.n_threads)

    def _generate(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> ChatResult:
        return generate_from_stream(self._stream(messages, stop, run_manager, **kwargs))

    def _stream(
        self,
        messages: list[BaseMessage],
        stop: list[str] | None = None,
        run_manager: CallbackManagerForLLMRun | None = None,
        **kwargs: Any,
    ) -> Iterator[ChatGenerationChunk]:
        chat = chat_dicts(messages)
        shared = self.shared()
        finish_reason = None
        with shared.hold() as llama:
            chunks = llama.create_chat_completion(
                messages=chat,
                stream=True,
                temperature=kwargs.get("temperature", self.temperature),
                max_tokens=kwargs.get("max_tokens", self.max_tokens),
                stop=stop or [],
                logits_processor=kwargs.get("logits_processor"),
            )
            try:
                for chunk in chunks:
                    choice = chunk["choices"][0]
                    finish_reason = choice.get("finish_reason") or finish_reason
                    text = choice.get("delta", {}).get("content")
                    if not text:
                        continue
                    piece = ChatGenerationChunk(message=AIMessageChunk(content=text))
                    if run_manager:
                        run_manager.on_llm_new_token(text, chunk=piece)
                    yield piece
            finally:
                chunks.close()  # stop generating at once if the consumer gave up
        yield ChatGenerationChunk(
            message=AIMessageChunk(
                content="",
                response_metadata={"finish_reason": finish_reason},
                chunk_position="last",
            ),
            generation_info={"finish_reason": finish_reason},
        )


class LocalGenerator(ChatModelGenerator):
    """Answers with the bundled local model (llama.cpp, `settings.local.threads` CPU threads)."""

    name = "local"
    can_prime = True
    can_cancel = True
    can_read_refusal = True  # on llama.cpp's plain path it returns None

    def __init__(self, settings: Settings, *, warm: bool = True) -> None:
        import_llama_cpp()  # say so before assembling a model that could not be run
        model_path = ensure_model(Path(settings.index.data_dir) / "models")
        model = ChatLlamaCpp(
            model_path=str(model_path),
            n_ctx=settings.local.local_context,
            n_threads=settings.local.threads,
            max_tokens=settings.local.local_max_tokens,
        )
        super().__init__(model)
        self.n_ctx = settings.local.local_context
        self.model_path = model_path
        self.max_tokens = settings.local.local_max_tokens
        # Load now: a missing or broken model fails here, once. Shared by the whole process.
        self.shared = shared = model.shared()
        self.load_seconds = shared.load_seconds
        self.warm_seconds = 0.0
        self.prefix_restored = False
        self._primed: tuple[str, ...] = ()
        if warm and not shared.warmed:
            self.warm_up()
            shared.warmed = True

    @classmethod
    def create(
        cls, settings: Settings, embedder: Embedder, scorer: EvidenceScorer | None = None
    ) -> LocalGenerator:
        return cls(settings)

    def loading(self) -> dict[str, Any]:
        return {
            "model_load_seconds": self.load_seconds,
            "warm_up_seconds": self.warm_seconds,
            "prefix_restored": self.prefix_restored,
        }

    def prime(self, passages: Sequence[Passage]) -> None:
        """Keep the prompt that shows all of a small corpus evaluated (`whole_corpus`), so
        that a question adds only its own tokens; once per corpus, restored from its file
        when an earlier process saved it."""
        key = tuple(f"{p.id}:{p.shown}" for p in passages)
        if key != self._primed:
            self.warm_up(passages)
            self._primed = key

    def warm_up(self, passages: Sequence[Passage] = ()) -> None:
        """Evaluate the fixed answer prefix (the rules, about 40 tokens, and the
        `passages` when they are the same for every question) now, so that questions only
        pay for what is their own; restored from the saved state when an earlier process
        left one for this model, prompt and llama.cpp version."""
        start = time.perf_counter()
        messages = answer_messages("", passages)
        path = self.prefix_state_path(messages)
        tricks = self.shared.tricks
        with self.shared.lock:
            restored = tricks and load_prefix_state(self.shared.llama, path)
        self.prefix_restored = restored
        if not restored:
            for _ in self.model.stream(messages, max_tokens=1):
                pass
            if tricks:
                with self.shared.lock:
                    save_prefix_state(self.shared.llama, path)
        self.warm_seconds = time.perf_counter() - start

    def prefix_state_path(self, messages: list[BaseMessage]) -> Path:
        import llama_cpp

        key = json.dumps(
            [
                MODEL_SHA256,
                llama_cpp.__version__,
                self.n_ctx,
                [[m.type, str(m.content)] for m in messages],
            ]
        )
        digest = hashlib.sha256(key.encode()).hexdigest()[:16]
        return self.model_path.parent / f"prefix-{digest}.state"

    def refusal_probability(self, question: str, passages: Sequence[Passage]) -> float | None:
        """The model's probability that the passages lack the answer: of its answer starting
        NOT_FOUND (its first two tokens), read from the logits of the evaluated answer prompt.

        The answer prompt is evaluated here by llama-cpp-python's own chat path (one sampled
        token, not kept), so the answer that follows (`stream(..., decided=True)`) reuses the
        evaluated prompt and decodes only its last token again: the decision costs no second
        prompt. None on llama.cpp's plain path (`llama_runtime.runtime_problem`): the model's
        own NOT_FOUND reply is then its refusal.
        """
        if not self.shared.tricks:
            return None
        chat = chat_dicts(answer_messages(question, passages))
        with self.shared.hold() as llama:
            for _ in llama.create_chat_completion(
                messages=chat, stream=True, max_tokens=1, temperature=0.0
            ):
                pass
            return continuation_probability(llama, self._refusal_tokens)

    def cancel(self, thread_id: int) -> bool:
        """Stop the generation (or prompt evaluation) that thread `thread_id` runs now."""
        return self.shared.cancel(thread_id)

    @cached_property
    def _refusal_tokens(self) -> list[int]:
        tokens = self.shared.llama.tokenize(NOT_FOUND.encode(), add_bos=False)
        return list(tokens[:2])

    @cached_property
    def _refusal_starts(self) -> list[int]:
        """The first tokens of NOT_FOUND however the model capitalises it."""
        spellings = (NOT_FOUND, NOT_FOUND.capitalize(), NOT_FOUND.lower())
        return [self.shared.llama.tokenize(w.encode(), add_bos=False)[0] for w in spellings]

    def answer_options(self, decided: bool = False) -> dict[str, Any]:
        options: dict[str, Any] = {"max_tokens": self.max_tokens}
        if decided:  # the reader chose to answer: the answer may not start NOT_FOUND
            import llama_cpp

            ban = FirstTokenBan(self._refusal_starts)
            options["logits_processor"] = llama_cpp.LogitsProcessorList([ban])
        return options

    def condense_options(self) -> dict[str, Any]:
        return {**super().condense_options(), "max_tokens": CONDENSE_MAX_TOKENS}

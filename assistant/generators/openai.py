"""The `openai` generator: any OpenAI-compatible chat endpoint (OpenAI, vLLM, llama.cpp's
server, Ollama's `/v1`), through `langchain_openai.ChatOpenAI`.

The reader's decision: where the endpoint returns log-probabilities, the first token's
probability of starting NOT_FOUND (a one-token request with `logprobs`) decides as for
`local`; where it does not, the model's own NOT_FOUND reply is its refusal.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from assistant.errors import GeneratorUnavailable
from assistant.generators import NOT_FOUND
from assistant.generators.llm import ChatModelGenerator, answer_messages, chat_dicts

if TYPE_CHECKING:
    from assistant.rules.evidence import EvidenceScorer
    from assistant.settings import Settings
    from assistant.types import Passage
    from index import Embedder

TOP_LOGPROBS = 20  # alternatives asked for at the first token


class OpenAIGenerator(ChatModelGenerator):
    """Answers through the endpoint at `settings.openai.openai_base_url`, streaming."""

    name = "openai"
    can_read_refusal = True  # where the endpoint returns log-probabilities

    def __init__(self, settings: Settings, *, max_tokens: int | None = None) -> None:
        try:
            import openai  # noqa: F401  (the error types below)
            from langchain_openai import ChatOpenAI
            from pydantic import SecretStr
        except ImportError as exc:
            raise GeneratorUnavailable(
                "the openai generator is not installed: install the openai extra: "
                "pip install '.[openai]'"
            ) from exc
        self.base_url = settings.openai.openai_base_url
        self.timeout = settings.openai.openai_timeout
        self.max_tokens = max_tokens
        self.model_name = settings.openai.openai_model
        self.api_key = settings.openai.openai_api_key
        self.logprobs: bool | None = None  # whether the endpoint returns them (None: unknown)
        model = ChatOpenAI(
            base_url=settings.openai.openai_base_url,
            model=settings.openai.openai_model,
            api_key=SecretStr(settings.openai.openai_api_key),
            timeout=settings.openai.openai_timeout,
            max_retries=0,
            temperature=0,
            streaming=True,
        )
        super().__init__(model)

    @classmethod
    def create(
        cls, settings: Settings, embedder: Embedder, scorer: EvidenceScorer | None = None
    ) -> OpenAIGenerator:
        return cls(settings)

    def answer_options(self, decided: bool = False) -> dict[str, Any]:
        return _token_cap(self.max_tokens)

    def refusal_probability(self, question: str, passages: Sequence[Passage]) -> float | None:
        """P(the answer starts NOT_FOUND) from the endpoint's first-token log-probabilities;
        None when it does not return them (asked once per generator)."""
        if self.logprobs is False:
            return None
        import openai

        client = openai.OpenAI(
            base_url=self.base_url, api_key=self.api_key, timeout=self.timeout, max_retries=0
        )
        try:
            with self._backend_errors():
                response = client.chat.completions.create(
                    model=self.model_name,
                    messages=chat_dicts(answer_messages(question, passages)),  # type: ignore[arg-type]
                    max_tokens=1,
                    temperature=0,
                    logprobs=True,
                    top_logprobs=TOP_LOGPROBS,
                )
        except GeneratorUnavailable as exc:
            if "HTTP" not in str(exc):  # down or refusing: say so; a 4xx/5xx: no logprobs here
                raise
            response = None
        first = _first_logprobs(response)
        self.logprobs = first is not None
        if first is None:
            return None
        return min(1.0, sum(math.exp(lp) for token, lp in first if _starts_not_found(token)))

    def translate_error(self, exc: Exception) -> Exception | None:
        import openai

        detail = " ".join(str(exc).split()) or type(exc).__name__
        if isinstance(exc, openai.APITimeoutError):
            return GeneratorUnavailable(
                f"the OpenAI-compatible server at {self.base_url} did not answer within "
                f"{self.timeout:g} s (ASSISTANT_OPENAI_TIMEOUT)"
            )
        if isinstance(exc, openai.APIConnectionError):
            cause = exc.__cause__ or exc.__context__
            reason = " ".join(str(cause).split()) if cause else detail
            return GeneratorUnavailable(
                f"cannot reach the OpenAI-compatible server at {self.base_url}: {reason} "
                "(start it, or set ASSISTANT_OPENAI_BASE_URL)"
            )
        if isinstance(exc, openai.AuthenticationError):
            return GeneratorUnavailable(
                f"the server at {self.base_url} refused the API key: set ASSISTANT_OPENAI_API_KEY"
            )
        if isinstance(exc, openai.APIStatusError):
            return GeneratorUnavailable(
                f"the server at {self.base_url} answered HTTP {exc.status_code}: {detail}"
            )
        return None


def _token_cap(max_tokens: int | None) -> dict[str, Any]:
    # ChatOpenAI would send `max_tokens` as `max_completion_tokens`, which llama.cpp's Python
    # server ignores; the classic field is understood by llama.cpp, vLLM, Ollama and OpenAI's
    # chat models. Off by default: the prompt asks for 1-3 sentences, condense stops at "\n".
    return {} if max_tokens is None else {"extra_body": {"max_tokens": max_tokens}}


def _first_logprobs(response: Any) -> list[tuple[str, float]] | None:
    """(token, log-probability) of the first token's alternatives, or None."""
    try:
        first = response.choices[0].logprobs.content[0]
        alternatives = first.top_logprobs or [first]
        return [(str(t.token), float(t.logprob)) for t in alternatives]
    except (AttributeError, IndexError, TypeError):
        return None


def _starts_not_found(token: str) -> bool:
    text = token.strip()
    return bool(text) and NOT_FOUND.startswith(text) and len(text) >= 2

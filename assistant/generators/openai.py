"""The `openai` generator: any OpenAI-compatible chat endpoint (OpenAI, vLLM, llama.cpp's
server, Ollama's `/v1`), through `langchain_openai.ChatOpenAI`."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from assistant.errors import GeneratorUnavailable
from assistant.generators.llm import ChatModelGenerator

if TYPE_CHECKING:
    from assistant.settings import Settings


class OpenAIGenerator(ChatModelGenerator):
    """Answers through the endpoint at `settings.openai_base_url`, streaming."""

    name = "openai"

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
        self.base_url = settings.openai_base_url
        self.timeout = settings.openai_timeout
        self.max_tokens = max_tokens
        model = ChatOpenAI(
            base_url=settings.openai_base_url,
            model=settings.openai_model,
            api_key=SecretStr(settings.openai_api_key),
            timeout=settings.openai_timeout,
            max_retries=0,
            temperature=0,
            streaming=True,
        )
        super().__init__(model)

    def answer_options(self) -> dict[str, Any]:
        return _token_cap(self.max_tokens)

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

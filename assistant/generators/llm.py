"""The shared base of the LLM generators: prompts, streaming and condensing over a chat model.

`ChatModelGenerator` holds any LangChain `BaseChatModel` (the in-process llama.cpp model, an
OpenAI-compatible endpoint) and implements the `Generator` protocol with the prompts in
`prompts/`. The system rules are the same for every question, so llama.cpp reuses that
evaluated prefix and only processes the passages and the question. The passages are data in
a delimited block; the model is told to answer from them with [n] citations, or to reply
exactly `NOT_FOUND` when they do not state the answer: its probability of starting that
reply is the reader's decision (`assistant.question.answerability`).
"""

from __future__ import annotations

import contextlib
import re
from collections.abc import Iterator, Sequence
from functools import cache
from typing import TYPE_CHECKING, Any

from langchain_core.messages import AIMessage, BaseMessage, HumanMessage, SystemMessage

import prompts
from assistant.errors import GeneratorUnavailable
from assistant.generators import NOT_FOUND, Generator
from assistant.rules.text import without_connective

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from assistant.types import History, Passage

CONDENSE_TURNS = 3  # how many past exchanges the condense prompt shows
CONDENSE_ANSWER_CHARS = 300  # each past answer is cut to this many characters
CONDENSE_MAX_TOKENS = 64
CONDENSE_MAX_CHARS = 300  # a longer "question" is the model rambling: fall back to the rules

_DELIMITER = re.compile(r"</?\s*passages\s*>", re.IGNORECASE)
_CITATION = re.compile(r"\s*\[\d+\]")
_LABEL = re.compile(r"^((standalone|rewritten|follow-up)\s+)?question\s*:\s*", re.IGNORECASE)


@cache
def system_prompt() -> str:
    """The fixed system message: the rules, the same for every question."""
    return prompts.load("answer_system").format(not_found=NOT_FOUND)


def _turns(text: str, first: str) -> list[BaseMessage]:
    """Chat turns from a prompt file whose blocks are separated by lines holding `---`.

    The first block has role `first` (system or user); after it user and assistant
    turns alternate.
    """
    blocks = [b.strip() for b in re.split(r"^---$", text, flags=re.MULTILINE)]
    messages: list[BaseMessage] = []
    for i, block in enumerate(blocks):
        if i == 0 and first == "system":
            messages.append(SystemMessage(block))
        elif (i - (first == "system")) % 2 == 0:
            messages.append(HumanMessage(block))
        else:
            messages.append(AIMessage(block))
    return messages


def _role(message: BaseMessage) -> str:
    if isinstance(message, SystemMessage):
        return "system"
    if isinstance(message, HumanMessage):
        return "user"
    if isinstance(message, AIMessage):
        return "assistant"
    raise ValueError(f"unsupported message type: {message.type}")


def chat_dicts(messages: Sequence[BaseMessage]) -> list[dict[str, str]]:
    """LangChain messages as OpenAI-style chat messages (llama.cpp takes the same)."""
    return [{"role": _role(m), "content": str(m.text)} for m in messages]


def _flatten(text: str) -> str:
    """Whitespace collapsed, and any text posing as the passages delimiter defused."""
    return " ".join(_DELIMITER.sub("(passages)", text).split())


def format_passages(passages: Sequence[Passage]) -> str:
    """One line per passage: `[n] text`, showing the passage's excerpt when it has one.

    A passage whose text repeats an earlier one (overlapping chunks) is left out.
    """
    lines, seen = [], set()
    for p in passages:
        text = _flatten(p.shown)
        if text.casefold() in seen:
            continue
        seen.add(text.casefold())
        lines.append(f"[{p.number}] {text}")
    return "\n".join(lines)


def answer_messages(question: str, passages: Sequence[Passage]) -> list[BaseMessage]:
    """The chat messages for one answer: the fixed system rules, then one user turn with the
    passages and the question.

    No worked examples: with them the model's first-token probability of NOT_FOUND separated
    answerable from unanswerable questions worse (eval/CALIBRATION.md)."""
    user = prompts.load("answer_user").format(
        passages=format_passages(passages), question=_flatten(question)
    )
    return [SystemMessage(system_prompt()), HumanMessage(user)]


def condense_messages(question: str, history: History) -> list[BaseMessage]:
    lines = []
    for user, assistant in list(history)[-CONDENSE_TURNS:]:
        answer = _CITATION.sub("", _flatten(assistant))
        if len(answer) > CONDENSE_ANSWER_CHARS:
            answer = answer[:CONDENSE_ANSWER_CHARS].rsplit(" ", 1)[0] + " ..."
        lines += [f"User: {_flatten(user)}", f"Assistant: {answer}"]
    # prompts/condense.txt: system, then example user/assistant turns, then the user template.
    *fixed, template = _turns(prompts.load("condense"), "system")
    user = str(template.content).format(history="\n".join(lines), question=_flatten(question))
    return [*fixed, HumanMessage(user)]


def _clean_condensed(text: str) -> str | None:
    """The rewritten question, or None when the model answered or rambled instead."""
    line = next((ln.strip() for ln in text.strip().splitlines() if ln.strip()), "")
    line = _LABEL.sub("", line).strip().strip("\"'`").strip()
    if not line.endswith("?") or len(line) > CONDENSE_MAX_CHARS:
        return None
    # A rewrite that still opens like a follow-up ("And what will Russia do after 2024?").
    return without_connective(line) or None


class ChatModelGenerator(Generator):
    """A `Generator` over a LangChain chat model; subclasses translate backend errors and
    declare what more their backend can do."""

    name = "llm"

    def __init__(self, model: BaseChatModel, *, name: str | None = None) -> None:
        self.model = model
        if name is not None:
            self.name = name

    def stream(
        self,
        question: str,
        passages: Sequence[Passage],
        history: History = (),
        *,
        decided: bool = False,
    ) -> Iterator[str]:
        """Yield the answer in text deltas.

        `question` should be the standalone question (after `condense`): the history is
        not shown to the model, which keeps the prompt short. `decided`: the decision to
        answer is taken, so NOT_FOUND is forbidden where the backend allows it.
        """
        messages = answer_messages(question, passages)
        chunks = self.model.stream(messages, **self.answer_options(decided))
        try:
            with self._backend_errors():
                for chunk in chunks:
                    text = str(chunk.text)
                    if text:
                        yield text
        finally:
            close = getattr(chunks, "close", None)  # a generator: stop the model early
            if close is not None:
                close()  # a consumer that stops early stops the model (and frees it)

    def condense(self, question: str, history: History) -> str | None:
        """The follow-up `question` rewritten to stand alone; None without history, or when
        the model did not produce a question (the caller then uses its rule-based rewrite)."""
        if not history:
            return None
        messages = condense_messages(question, history)
        with self._backend_errors():
            message = self.model.invoke(messages, **self.condense_options())
        return _clean_condensed(str(message.text))

    @contextlib.contextmanager
    def _backend_errors(self) -> Iterator[None]:
        """Turn a backend's exception into its one-line GeneratorUnavailable, if it has one."""
        try:
            yield
        except GeneratorUnavailable:
            raise
        except Exception as exc:
            translated = self.translate_error(exc)
            if translated is None:
                raise
            raise translated from exc

    def answer_options(self, decided: bool = False) -> dict[str, Any]:
        """Extra keyword arguments for the answer call (e.g. a token cap, or a bias against
        NOT_FOUND once `decided`)."""
        return {}

    def condense_options(self) -> dict[str, Any]:
        return {"stop": ["\n"]}

    def translate_error(self, exc: Exception) -> Exception | None:
        """A one-line `GeneratorUnavailable` for a backend failure, or None to re-raise."""
        return None

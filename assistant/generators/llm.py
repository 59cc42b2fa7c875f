"""The shared base of the LLM generators: prompts, streaming and condensing over a chat model.

`ChatModelGenerator` holds any LangChain `BaseChatModel` (the in-process llama.cpp model, an
OpenAI-compatible endpoint) and implements the `Generator` protocol with the prompts in
`prompts/`. Everything before the last user turn (system rules, worked examples) is the
same for every question, so llama.cpp reuses that evaluated prefix and only processes the
passages and the question. The passages are data in a delimited block; the model is told
to ignore instructions inside them, to cite every sentence as [n], and to reply exactly
`NOT_IN_DOCUMENTS` when they do not hold the answer.
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
from assistant.generators import NOT_IN_DOCUMENTS

if TYPE_CHECKING:
    from langchain_core.language_models import BaseChatModel

    from assistant.generators import History
    from assistant.types import Passage

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
    return prompts.load("answer_system").format(not_in_documents=NOT_IN_DOCUMENTS)


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


@cache
def example_messages() -> tuple[BaseMessage, ...]:
    """Worked examples shown as earlier turns (`prompts/answer_examples.txt`), part of the
    fixed prefix: they teach the citation format and the refusal sentence by example."""
    text = prompts.load("answer_examples").format(not_in_documents=NOT_IN_DOCUMENTS)
    return tuple(_turns(text, "user"))


def _one_line(text: str) -> str:
    """Whitespace collapsed, and any text posing as the passages delimiter defused."""
    return " ".join(_DELIMITER.sub("(passages)", text).split())


def format_passages(passages: Sequence[Passage]) -> str:
    """One line per passage: `[n] text`, showing the passage's excerpt when it has one.

    A passage whose text repeats an earlier one (overlapping chunks) is left out.
    """
    lines, seen = [], set()
    for p in passages:
        text = _one_line(p.shown)
        if text.casefold() in seen:
            continue
        seen.add(text.casefold())
        lines.append(f"[{p.number}] {text}")
    return "\n".join(lines)


def answer_messages(question: str, passages: Sequence[Passage]) -> list[BaseMessage]:
    """The chat messages for one answer: the fixed prefix (system rules, worked examples),
    then one user turn with the passages and the question."""
    user = prompts.load("answer_user").format(
        passages=format_passages(passages), question=_one_line(question)
    )
    return [SystemMessage(system_prompt()), *example_messages(), HumanMessage(user)]


JUDGE_REPLY = "NOT_FOUND"  # the judge's whole reply when the passages lack the answer


def judge_messages(question: str, passages: Sequence[Passage]) -> list[BaseMessage]:
    """The messages that ask a model whether the passages (as the answer shows them) state
    the answer: a plain instruction, no worked examples; the probability of the model
    starting JUDGE_REPLY is an answerability signal (eval/CALIBRATION.md)."""
    user = prompts.load("answer_user").format(
        passages=format_passages(passages), question=_one_line(question)
    )
    system = prompts.load("judge").format(not_found=JUDGE_REPLY)
    return [SystemMessage(system), HumanMessage(user)]


def condense_messages(question: str, history: History) -> list[BaseMessage]:
    lines = []
    for user, assistant in list(history)[-CONDENSE_TURNS:]:
        answer = _CITATION.sub("", _one_line(assistant))
        if len(answer) > CONDENSE_ANSWER_CHARS:
            answer = answer[:CONDENSE_ANSWER_CHARS].rsplit(" ", 1)[0] + " ..."
        lines += [f"User: {_one_line(user)}", f"Assistant: {answer}"]
    # prompts/condense.txt: system, then example user/assistant turns, then the user template.
    *fixed, template = _turns(prompts.load("condense"), "system")
    user = str(template.content).format(history="\n".join(lines), question=_one_line(question))
    return [*fixed, HumanMessage(user)]


def _clean_condensed(text: str) -> str | None:
    """The rewritten question, or None when the model answered or rambled instead."""
    line = next((ln.strip() for ln in text.strip().splitlines() if ln.strip()), "")
    line = _LABEL.sub("", line).strip().strip("\"'`").strip()
    if not line.endswith("?") or len(line) > CONDENSE_MAX_CHARS:
        return None
    return line


class ChatModelGenerator:
    """A `Generator` over a LangChain chat model; subclasses translate backend errors."""

    name = "llm"

    def __init__(self, model: BaseChatModel, *, name: str | None = None) -> None:
        self.model = model
        if name is not None:
            self.name = name

    def stream(
        self, question: str, passages: Sequence[Passage], history: History = ()
    ) -> Iterator[str]:
        """Yield the answer in text deltas.

        `question` should be the standalone question (after `condense`): the history is
        not shown to the model, which keeps the prompt short.
        """
        messages = answer_messages(question, passages)
        chunks = self.model.stream(messages, **self.answer_options())
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

    def answer_options(self) -> dict[str, Any]:
        """Extra keyword arguments for the answer call (e.g. a token cap)."""
        return {}

    def condense_options(self) -> dict[str, Any]:
        return {"stop": ["\n"]}

    def translate_error(self, exc: Exception) -> Exception | None:
        """A one-line `GeneratorUnavailable` for a backend failure, or None to re-raise."""
        return None

"""Commands that other installed packages add to `assistant`, found through the
`assistant.commands` entry-point group (the way simonw/llm finds plugin commands).

An entry point's name is the command; its object is called with the arguments after the name
and returns the exit code (it parses its own options), and its docstring's first line is the
command's help. The project's `eval` package registers `eval` and `bench` this way
(pyproject.toml), so nothing here imports it.
"""

from __future__ import annotations

from collections.abc import Callable
from importlib.metadata import EntryPoint, entry_points

GROUP = "assistant.commands"

Command = Callable[[list[str]], int]


def commands() -> dict[str, EntryPoint]:
    """The registered commands by name, in the order the installed packages declare them."""
    return {ep.name: ep for ep in entry_points(group=GROUP)}


def load(ep: EntryPoint) -> Command:
    command: Command = ep.load()
    return command


def help_of(ep: EntryPoint) -> str:
    """The command's one-line help; a plugin that cannot load says why instead."""
    try:
        doc = load(ep).__doc__ or ""
    except Exception as exc:  # a broken plugin must not break `assistant --help`
        return f"(cannot load {ep.value}: {type(exc).__name__}: {exc})"
    return doc.strip().splitlines()[0] if doc.strip() else ""

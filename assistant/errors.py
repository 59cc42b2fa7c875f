"""Errors that reach a user as one line, with the exit code the CLI uses."""

from __future__ import annotations


class AssistantError(Exception):
    """A failure the user can act on. `exit_code` 1 = runtime failure, 2 = bad input/usage."""

    exit_code = 1


class BadInput(AssistantError):
    exit_code = 2


class GeneratorUnavailable(AssistantError):
    """The chosen generator cannot run (not installed, model missing, server down)."""


def describe(exc: BaseException) -> str:
    """An unexpected exception as one line: its type and the first line of its message."""
    text = str(exc).strip()
    return f"{type(exc).__name__}: {text.splitlines()[0]}" if text else type(exc).__name__

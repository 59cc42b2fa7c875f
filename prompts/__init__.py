"""Prompt templates kept as plain text files next to this module, loaded by name."""

from __future__ import annotations

from functools import cache
from pathlib import Path

_DIR = Path(__file__).resolve().parent


@cache
def load(name: str) -> str:
    """The text of `prompts/<name>.txt` (trailing newline removed)."""
    if not name or "/" in name or "\\" in name or name.startswith("."):
        raise ValueError(f"bad prompt name {name!r}")
    path = _DIR / f"{name}.txt"
    try:
        return path.read_text(encoding="utf-8").rstrip("\n")
    except FileNotFoundError:
        raise ValueError(f"no prompt named {name!r} in {_DIR}") from None

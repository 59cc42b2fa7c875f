"""The ways `assistant eval` stops early, each with its exit code, and the reading of a
suite's JSON Lines file, which stops with `SuiteUnavailable` when it cannot be read."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any


class UsageError(Exception):
    """Bad input to the harness (suite, thresholds, baseline, arguments): exit code 2."""


class GeneratorFailed(Exception):
    """The generator could not answer at all (not installed, unreachable, swapped for another):
    exit code 1."""


class SuiteUnavailable(Exception):
    """A suite's dataset or split file cannot be read (one line: what and where)."""


def read_jsonl(path: Path, needs: str = "") -> list[dict[str, Any]]:
    """The records of the JSON Lines file `path`; SuiteUnavailable naming the file, the
    error and `needs` (where the file should come from) when it cannot be read."""
    try:
        with path.open(encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]
    except (OSError, json.JSONDecodeError) as exc:
        where = f"; {needs}" if needs else ""
        raise SuiteUnavailable(f"cannot read {path} ({type(exc).__name__}){where}") from None

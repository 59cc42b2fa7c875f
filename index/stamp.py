"""The generation file beside an embedded store: its version, read in microseconds.

`Store.generation()` changes at every commit and is read once per question (caches are
refreshed on a change). Chroma holds it; the file beside the store holds a copy, so a
question need not ask Chroma for it (0.2-0.5 ms). The file is removed before Chroma changes
and written after, and removed again if that write fails or another process committed in
between, so a reader finds the current value or no file (and then asks Chroma), never an
old value.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable
from pathlib import Path


def read(path: Path) -> float | None:
    """The generation in the file; None when there is none (ask Chroma)."""
    try:
        return float(path.read_text(encoding="ascii"))
    except (OSError, ValueError):
        return None


def drop(path: Path) -> None:
    with contextlib.suppress(OSError):
        path.unlink(missing_ok=True)


def write(path: Path, generation: float, current: Callable[[], float]) -> None:
    """Write `generation` after Chroma holds it; remove the file when that fails or when
    another process committed after us (`current()`, Chroma's value, differs)."""
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(repr(generation), encoding="ascii")
        os.replace(tmp, path)
    except OSError:
        drop(tmp)
        drop(path)
        return
    if current() != generation:
        drop(path)

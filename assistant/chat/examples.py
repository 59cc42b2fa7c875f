"""The example questions under the question box: written beside the documents they are about
(`.examples.toml` in the corpus folder, `ASSISTANT_CORPUS_DIR`), shown for the documents that
are indexed. No document's questions live in code, so a corpus of one's own shows its own
examples, or none."""

from __future__ import annotations

import logging
import tomllib
from pathlib import Path

from assistant.settings import Settings

FILE = ".examples.toml"  # hidden: ingestion skips hidden files, so it is never a document
log = logging.getLogger("assistant.chat")


def written(corpus_dir: Path) -> dict[str, list[str]]:
    """Document name -> its example questions, as the corpus folder's file gives them
    ({} when there is none; an unreadable one is logged and shows none)."""
    path = Path(corpus_dir) / FILE
    if not path.is_file():
        return {}
    try:
        table = tomllib.loads(path.read_text(encoding="utf-8")).get("documents", {})
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        log.warning("example questions: cannot read %s (%s)", path, exc)
        return {}
    return {
        str(name): [str(q) for q in questions if isinstance(q, str) and q.strip()]
        for name, questions in table.items()
        if isinstance(questions, list)
    }


def examples_for(settings: Settings, sources: list[str]) -> list[str]:
    """The example questions of the indexed documents `sources`, in their order."""
    table = written(settings.index.corpus_dir)
    return [q for source in sources for q in table.get(source, [])]

"""A suite's own index: `<ASSISTANT_DATA_DIR>/suites/<name>`, kept between runs and brought
up to date from its documents folder before each run (ingestion is incremental: unchanged
files are skipped, changed ones replaced, deleted ones removed). squad2-open, the injection
suite and a suite over one's own documents (`--suite FILE.jsonl --docs DIR`) each have one,
so the index `assistant ingest` fills is never touched by a run.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any


def suite_settings(settings: Any, name: str) -> Any:
    """`settings` pointing at the suite's own data directory (embedded Chroma), which shares
    the main data directory's assembled model files instead of assembling them again."""
    from assistant.generators.model_file import link_models

    own = settings.updated(
        index={"data_dir": Path(settings.index.data_dir) / "suites" / name, "chroma_url": None}
    )
    models = Path(settings.index.data_dir) / "models"  # assembled there once, shared here
    models.mkdir(parents=True, exist_ok=True)
    link_models(models, own.index.data_dir / "models")
    return own


def own_index(
    settings: Any,
    name: str,
    docs: Path,
    *,
    progress: bool = False,
    on_problem: Callable[[Any], None] | None = None,
) -> Any:
    """The suite's settings, once `docs` is ingested into its index (or brought up to date);
    `on_problem` gets each file that cannot be read."""
    from assistant.question.pipeline import forget_pipelines
    from assistant.stores.corpus import ingest_paths

    own = suite_settings(settings, name)
    report = ingest_paths(own, [docs], progress=progress, on_problem=on_problem)
    if report.added or report.updated or report.removed:
        forget_pipelines()  # a pipeline of the old index must not answer
    return own

"""Ask a suite's items through the real pipeline (`assistant.answer`) for one generator and
score each answer; the ranked retrieval the metrics use is the one `answer()` itself ran
(`Answer.trace.retrieved`).

A crashed item counts as wrong and stays in every denominator.
"""

from __future__ import annotations

import contextlib
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any

from eval.errors import GeneratorFailed
from eval.scoring.aggregate import aggregate
from eval.scoring.gate import Check
from eval.scoring.item import RETRIEVE_DEPTH, ItemResult, score_item
from eval.suites.suite import Item

if TYPE_CHECKING:
    from assistant.types import Answer, RankedChunk


@dataclass
class Run:
    suite: str
    generator: str
    k: int
    started: str
    finished: str
    results: list[ItemResult]
    summary: dict[str, Any]
    checks: list[Check] = field(default_factory=list)
    baseline: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    folder: Path | None = None


AnswerFn = Callable[..., "Answer"]


def ranked_from_trace(answer: Answer) -> list[RankedChunk]:
    """The ranked retrieval `answer()` itself ran (`Answer.trace.retrieved`), best first."""
    return answer.trace.retrieved[:RETRIEVE_DEPTH] if answer.trace else []


def run_generator(
    items: Sequence[Item],
    generator: str,
    settings: Any,
    k: int,
    *,
    answer_fn: AnswerFn,
    progress: bool = True,
) -> list[ItemResult]:
    """Ask every item; an exception on one item makes it a crash, never drops it.

    Raises GeneratorFailed when the generator cannot answer anything (its first successful
    answer never came), or when the pipeline answered with another generator than asked for.
    """
    from tqdm import tqdm

    results: list[ItemResult] = []
    bar = tqdm(
        items,
        desc=f"eval {generator}",
        unit="q",
        disable=not progress,
        file=sys.stderr,
        mininterval=0.1 if sys.stderr.isatty() else 15.0,  # few lines in a CI log
    )
    for item in bar:
        succeeded = any(not r.crashed for r in results)
        results.append(_ask(item, generator, settings, k, answer_fn, succeeded=succeeded))
        bar.set_postfix(ok=sum(r.bucket == "ok" for r in results), refresh=False)
    bar.close()
    return results


def _ask(
    item: Item, generator: str, settings: Any, k: int, answer_fn: AnswerFn, *, succeeded: bool
) -> ItemResult:
    """Ask and score one item; `succeeded`: an earlier item of this run got an answer."""
    from assistant.errors import GeneratorUnavailable

    ranked = None
    answer = None
    error = ""
    started = time.perf_counter()
    try:
        answer = answer_fn(
            item.question, item.history or None, generator=generator, k=k, settings=settings
        )
        ranked = ranked_from_trace(answer)
    except GeneratorUnavailable as exc:
        if not succeeded:
            raise GeneratorFailed(f"generator {generator!r} is unavailable: {exc}") from exc
        error = f"{type(exc).__name__}: {exc}"
    except Exception as exc:  # any failure of one item counts as a wrong answer
        error = f"{type(exc).__name__}: {exc}"
    wall = time.perf_counter() - started
    if answer is not None and not error:
        actual = answer.generator or generator
        if actual != generator:
            raise GeneratorFailed(
                f"asked for generator {generator!r} but {actual!r} answered "
                f"(is {generator!r} installed?)"
            )
    return score_item(item, answer, ranked, k_shown=k, error=error, wall=wall)


def evaluate(
    items: Sequence[Item],
    generator: str,
    settings: Any,
    k: int,
    *,
    progress: bool = True,
    warmup: bool = True,
    suite: str = "seed",
) -> Run:
    """Run the suite for one generator through the real pipeline."""
    from assistant import answer

    if warmup:  # load the embedder, index and model outside the timed items
        first = next((i for i in items if i.answerable), items[0])
        with contextlib.suppress(Exception):  # the scored run reports failures per item
            answer(first.question, generator=generator, k=k, settings=settings)
    started = now()
    results = run_generator(
        items,
        generator,
        settings,
        k,
        answer_fn=answer,
        progress=progress,
    )
    return Run(suite, generator, k, started, now(), results, aggregate(results))


def now() -> str:
    return datetime.now().astimezone().isoformat(timespec="seconds")

"""The squad2-open suite: real SQuAD 2.0 questions over 35 Wikipedia articles.

The data lives outside the repository (`../shared/datasets/squad2-open`, or
`ASSISTANT_SQUAD2_DIR`); the split into a calibration and a test part and the fixed sample
are written down in `eval/suites/squad2_open.toml`. The corpus is ingested into its own data
directory (`<ASSISTANT_DATA_DIR>/suites/squad2-open`), kept between runs and brought up to
date when the files change (ingestion is incremental).
"""

from __future__ import annotations

import os
import random
import tomllib
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from eval.errors import SuiteUnavailable, read_jsonl

EVAL_DIR = Path(__file__).resolve().parent.parent
SPLIT_PATH = Path(__file__).with_name("squad2_open.toml")
DEFAULT_DIR = EVAL_DIR.parent.parent / "shared" / "datasets" / "squad2-open"
NAME = "squad2-open"
PARTS = ("calibration", "test")


def dataset_dir() -> Path:
    return Path(os.environ.get("ASSISTANT_SQUAD2_DIR") or DEFAULT_DIR)


@dataclass(frozen=True)
class Split:
    seed: int
    per_article: dict[str, int]
    articles: dict[str, list[str]]  # part -> article names


def load_split(path: Path = SPLIT_PATH) -> Split:
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        split = Split(
            int(data["seed"]),
            {p: int(data["per_article"][p]) for p in PARTS},
            {p: [str(a) for a in data[p]] for p in PARTS},
        )
    except (OSError, tomllib.TOMLDecodeError, KeyError, TypeError, ValueError) as exc:
        raise SuiteUnavailable(f"cannot read the squad2-open split {path}: {exc!r}") from None
    overlap = set(split.articles["calibration"]) & set(split.articles["test"])
    if overlap:
        raise SuiteUnavailable(f"{path.name}: articles in both parts: {sorted(overlap)}")
    return split


def load_questions(folder: Path | None = None) -> list[dict[str, Any]]:
    path = (folder or dataset_dir()) / "questions.jsonl"
    needs = "the squad2-open suite needs ../shared/datasets/squad2-open beside the project"
    return read_jsonl(path, needs + " or ASSISTANT_SQUAD2_DIR")


def sample(
    part: str, split: Split | None = None, questions: Sequence[dict[str, Any]] | None = None
) -> list[dict[str, Any]]:
    """The fixed sample of one part: per article, `per_article` answerable and as many
    unanswerable questions, in a stable order (article by article)."""
    if part not in PARTS:
        raise SuiteUnavailable(f"unknown part {part!r}; one of {', '.join(PARTS)}")
    split = split or load_split()
    questions = questions if questions is not None else load_questions()
    n = split.per_article[part]
    chosen: list[dict[str, Any]] = []
    for article in split.articles[part]:
        rng = random.Random(f"{split.seed}-{article}")
        for answerable in (True, False):
            pool = [
                q for q in questions if q["article"] == article and q["answerable"] is answerable
            ]
            chosen += rng.sample(pool, min(n, len(pool)))
    return chosen


def ensure_index(settings: Any, *, progress: bool = False) -> Any:
    """Settings pointing at the suite's own index, ingested (or brought up to date) first."""
    from eval.suites.index import own_index

    docs = dataset_dir() / "docs"
    if not docs.is_dir():
        raise SuiteUnavailable(f"no folder {docs}: the squad2-open corpus is missing")
    return own_index(settings, NAME, docs, progress=progress)


def is_correct(question: dict[str, Any], answer: Any) -> bool:
    """The dataset's scoring: an unanswerable question is right when refused; an answerable
    one when the answer is not a refusal, contains a gold answer on token boundaries (SQuAD
    normalisation), and one of its cited passages contains that answer too."""
    from eval.scoring import metrics as m

    if not question["answerable"]:
        return bool(answer.refused)
    if answer.refused:
        return False
    return m.cited_answer(answer.text, [c.text for c in answer.citations], question["answers"])

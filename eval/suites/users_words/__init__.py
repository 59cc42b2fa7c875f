"""The users'-words suite: questions in a reader's own words about the squad2-open articles.

SQuAD's questions were written by people looking at the paragraph, so they copy its words; people
asking about their own documents do not. These questions were written for this project without
reusing the distinctive words of the sentence that answers them: answerable ones
(`users_answerable`), near-misses the articles do not answer (`users_nearmiss`) and off-topic ones
(`users_offtopic`). Split by article exactly like squad2-open (eval/suites/squad2_open.toml):
`eval/suites/users_words/calibration.jsonl` is fitted on (`python -m eval.calibration.calibrate`),
`eval/suites/users_words/test.jsonl` only reports. Every question is asked against all 35 articles
(the squad2-open index).

`validate` checks a part (eval/suites/check.py): evidence found verbatim in its article,
answers inside their evidence, ids unique, every article of the part's side of the split;
`overlap` is the mean share of an answerable question's content words found in its evidence.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

from eval.errors import read_jsonl
from eval.suites import check as suite_check
from eval.suites import squad2_open as squad

FOLDER = Path(__file__).resolve().parent
NAME = "users-words"
TYPES = ("users_answerable", "users_nearmiss", "users_offtopic")


def part_path(part: str) -> Path:
    return FOLDER / f"{part}.jsonl"


def load_part(part: str, path: Path | None = None) -> list[dict[str, Any]]:
    """The raw items of `part` (from `path`, default its file in eval/suites/users_words/);
    SuiteUnavailable, one line, when the file cannot be read."""
    if part not in squad.PARTS:
        raise squad.SuiteUnavailable(f"unknown part {part!r}; one of {', '.join(squad.PARTS)}")
    return read_jsonl(path or part_path(part))


def questions(part: str) -> list[dict[str, Any]]:
    """The items of `part` in squad2-open's question shape (`article`, `answers`, ...)."""
    return [
        {
            "id": r["id"],
            "article": Path(r["source"]).stem if r["source"] else "",
            "question": r["question"],
            "answerable": bool(r["answerable"]),
            "answers": list(r["answers"]),
            "evidence": list(r["evidence"]),
            "nuggets": list(r.get("nuggets", [])),
            "type": r["type"],
        }
        for r in load_part(part)
    ]


def overlap(question: str, evidence: Sequence[str]) -> float:
    """The share of the question's content words (stemmed, stopwords aside) that its
    evidence holds."""
    from assistant.rules.text import content_stems

    words = content_stems(question)
    held = content_stems(" ".join(evidence))
    return len(words & held) / len(words) if words else 0.0


def validate(part: str, path: Path | None = None, docs: Path | None = None) -> list[str]:
    """Every problem of `part` (read from `path`, default its file), one line each (empty
    when it is sound): eval/suites/check.py's checks against each item's own article, and
    every article of the part's side of the split."""
    docs = docs or squad.dataset_dir() / "docs"
    path = path or part_path(part)
    articles = squad.load_split().articles[part]
    texts: dict[str, list[str]] = {}

    def article(item: dict[str, Any]) -> tuple[str, list[str]]:
        source = item["source"]
        if source not in texts:
            file = docs / source
            texts[source] = [file.read_text(encoding="utf-8")] if file.is_file() else []
        return source, texts[source]

    fields = {**suite_check.FIELDS, "source": str}
    rows, problems = suite_check.check_file(path, article, types=TYPES, fields=fields)
    problems += [
        f"{where}: {item['source']} is not an article of the {part} part"
        for where, item in rows
        if isinstance(item.get("source"), str)
        and item["source"]
        and Path(item["source"]).stem not in articles
    ]
    return problems


def mean_overlap(part: str) -> float:
    items = [q for q in questions(part) if q["answerable"]]
    return sum(overlap(q["question"], q["evidence"]) for q in items) / max(1, len(items))

"""A suite file checked before anything is asked: every problem, one line each.

A line is a JSON object with the fields of eval/qa.jsonl (`id`, `question`, `answerable`, `answers`,
`evidence`, `history`, `type`), ids unique, a known type, an answerable item with answers and
evidence, every evidence string found verbatim in a document, and its answers inside its evidence
(every answer, or only the first where aliases may be spelled otherwise, as eval/README.md allows).
Used for the users'-words parts (eval/suites/users_words/__init__.py) and for a suite over one's own
documents (`assistant eval --suite FILE.jsonl --docs DIR`)."""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

FIELDS: dict[str, type] = {
    "id": str,
    "question": str,
    "answerable": bool,
    "answers": list,
    "evidence": list,
    "history": list,
    "type": str,
}

Row = tuple[str, dict[str, Any]]  # where ("qa.jsonl:3 (date-01)") and the item
Documents = Callable[[dict[str, Any]], tuple[str, Sequence[str]]]  # item -> (name, texts)


def check_file(
    path: Path,
    documents: Documents,
    *,
    types: Sequence[str],
    fields: Mapping[str, type] = FIELDS,
    every_answer: bool = True,
) -> tuple[list[Row], list[str]]:
    """The items of `path` and every problem of the file, one line each, in line order."""
    rows, problems = read_rows(path)
    problems += check_rows(rows, documents, types=types, fields=fields, every_answer=every_answer)
    return rows, sorted(problems, key=_line_number)


def _line_number(problem: str) -> int:
    number = re.match(r"[^:]*:(\d+)", problem)
    return int(number.group(1)) if number else 0


def read_rows(path: Path) -> tuple[list[Row], list[str]]:
    """The JSON objects of `path`, one a line, and one problem per line that is not one."""
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except (OSError, UnicodeDecodeError) as exc:
        return [], [f"{path}: cannot read the suite ({exc})"]
    rows: list[Row] = []
    problems: list[str] = []
    for n, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            item = json.loads(line)
        except json.JSONDecodeError as exc:
            problems.append(f"{path.name}:{n}: not JSON ({exc.msg})")
            continue
        if not isinstance(item, dict):
            problems.append(f"{path.name}:{n}: not a JSON object")
            continue
        rows.append((f"{path.name}:{n} ({item.get('id')})", item))
    if not rows and not problems:
        problems.append(f"{path}: the suite is empty")
    return rows, problems


def check_rows(
    rows: Sequence[Row],
    documents: Documents,
    *,
    types: Sequence[str],
    fields: Mapping[str, type] = FIELDS,
    every_answer: bool = True,
) -> list[str]:
    """Every problem of the items, one line each (empty when the suite is sound)."""
    problems: list[str] = []
    seen: set[str] = set()
    for where, item in rows:
        wrong = _field_problems(item, fields)
        if wrong:
            problems += [f"{where}: {w}" for w in wrong]
            continue
        if item["id"] in seen:
            problems.append(f"{where}: duplicate id")
        seen.add(item["id"])
        if item["type"] not in types:
            problems.append(f"{where}: unknown type {item['type']!r}")
        if item["answerable"]:
            problems += [f"{where}: {p}" for p in _evidence_problems(item, documents, every_answer)]
    return problems


def _field_problems(item: dict[str, Any], fields: Mapping[str, type]) -> list[str]:
    missing = [name for name in fields if name not in item]
    if missing:
        return [f"missing field(s) {', '.join(missing)}"]
    wrong = [
        f"{name} must be a {kind.__name__}"
        for name, kind in fields.items()
        if not isinstance(item[name], kind)
    ]
    lists = ("answers", "evidence")
    wrong += [f"{name} must hold strings" for name in lists if _not_strings(item.get(name))]
    history = item.get("history")
    if isinstance(history, list) and not all(_is_pair(turn) for turn in history):
        wrong.append("history must hold [user, assistant] pairs of strings")
    return wrong


def _not_strings(value: Any) -> bool:
    return isinstance(value, list) and not all(isinstance(v, str) for v in value)


def _is_pair(turn: Any) -> bool:
    return isinstance(turn, list) and len(turn) == 2 and all(isinstance(t, str) for t in turn)


def _evidence_problems(item: dict[str, Any], documents: Documents, every: bool) -> list[str]:
    """An answerable item's evidence is in a document, and its answers in its evidence."""
    if not item["answers"] or not item["evidence"]:
        return ["an answerable item needs answers and evidence"]
    name, texts = documents(item)
    problems = [
        f"evidence not found verbatim in {name}: {e[:60]!r}"
        for e in item["evidence"]
        if not any(e in text for text in texts)
    ]
    inside = " ".join(item["evidence"]).casefold()
    answers = item["answers"] if every else item["answers"][:1]
    problems += [
        f"answer {a!r} is not inside its evidence" for a in answers if a.casefold() not in inside
    ]
    return problems

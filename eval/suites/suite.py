"""What `assistant eval` asks: the seed suite (eval/qa.jsonl), the squad2-open sample, the
users'-words questions over the same articles, or a .jsonl file in the seed suite's format
(over the main index, or with `--docs DIR` over DIR's own index), each with the thresholds
and baseline it is gated on.
"""

from __future__ import annotations

import hashlib
import json
import re
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eval.errors import UsageError

EVAL_DIR = Path(__file__).resolve().parent.parent  # eval/: the seed suite and the gates
SUITE_PATH = EVAL_DIR / "qa.jsonl"
THRESHOLDS_PATH = EVAL_DIR / "thresholds.toml"
BASELINE_PATH = EVAL_DIR / "baseline.json"
RESULTS_FOLDER = "eval-results"  # under the data directory, never inside the checkout


def results_dir() -> Path:
    """Where runs write their reports by default: `eval-results/` under ASSISTANT_DATA_DIR
    (read without validating the other settings, so `--compare` works with any)."""
    from assistant.settings import IndexSettings

    return Path(IndexSettings().data_dir) / RESULTS_FOLDER


TYPES = (
    "date",
    "number",
    "person",
    "organization",
    "paraphrase",
    "multi_sentence",
    "followup",
    "unanswerable_offtopic",
    "unanswerable_nearmiss",
    "injection",
    "squad_answerable",
    "squad_unanswerable",
    "users_answerable",
    "users_nearmiss",
    "users_offtopic",
    # the everyday-documents suite (eval/suites/everyday/__init__.py)
    "fact",
    "rule",
    "why",
    "how",
    "list",
    "exception",
    "nearmiss",
    "offtopic",
)


@dataclass(frozen=True)
class Item:
    id: str
    question: str
    answerable: bool
    answers: list[str]
    evidence: list[str]
    history: list[tuple[str, str]]
    type: str
    source: str = ""  # the document the question was written about (squad2-open)
    # The facts a complete answer states, each a list of accepted forms (eval/scoring/nuggets.py);
    # empty: the one nugget is `answers`.
    nuggets: list[list[str]] = field(default_factory=list)

    @property
    def vital(self) -> list[list[str]]:
        """The nuggets scored: the item's own, or its answers as the one nugget."""
        return self.nuggets or ([list(self.answers)] if self.answers else [])


def _parse_item(line: str, where: str) -> Item:
    try:
        return _item(json.loads(line), where)
    except json.JSONDecodeError as exc:
        raise UsageError(f"{where}: not a valid suite item ({exc!r})") from None


def _nuggets(raw: dict[str, Any]) -> list[list[str]]:
    return [[str(f) for f in n] for n in raw.get("nuggets", [])]


def _item(raw: Any, where: str) -> Item:
    """An item from its JSON object, every field present and typed (else a UsageError)."""
    try:
        return Item(
            id=str(raw["id"]),
            question=str(raw["question"]),
            answerable=bool(raw["answerable"]),
            answers=[str(a) for a in raw["answers"]],
            evidence=[str(e) for e in raw["evidence"]],
            history=[(str(u), str(a)) for u, a in raw["history"]],
            type=str(raw["type"]),
            source=str(raw.get("source", "")),
            nuggets=_nuggets(raw),
        )
    except (KeyError, TypeError, ValueError) as exc:
        raise UsageError(f"{where}: not a valid suite item ({exc!r})") from None


def load_suite(path: Path = SUITE_PATH) -> list[Item]:
    """Read and check the suite: one JSON object a line, every field present and typed."""
    items: list[Item] = []
    seen: set[str] = set()
    for lineno, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        where = f"{path.name}:{lineno}"
        item = _parse_item(line, where)
        if item.id in seen:
            raise UsageError(f"{where}: duplicate id {item.id!r}")
        if item.type not in TYPES:
            raise UsageError(f"{where}: unknown type {item.type!r} (one of {', '.join(TYPES)})")
        if item.answerable and (not item.answers or not item.evidence):
            raise UsageError(f"{where}: an answerable item needs answers and evidence")
        seen.add(item.id)
        items.append(item)
    if not items:
        raise UsageError(f"{path}: the suite is empty")
    return items


def suite_digest(path: Path = SUITE_PATH) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()[:16]


@dataclass
class Suite:
    """What one `assistant eval --suite` run asks, and what it is gated against."""

    name: str
    items: list[Item]
    digest: str
    thresholds: Path
    baseline: Path
    settings: Any  # the settings whose index the suite is asked against
    bounded: bool = True  # False: the thresholds file's bounds do not apply, only its margins


def squad_suite(settings: Any, part: str, *, progress: bool = False, users: bool = False) -> Suite:
    """The squad2-open sample of `part` (or with `users`, the users'-words questions of that
    part), with the 35 articles ingested into their own index."""
    from eval.suites import squad2_open as squad
    from eval.suites import users_words

    try:
        questions = users_words.questions(part) if users else squad.sample(part)
        suite_settings = squad.ensure_index(settings, progress=progress)
    except squad.SuiteUnavailable as exc:
        raise UsageError(str(exc)) from None
    items = [
        Item(
            id=q["id"],
            question=q["question"],
            answerable=bool(q["answerable"]),
            answers=[str(a) for a in q["answers"]],
            evidence=list(q.get("evidence", [])),
            history=[],
            type=q.get("type") or ("squad_answerable" if q["answerable"] else "squad_unanswerable"),
            source=f"{q['article']}.txt" if q["article"] else "",
            nuggets=_nuggets(q),
        )
        for q in questions
    ]
    digest = hashlib.sha256("\n".join(i.id for i in items).encode()).hexdigest()[:16]
    base = users_words.NAME if users else squad.NAME
    name = base if part == "test" else f"{base}-{part}"
    return Suite(
        name,
        items,
        digest,
        EVAL_DIR / f"thresholds-{base}.toml",
        EVAL_DIR / f"baseline-{name}.json",
        suite_settings,
    )


def everyday_suite(settings: Any, part: str, *, progress: bool = False) -> Suite:
    """The everyday-documents questions of `part`, asked against that part's documents
    (eval/suites/everyday/__init__.py), checked first like a suite of one's own."""
    from eval.suites import everyday
    from eval.suites.index import own_index

    if part not in everyday.PARTS:
        raise UsageError(f"unknown part {part!r}; one of {', '.join(everyday.PARTS)}")
    problems = everyday.check_part(part)
    if problems:
        raise UsageError("\n".join(problems))
    raw = everyday.load_part(part)
    items = [_item(r, f"everyday/{part}") for r in raw]
    name = everyday.NAME if part == "test" else f"{everyday.NAME}-{part}"
    own = own_index(
        settings,
        name,
        everyday.DOCS / part,
        progress=progress,
        on_problem=lambda p: print(p, file=sys.stderr),
    )
    digest = hashlib.sha256(json.dumps(raw, sort_keys=True).encode()).hexdigest()[:16]
    thresholds = EVAL_DIR / f"thresholds-{everyday.NAME}.toml"
    return Suite(
        name,
        items,
        digest,
        thresholds if thresholds.is_file() else THRESHOLDS_PATH,
        EVAL_DIR / f"baseline-{name}.json",
        own,
        bounded=thresholds.is_file(),
    )


def seed_suite(settings: Any, path: Path = SUITE_PATH) -> Suite:
    return Suite(
        "seed", load_suite(path), suite_digest(path), THRESHOLDS_PATH, BASELINE_PATH, settings
    )


def docs_suite(settings: Any, path: Path, docs: Path, *, progress: bool = False) -> Suite:
    """A .jsonl suite in the seed suite's format over the documents of `docs`: checked against
    them first (every problem one line of the UsageError), then asked against `docs`' own
    index (eval/suites/index.py). Gated on FILE's stem + `.thresholds.toml` beside it when there
    is one, else on the seed suite's margins without its bounds (they were set for the seed
    article); its baseline is FILE's stem + `.baseline.json` beside it."""
    from eval.suites import check as suite_check
    from eval.suites.index import own_index
    from index.load import load_documents

    if not docs.is_dir():
        raise UsageError(f"--docs {docs}: no such folder")
    texts = [doc.text for doc in load_documents([docs], docs)[0]]
    if not texts:
        raise UsageError(f"--docs {docs}: no readable document (.txt .md .html .pdf .docx)")
    everywhere = (f"any document of {docs}", texts)
    _, problems = suite_check.check_file(
        path, lambda item: everywhere, types=TYPES, every_answer=False
    )
    if problems:
        raise UsageError("\n".join(problems))
    resolved = docs.resolve()
    folder = re.sub(r"[^A-Za-z0-9_.-]+", "_", resolved.name) or "docs"
    index = f"docs-{folder}-{hashlib.sha256(str(resolved).encode()).hexdigest()[:8]}"
    own = own_index(
        settings, index, docs, progress=progress, on_problem=lambda p: print(p, file=sys.stderr)
    )
    thresholds = path.with_name(f"{path.stem}.thresholds.toml")
    return Suite(
        path.stem,
        load_suite(path),
        suite_digest(path),
        thresholds if thresholds.is_file() else THRESHOLDS_PATH,
        path.with_name(f"{path.stem}.baseline.json"),
        own,
        bounded=thresholds.is_file(),
    )


def pick_suite(
    name: str, settings: Any, part: str, *, progress: bool, docs: Path | None = None
) -> Suite:
    """The suite `--suite NAME` names: seed, squad2-open (its `part`) or a .jsonl file (with
    `docs`, over those documents)."""
    if docs is not None:
        if not name.endswith(".jsonl"):
            raise UsageError("--docs DIR goes with --suite FILE.jsonl (a suite of your own)")
        return docs_suite(settings, Path(name), docs, progress=progress)
    if name == "everyday":
        return everyday_suite(settings, part, progress=progress)
    if name in ("squad2-open", "users-words"):
        return squad_suite(settings, part, progress=progress, users=name == "users-words")
    if name == "seed":
        return seed_suite(settings)
    if name.endswith(".jsonl"):
        return seed_suite(settings, Path(name))
    raise UsageError(
        f"unknown suite {name!r}; use seed, squad2-open, users-words, everyday or a .jsonl file"
    )


def spread(items: Sequence[Item], limit: int | None) -> list[Item]:
    """`limit` items spread evenly over the suite (so a short run still covers every type)."""
    if limit is None or limit >= len(items):
        return list(items)
    step = len(items) / limit
    return [items[int(i * step)] for i in range(limit)]

"""The everyday-documents suite: policies, manuals, house rules, FAQs, meeting notes and
how-tos, with questions asked the way the people they are written for ask them.

Sixteen invented documents (`eval/suites/everyday/docs/<part>/`, in .md, .txt, .html and .pdf),
split by document into a calibration part (fitted and chosen on) and a test part (only reported).
Each document's questions are `eval/suites/everyday/<part>/<document stem>.jsonl` in the seed
suite's format plus `source` (the document's file name) and `nuggets` (the facts a complete answer
states, `eval.scoring.nuggets`), of the kinds in TYPES. A part is asked against its own documents
only, ingested into the part's own index (`<ASSISTANT_DATA_DIR>/suites/everyday-<part>`).

The PDFs are built from plain-text sources (`eval/suites/everyday/pdf_sources/<part>/<stem>.txt`)
with fpdf2, so their text can be read and changed: `python -m eval.suites.everyday build-pdfs`.
`python -m eval.suites.everyday check` checks both parts (one line per problem) and prints the mean
share of an answerable question's content words found in its evidence, per file.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from datetime import UTC, datetime
from functools import cache
from pathlib import Path
from typing import Any

from eval.scoring.metrics import squash_spaces
from eval.suites import check as suite_check

FOLDER = Path(__file__).resolve().parent
DOCS = FOLDER / "docs"
PDF_SOURCES = FOLDER / "pdf_sources"
NAME = "everyday"
PARTS = ("calibration", "test")
ANSWERABLE_TYPES = ("fact", "rule", "why", "how", "list", "exception", "followup")
TYPES = (*ANSWERABLE_TYPES, "nearmiss", "offtopic")
FIELDS: dict[str, type] = {**suite_check.FIELDS, "source": str, "nuggets": list}
FIXED_DATE = datetime(2026, 12, 6, tzinfo=UTC)
PDF_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf")


def part_files(part: str) -> list[Path]:
    """The question files of `part`, one per document, in name order."""
    return sorted((FOLDER / part).glob("*.jsonl"))


def load_part(part: str) -> list[dict[str, Any]]:
    """Every item of `part`, file by file."""
    if part not in PARTS:
        raise ValueError(f"unknown part {part!r}; one of {', '.join(PARTS)}")
    return [item for path in part_files(part) for item in _read(path)]


def _read(path: Path) -> list[dict[str, Any]]:
    """The items of one question file."""
    lines = path.read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines if line.strip()]


@cache
def document_text(part: str, name: str) -> str:
    """The text ingestion reads from document `name` of `part` ("" when there is none)."""
    from index.load import load_documents

    path = DOCS / part / name
    if not name or not path.is_file():
        return ""
    docs, _ = load_documents([path], path.parent)
    return docs[0].text if docs else ""


def check_part(part: str) -> list[str]:
    """Every problem of `part`'s question files, one line each (empty when it is sound)."""

    def document(item: dict[str, Any]) -> tuple[str, list[str]]:
        # Whitespace-insensitive: a PDF's or a page's extracted text wraps its lines.
        return item["source"], [squash_spaces(document_text(part, item["source"]))]

    problems: list[str] = []
    seen: set[str] = set()
    for path in part_files(part):
        rows, read = suite_check.read_rows(path)
        problems += read
        squashed = [
            (where, {**item, "evidence": [squash_spaces(e) for e in item.get("evidence", [])]})
            if isinstance(item.get("evidence"), list)
            and all(isinstance(e, str) for e in item["evidence"])
            else (where, item)
            for where, item in rows
        ]
        problems += suite_check.check_rows(
            squashed, document, types=TYPES, fields=FIELDS, every_answer=False
        )
        for where, item in rows:
            problems += [f"{where}: {p}" for p in _item_problems(item, part, path, seen)]
    return problems


def _item_problems(item: dict[str, Any], part: str, path: Path, seen: set[str]) -> list[str]:
    from eval.scoring.nuggets import nugget_problems

    problems: list[str] = []
    if item.get("id") in seen:
        problems.append("id used in another file")
    seen.add(str(item.get("id")))
    source = item.get("source")
    if item.get("type") != "offtopic" and source != f"{path.stem}{Path(str(source)).suffix}":
        problems.append(f"source {source!r} is not this file's document ({path.stem}.*)")
    if source and not (DOCS / part / str(source)).is_file():
        problems.append(f"no document {source!r} in {DOCS / part}")
    if item.get("answerable") is False and (item.get("answers") or item.get("nuggets")):
        problems.append("an unanswerable item has no answers and no nuggets")
    if item.get("answerable") and isinstance(item.get("nuggets"), list):
        problems += nugget_problems(item["nuggets"], item.get("evidence", []))
        first = item["nuggets"][0] if item["nuggets"] else []
        if item.get("answers") != first:
            problems.append("answers must be the forms of the first nugget")
    if item.get("type") == "followup" and not item.get("history"):
        problems.append("a followup needs its history")
    return problems


def overlap_per_file(part: str) -> dict[str, float]:
    """Per question file, the mean share of an answerable question's content words that its
    evidence holds (`eval.suites.users_words.overlap`)."""
    from eval.suites.users_words import overlap

    out = {}
    for path in part_files(part):
        items = _read(path)
        scores = [overlap(i["question"], i["evidence"]) for i in items if i.get("answerable")]
        out[path.name] = sum(scores) / len(scores) if scores else 0.0
    return out


def build_pdfs(parts: Sequence[str] = PARTS) -> list[Path]:
    """Each `pdf_sources/<part>/<stem>.txt` as `docs/<part>/<stem>.pdf`: a line of its own
    before a blank line and under 80 characters is a heading, other paragraphs wrap."""
    from fpdf import FPDF

    written = []
    for part in parts:
        for source in sorted((PDF_SOURCES / part).glob("*.txt")):
            pdf = FPDF(format="A4")
            pdf.set_creation_date(FIXED_DATE)  # the same source gives the same bytes
            pdf.set_auto_page_break(auto=True, margin=18)
            pdf.add_page()
            font = "Helvetica"
            if PDF_FONT.is_file():
                pdf.add_font("DejaVu", fname=str(PDF_FONT))
                font = "DejaVu"
            paragraphs = [p.strip() for p in source.read_text(encoding="utf-8").split("\n\n")]
            for para in filter(None, paragraphs):
                heading = "\n" not in para and len(para) < 80 and not para.endswith(".")
                pdf.set_font(font, size=13 if heading else 10.5)
                pdf.multi_cell(0, 7 if heading else 5.5, " ".join(para.split()))
                pdf.ln(3)
            target = DOCS / part / f"{source.stem}.pdf"
            target.parent.mkdir(parents=True, exist_ok=True)
            pdf.output(str(target))
            written.append(target)
    document_text.cache_clear()
    return written


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m eval.suites.everyday", description=__doc__)
    parser.add_argument("action", choices=("check", "build-pdfs"))
    args = parser.parse_args(argv)
    if args.action == "build-pdfs":
        for path in build_pdfs():
            print(f"wrote {path.relative_to(FOLDER.parents[2])}")
        return 0
    bad = 0
    for part in PARTS:
        problems = check_part(part)
        bad += len(problems)
        print("\n".join(problems) or f"{part}: no problem")
        items = load_part(part)
        kinds = {t: sum(i.get("type") == t for i in items) for t in TYPES}
        print(f"{part}: {len(items)} items: " + ", ".join(f"{t} {n}" for t, n in kinds.items()))
        for name, share in overlap_per_file(part).items():
            print(f"  {name}: mean content-word overlap {share:.2f}")
    return 1 if bad else 0

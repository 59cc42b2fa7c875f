"""Feedback on answers (thumbs up or down, a note, and for a thumbs down the right answer
and the passage that holds it), kept in the stores' database (see `assistant.stores.db`) with what
the answer was built from: the question, the standalone question, the history, the answer with its
citations and its trace. `export` turns it into suite items in eval/qa.jsonl's format.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, update

from assistant.rules.citations import strip_markers
from assistant.rules.text import content_stems, content_words, sentences
from assistant.stores.db import Database
from assistant.stores.tables import feedback as table

UP, DOWN = 1, -1


@dataclass
class Feedback:
    rating: int  # UP or DOWN
    question: str
    answer: dict[str, Any]  # Answer.to_dict(): text, refused, citations, trace, ...
    history: list[tuple[str, str]] = field(default_factory=list)
    note: str = ""
    right_answer: str = ""
    passage: str = ""
    owner: str = ""
    conversation: str = ""
    turn: int = -1
    id: int = 0
    created: float = 0.0

    @property
    def standalone(self) -> str:
        return str(self.answer.get("question") or self.question)


_COLUMNS = [c for c in table.c if c.name != "standalone"]  # what _row reads, in its order


def _row(row: Sequence[Any]) -> Feedback:
    id_, owner, conv, turn, created, rating, note, right, passage, question, hist, ans = row
    pairs = [(str(u), str(a)) for u, a in json.loads(hist)]
    return Feedback(
        rating, question, json.loads(ans), pairs, note, right, passage, owner, conv, turn,
        id_, created,
    )  # fmt: skip


class FeedbackStore:
    """The feedback store: the data dir's SQLite file, or the database at `database_url`."""

    def __init__(self, data_dir: Path | str, database_url: str | None = None) -> None:
        self.db = Database(data_dir, database_url)

    def add(self, fb: Feedback) -> int:
        """Store `fb`; a later rating of the same turn of a conversation replaces it."""
        with self.db.begin() as conn:
            if fb.conversation and fb.turn >= 0:
                conn.execute(
                    delete(table).where(
                        table.c.owner == fb.owner,
                        table.c.conversation == fb.conversation,
                        table.c.turn == fb.turn,
                    )
                )
            done = conn.execute(
                insert(table).returning(table.c.id).values(
                    owner=fb.owner, conversation=fb.conversation, turn=fb.turn,
                    created=time.time(), rating=fb.rating, note=fb.note,
                    right_answer=fb.right_answer, passage=fb.passage, question=fb.question,
                    standalone=fb.standalone, history=json.dumps(fb.history),
                    answer=json.dumps(fb.answer),
                )
            )  # fmt: skip
            return int(done.scalar_one())

    def details(self, owner: str, id_: int, note: str, right_answer: str, passage: str) -> bool:
        """Add the note (and a thumbs down's right answer and passage) to feedback `id_`."""
        done = self.db.execute(
            update(table)
            .where(table.c.id == id_, table.c.owner == owner)
            .values(note=note.strip(), right_answer=right_answer.strip(), passage=passage.strip())
        )
        return done.rowcount > 0

    def get(self, owner: str, id_: int) -> Feedback | None:
        """Feedback `id_`, when it is `owner`'s."""
        row = self.db.execute(
            select(*_COLUMNS).where(table.c.id == id_, table.c.owner == owner)
        ).fetchone()
        return _row(row) if row is not None else None

    def all(self) -> list[Feedback]:
        rows = self.db.execute(select(*_COLUMNS).order_by(table.c.id))
        return [_row(r) for r in rows]


# -- export as suite items ----------------------------------------------------------------------


def _passages(fb: Feedback) -> Iterable[str]:
    """The texts the answer was built from: its citations' passages and retrieved chunks."""
    for c in fb.answer.get("citations", []):
        yield str(c.get("text", ""))
    for hit in fb.answer.get("trace", {}).get("retrieved", []):
        yield str(hit.get("text", ""))


def _evidence_for(fb: Feedback) -> str:
    """The user's passage (as pasted: evidence is matched verbatim), else the first sentence
    the answer was built from that holds the right answer, or else all its content words
    ('' when none does)."""
    if fb.passage.strip():
        return fb.passage.strip()
    wanted = fb.right_answer.strip()
    for text in _passages(fb):
        for sentence in sentences(text):
            if wanted and not _missing(wanted, sentence):
                return sentence
    return ""


def _missing(answer: str, passage: str) -> list[str]:
    """The content words of `answer` (stop words out, stemmed: `assistant.rules.text`)
    that `passage` does not hold."""
    held = content_stems(passage)
    return [word for word, stem in content_words(answer) if stem not in held]


def _own_words_item(fb: Feedback, right: str, evidence: str) -> dict:
    """A suite item from a right answer in the person's own words whose content words all
    stand in `evidence`: its nuggets are those words as the evidence writes them (numbers
    first, then the others, as the person ordered them), its answer the evidence's words
    from the first to the last of them."""
    order = {stem: i for i, (_, stem) in enumerate(content_words(right))}  # as the person wrote
    found = [(w, s) for w, s in content_words(evidence) if s in order]  # as the passage has
    numbers_first = sorted(found, key=lambda f: (not f[0][:1].isdigit(), order[f[1]]))
    forms = list(dict.fromkeys(w for w, _ in numbers_first))
    first, last = found[0][0], found[-1][0]
    span = evidence[evidence.find(first) : evidence.rfind(last) + len(last)]
    item = _item(fb, True, [span], [evidence])
    item["nuggets"] = [[form] for form in forms[:8]]
    return item


def _item(fb: Feedback, answerable: bool, answers: list[str], evidence: list[str]) -> dict:
    kind = "users_answerable" if answerable else "users_nearmiss"
    kind = "followup" if fb.history else kind
    return {
        "id": f"feedback-{fb.id}",
        "question": fb.question,
        "answerable": answerable,
        "answers": answers,
        "evidence": evidence,
        "history": [list(p) for p in fb.history],
        "type": kind,
    }


def to_item(fb: Feedback) -> tuple[dict | None, str]:
    """One suite item, or None and why it needs a person's review."""
    refused = bool(fb.answer.get("refused"))
    if fb.rating == UP and refused:  # rightly refused
        return _item(fb, False, [], []), ""
    if fb.rating == UP:
        return _confirmed(fb)
    right = fb.right_answer.strip()
    if not right:
        return None, "thumbs down without a right answer"
    evidence = _evidence_for(fb)
    if not evidence:
        return None, "thumbs down: no passage given or found that holds the right answer's words"
    if right.casefold() in evidence.casefold():
        return _item(fb, True, [right], [evidence]), ""
    if not content_words(right):
        return None, "thumbs down: the right answer holds no word to look for in the passage"
    missing = _missing(right, evidence)
    if missing:
        listed = ", ".join(dict.fromkeys(missing))
        return None, f"thumbs down: the passage does not hold these words of the answer: {listed}"
    return _own_words_item(fb, right, evidence), ""


def _confirmed(fb: Feedback) -> tuple[dict | None, str]:
    """A thumbs up on an answer: the answer as the expected one, its cited quotes (those found
    in their passages, verbatim) as evidence, when the answer's words are inside them (a suite
    item's answers are in its evidence); otherwise it is left for review."""
    cites = fb.answer.get("citations", [])
    quotes = [str(c["quote"]).strip() for c in cites if str(c["quote"]) in str(c["text"])]
    answer = " ".join(strip_markers(str(fb.answer.get("text", ""))).split()).rstrip(".")
    if not quotes or not answer:
        return None, "thumbs up on an answer without citations"
    if answer.casefold() not in " ".join(quotes).casefold():  # as the suite's check reads it
        return None, "thumbs up: the answer is not in its passages' words (write a short one)"
    return _item(fb, True, [answer], quotes), ""


@dataclass
class Export:
    written: int
    review: list[str]  # one line per feedback left out, for a person to look at


def export(data_dir: Path | str, out: Path, database_url: str | None = None) -> Export:
    """Write every feedback that makes a suite item to `out` (JSON lines); the rest are
    returned as review lines (id, why, the question)."""
    lines, review = [], []
    for fb in FeedbackStore(data_dir, database_url).all():
        item, why = to_item(fb)
        if item is None:
            question = " ".join(fb.question.split())
            review.append(f"review feedback-{fb.id}: {why}: {question!r} ({fb.note or 'no note'})")
        else:
            lines.append(json.dumps(item, ensure_ascii=False))
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text("".join(line + "\n" for line in lines), encoding="utf-8")
    return Export(len(lines), review)

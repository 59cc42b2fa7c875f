"""Conversations kept on the server, per owner (a signed-in user, or one browser without
sign-in), in the stores' database (`assistant.db` in the data dir, or PostgreSQL when
`ASSISTANT_DATABASE_URL` names one; see `assistant.stores.db`).

A conversation holds its title, its document scope (the names a question searches; [] is
all) and its turns: the records the chat draws again (`{"q": question, "a": answer dict,
"note": ...}`, or `"stopped"`/`"error"` instead of `"a"`). Every call names the owner, and
no query reaches another owner's rows. `to_markdown` is the export.
"""

from __future__ import annotations

import json
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import delete, insert, select, update

from assistant.stores.db import Database
from assistant.stores.tables import conversations as table

UNTITLED = "New conversation"
TITLE_CHARS = 80


@dataclass
class Summary:
    """A conversation as the sidebar lists it."""

    id: str
    title: str
    updated: float


@dataclass
class Conversation:
    id: str
    owner: str
    title: str
    created: float
    updated: float
    scope: list[str] = field(default_factory=list)
    turns: list[dict[str, Any]] = field(default_factory=list)


def title_for(question: str) -> str:
    """A title from a first question: its first line, cut at TITLE_CHARS."""
    line = " ".join(question.split())
    return line if len(line) <= TITLE_CHARS else line[: TITLE_CHARS - 1].rstrip() + "\u2026"


class Conversations:
    """The conversation store: the data dir's SQLite file, or the database at `database_url`."""

    def __init__(self, data_dir: Path | str, database_url: str | None = None) -> None:
        self.db = Database(data_dir, database_url)
        self._clock = 0.0

    def _now(self) -> float:
        """Strictly increasing timestamps, so 'newest first' is a total order."""
        self._clock = max(time.time(), self._clock + 1e-6)
        return self._clock

    def create(
        self, owner: str, title: str = UNTITLED, scope: Sequence[str] = (), turns: Sequence = ()
    ) -> Conversation:
        now = self._now()
        conv = Conversation(
            secrets.token_urlsafe(12), owner, title_for(title) or UNTITLED, now, now,
            list(scope), list(turns),
        )  # fmt: skip
        self.db.execute(
            insert(table).values(
                id=conv.id, owner=owner, title=conv.title, created=now, updated=now,
                scope=json.dumps(conv.scope), turns=json.dumps(conv.turns),
            )
        )  # fmt: skip
        return conv

    def list(self, owner: str, limit: int | None = None) -> list[Summary]:
        """The owner's conversations, newest (last changed) first."""
        query = (
            select(table.c.id, table.c.title, table.c.updated)
            .where(table.c.owner == owner)
            .order_by(table.c.updated.desc())
            .limit(limit)
        )
        return [Summary(*row) for row in self.db.execute(query)]

    def get(self, owner: str, conversation: str | None) -> Conversation | None:
        if not conversation:
            return None
        row = self.db.execute(select(table).where(*self._mine(owner, conversation))).fetchone()
        if row is None:
            return None
        id_, owner_, title, created, updated, scope, turns = row
        return Conversation(
            id_, owner_, title, created, updated, json.loads(scope), json.loads(turns)
        )

    @staticmethod
    def _mine(owner: str, conversation: str) -> tuple[Any, ...]:
        """The WHERE of one conversation: its id, and only ever its owner's."""
        return (table.c.owner == owner, table.c.id == conversation)

    def _update(self, owner: str, conversation: str, column: str, value: Any) -> bool:
        """Set one column; only new turns move a conversation to the top of the list."""
        assert column in {"title", "scope", "turns"}
        values = {column: value, **({"updated": self._now()} if column == "turns" else {})}
        done = self.db.execute(update(table).where(*self._mine(owner, conversation)).values(values))
        return done.rowcount > 0

    def rename(self, owner: str, conversation: str, title: str) -> bool:
        return self._update(owner, conversation, "title", title_for(title) or UNTITLED)

    def set_scope(self, owner: str, conversation: str, scope: Sequence[str]) -> bool:
        return self._update(owner, conversation, "scope", json.dumps(list(scope)))

    def set_turns(self, owner: str, conversation: str, turns: Sequence[dict]) -> bool:
        return self._update(owner, conversation, "turns", json.dumps(list(turns)))

    def delete(self, owner: str, conversation: str) -> bool:
        return self.db.execute(delete(table).where(*self._mine(owner, conversation))).rowcount > 0


def _sources(answer: dict[str, Any]) -> list[str]:
    lines = []
    for c in answer.get("citations", []):
        page = f" p. {c['page']}" if c.get("page") else ""
        quote = " ".join(str(c.get("quote", "")).split())
        lines.append(f"[{c['number']}] {c['source']}{page} (characters {c['start']}-{c['end']})")
        if quote:
            lines.append(f"    > {quote}")
    return lines


def _turn_markdown(turn: dict[str, Any]) -> list[str]:
    out = [f"## {' '.join(str(turn.get('q', '')).split())}", ""]
    answer = turn.get("a")
    if isinstance(answer, dict):
        out += [str(answer.get("text", "")).strip(), ""]
        if sources := _sources(answer):
            out += ["Sources:", "", "```", *sources, "```", ""]
    elif "stopped" in turn:
        out += [f"{str(turn['stopped']).strip()} (stopped)", ""]
    else:
        out += [f"Error: {turn.get('error', '')}", ""]
    return out


def to_markdown(conv: Conversation) -> str:
    """The conversation as Markdown: each question, its answer with [n] markers, and the
    answer's sources (file, page, characters and the supporting quote)."""
    lines = [f"# {conv.title}", ""]
    if conv.scope:
        lines += [f"Searched only: {', '.join(conv.scope)}", ""]
    for turn in conv.turns:
        lines += _turn_markdown(turn)
    return "\n".join(lines).rstrip() + "\n"

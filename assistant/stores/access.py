"""Who may read, and who may remove or share, each indexed document.

A reader is `user:NAME` (signed in to the chat), `browser:ID` (the chat with sign-in off: one
browser), or None: a caller holding the data dir itself (`answer()`, the CLI, the chat's API
with sign-in off), who reads everything. A document indexed by `assistant ingest` is shared
with everyone; one uploaded from the chat belongs to who uploaded it and is private until
its owner shares it (`assistant.stores.owners`). Only its owner, or an administrator named in
`ASSISTANT_ADMINS`, may remove or share a document; a shared document without an owner may
be removed by an administrator, or from the chat when nobody signs in (it is then one
person's chat, as before documents had owners).
"""

from __future__ import annotations

from collections.abc import Iterable
from functools import cached_property

from assistant.errors import BadInput
from assistant.settings import Settings
from assistant.stores.db import shared_store
from assistant.stores.owners import DocumentOwners, Owner

USER = "user:"


def owners(settings: Settings) -> DocumentOwners:
    return shared_store(DocumentOwners, settings)


class Access:
    """The reading and managing rules over one data dir's ownership rows, read once when
    first asked (a snapshot for one question or request: make a new one for the next)."""

    def __init__(self, settings: Settings) -> None:
        self.owners = owners(settings)
        self.admins = {USER + n.strip() for n in settings.chat.admins.split(",") if n.strip()}

    @cached_property
    def rows(self) -> dict[str, Owner]:
        return self.owners.all()

    def hidden(self, reader: str | None) -> set[str]:
        """The documents `reader` may not read: others' private uploads."""
        if reader is None or reader in self.admins:
            return set()
        return {o.source for o in self.rows.values() if not _may_read(o, reader)}

    def readable(self, reader: str | None, names: Iterable[str]) -> list[str]:
        hidden = self.hidden(reader)
        return [name for name in names if name not in hidden]

    def may_manage(self, reader: str | None, source: str) -> bool:
        return bool(self.manageable(reader, [source]))

    def manageable(self, reader: str | None, names: Iterable[str]) -> list[str]:
        """Of `names`, those `reader` may remove or share."""
        if reader is None or reader in self.admins:
            return list(names)
        return [n for n in names if _may_manage(self.rows.get(n), reader)]

    def check_manage(self, reader: str | None, source: str, doing: str) -> None:
        """Raise BadInput (one line) unless `reader` may `doing` ("remove", "share") it."""
        if reader is not None and source in self.hidden(reader):
            raise BadInput(f"no indexed document is called {source!r}")
        if not self.may_manage(reader, source):
            raise BadInput(f"only the owner of {source} (or an administrator) may {doing} it")


def _may_read(row: Owner, reader: str) -> bool:
    return row.shared or row.owner == reader


def _may_manage(row: Owner | None, reader: str) -> bool:
    if row is None:  # shared by `assistant ingest`: the chat's one person, without sign-in
        return not reader.startswith(USER)
    return row.owner == reader

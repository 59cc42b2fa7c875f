"""The documents panel's events: the list (read from the index on every page load and
whenever the index changes, by anyone), adding files and removing a document.

The list is never a snapshot of start-up: the page reads it when it loads, after each of its
own changes, and every few seconds (a cheap read of the index's manifest; nothing is sent
when it is unchanged), so uploads from another browser or `assistant ingest` show up too.

Removal has two doors: the page's Remove button, which puts any problem in the Result box
as one line and leaves the table as it was, and the `remove_document` API endpoint, which
takes any indexed name and fails with one line for an unknown one.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from pathlib import Path
from typing import Any

from assistant.chat import documents
from assistant.chat.sidebar import api_reader, page_reader
from assistant.chat.status import render_status
from assistant.errors import AssistantError, describe
from assistant.settings import Settings
from assistant.stores.access import Access
from index.offline import go_offline

go_offline()  # before Gradio is imported: no analytics, no telemetry
import gradio as gr  # noqa: E402

log = logging.getLogger("assistant.chat")
REFRESH_SECONDS = 4.0  # how often an open page looks for changes made elsewhere
PICK_ONE = "Pick a document first."
Rows = list[list[Any]]


class DocumentPanel:
    """The documents panel's handlers for these settings."""

    def __init__(self, settings: Settings, *, auth_required: bool = False) -> None:
        self.settings = settings
        self.auth_required = auth_required

    def rows(self, reader: str | None) -> Rows:
        try:
            return documents.document_rows(self.settings, reader)
        except Exception as exc:  # the panel must never break the page
            log.warning("documents list: %s", exc)
            return []

    # -- the list ----------------------------------------------------------------------------
    def refresh(
        self,
        shown: Any,
        choice: Any,
        generator: Any,
        owner: Any,
        browser_id: Any,
        request: gr.Request,
    ) -> tuple[Any, ...]:
        """The list of what this page's reader may read, the names they may remove or share
        and the status line, when the index changed since this page last showed them
        (`shown`); otherwise nothing is sent. The reader is known from the browser's id too,
        before the page's load has set `owner` (the list read then would lack the browser's
        own uploads, and the scope would drop them)."""
        reader = page_reader(request, owner, browser_id)
        rows = self.rows(reader)
        if shown is not None and rows == shown:
            return (gr.skip(),) * 4
        try:
            names = Access(self.settings).manageable(reader, [str(r[0]) for r in rows])
        except AssistantError as exc:
            log.warning("documents list: %s", exc)
            names = []
        return (
            rows,
            rows,
            gr.update(choices=names, value=choice if choice in names else None),
            render_status(self.settings, generator or None, reader),
        )

    # -- signing in ----------------------------------------------------------------------------
    def signed_in(self, request: gr.Request | None) -> bool:
        return not self.auth_required or bool(getattr(request, "username", None))

    def check_signed_in(self, request: gr.Request | None) -> None:
        if not self.signed_in(request):
            raise gr.Error("sign in to add or remove documents", print_exception=False)

    # -- adding --------------------------------------------------------------------------------
    def add_documents(
        self,
        files: list[str] | None,
        owner: Any,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's way)
    ) -> tuple[str, Rows]:
        """Add files of the types `assistant ingest` reads to the index (the same
        ingestion). Returns the summary line (and one line per skipped file) and the list of
        indexed documents with their chunk counts. An upload from the page (or by a
        signed-in user) is its uploader's private document until shared."""
        self.check_signed_in(request)
        reader = page_reader(request, owner) or None  # an API call without sign-in: shared
        named = [(Path(str(f)).name, Path(str(f))) for f in files or []]

        def step(i: int, n: int, what: str) -> None:
            # Checking each file, then (ingestion) reading and embedding: real counts.
            if what == "chunks":
                progress((i, n), desc="embedding chunks", unit="chunks")
            elif what == "files":
                progress((i, n), desc="reading files", unit="files")
            else:
                progress((i, n), desc=f"checking {what}", unit="files")

        try:
            result = documents.add_documents(self.settings, named, on_step=step, owner=reader)
        except AssistantError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception as exc:
            log.exception("upload: unexpected failure")
            raise gr.Error(f"unexpected {describe(exc)}", print_exception=False) from None
        return result.lines(), self.rows(reader)

    # -- removing ------------------------------------------------------------------------------
    def remove_document(self, source: str | None, request: gr.Request) -> tuple[str, Rows]:
        """Take one indexed document out of the index, by its name as the list shows it (an
        uploaded one's file is deleted too). Returns the one-line result and the list."""
        return self._on_api("remove", source, request, documents.remove_document)

    def remove_from_page(self, source: Any, owner: Any, request: gr.Request) -> tuple[Any, Any]:
        """The Remove button: the result as one line in the Result box; on a problem the
        table stays as it was."""
        return self._on_page("removed", source, owner, request, documents.remove_document)

    def share_from_page(self, source: Any, owner: Any, request: gr.Request) -> tuple[Any, Any]:
        """The Share button: the picked document of mine is read by everyone."""
        return self._on_page("shared", source, owner, request, _sharing(True))

    def private_from_page(self, source: Any, owner: Any, request: gr.Request) -> tuple[Any, Any]:
        """The Make private button: the picked document of mine is read by me only."""
        return self._on_page("made private", source, owner, request, _sharing(False))

    def _on_page(
        self, done: str, source: Any, owner: Any, request: gr.Request, act: Act
    ) -> tuple[Any, Any]:
        if not self.signed_in(request):
            return "Sign in to add, remove or share documents.", gr.skip()
        if isinstance(source, list):
            source = source[0] if source else None
        if not source or not str(source).strip():
            return PICK_ONE, gr.skip()
        reader = page_reader(request, owner)
        try:
            line = act(self.settings, str(source).strip(), reader)
        except AssistantError as exc:
            return f"Not {done}: {exc}", gr.skip()
        except Exception as exc:
            log.exception("documents: unexpected failure")
            return f"Not {done}: unexpected {describe(exc)}", gr.skip()
        return line, self.rows(reader)

    def share_document(
        self, source: str | None, shared: bool | None, request: gr.Request
    ) -> tuple[str, Rows]:
        """Share one of my documents with everyone (`shared` true), or make it private
        again. Returns the one-line result and the list."""
        return self._on_api("share", source, request, _sharing(bool(shared)))

    def _on_api(
        self, doing: str, source: str | None, request: gr.Request, act: Act
    ) -> tuple[str, Rows]:
        """An endpoint's change to one document: one line back, or a one-line error."""
        self.check_signed_in(request)
        if not source or not str(source).strip():
            raise gr.Error(f"name the document to {doing}", print_exception=False)
        reader = api_reader(request)
        try:
            line = act(self.settings, str(source).strip(), reader)
        except AssistantError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        return line, self.rows(reader)


Act = Callable[[Settings, str, "str | None"], str]


def _sharing(shared: bool) -> Act:
    def act(settings: Settings, source: str, reader: str | None) -> str:
        return documents.share_document(settings, source, reader, shared)

    return act

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
from pathlib import Path
from typing import Any

from assistant.chat import documents
from assistant.chat.status import render_status
from assistant.errors import AssistantError, describe
from assistant.settings import Settings
from index.offline import go_offline

go_offline()  # before Gradio is imported: no analytics, no telemetry
import gradio as gr  # noqa: E402

log = logging.getLogger("assistant.chat")
REFRESH_SECONDS = 4.0  # how often an open page looks for changes made elsewhere
PICK_ONE = "Pick a document to remove first."
Rows = list[list[Any]]


class DocumentPanel:
    """The documents panel's handlers for these settings."""

    def __init__(self, settings: Settings, *, auth_required: bool = False) -> None:
        self.settings = settings
        self.auth_required = auth_required

    def rows(self) -> Rows:
        try:
            return documents.document_rows(self.settings)
        except Exception as exc:  # the panel must never break the page
            log.warning("documents list: %s", exc)
            return []

    # -- the list ----------------------------------------------------------------------------
    def refresh(self, shown: Any, choice: Any, generator: Any) -> tuple[Any, ...]:
        """The list, the names to remove and the status line, when the index changed since
        this page last showed them (`shown`); otherwise nothing is sent."""
        rows = self.rows()
        if shown is not None and rows == shown:
            return (gr.skip(),) * 4
        names = [str(r[0]) for r in rows]
        return (
            rows,
            rows,
            gr.update(choices=names, value=choice if choice in names else None),
            render_status(self.settings, generator or None),
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
        request: gr.Request,
        progress: gr.Progress = gr.Progress(),  # noqa: B008 (Gradio's way)
    ) -> tuple[str, Rows]:
        """Add files of the types `assistant ingest` reads to the index (the same
        ingestion). Returns the summary line (and one line per skipped file) and the list of
        indexed documents with their chunk counts."""
        self.check_signed_in(request)
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
            result = documents.add_documents(self.settings, named, on_step=step)
        except AssistantError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        except Exception as exc:
            log.exception("upload: unexpected failure")
            raise gr.Error(f"unexpected {describe(exc)}", print_exception=False) from None
        return result.lines(), self.rows()

    # -- removing ------------------------------------------------------------------------------
    def remove_document(self, source: str | None, request: gr.Request) -> tuple[str, Rows]:
        """Take one indexed document out of the index, by its name as the list shows it (an
        uploaded one's file is deleted too). Returns the one-line result and the list."""
        self.check_signed_in(request)
        if not source or not str(source).strip():
            raise gr.Error("name the document to remove", print_exception=False)
        try:
            line = documents.remove_document(self.settings, str(source).strip())
        except AssistantError as exc:
            raise gr.Error(str(exc), print_exception=False) from None
        return line, self.rows()

    def remove_from_page(self, source: Any, request: gr.Request) -> tuple[Any, Any]:
        """The Remove button: the result as one line in the Result box; on a problem the
        table stays as it was."""
        if not self.signed_in(request):
            return "Sign in to add or remove documents.", gr.skip()
        if isinstance(source, list):
            source = source[0] if source else None
        if not source or not str(source).strip():
            return PICK_ONE, gr.skip()
        try:
            line = documents.remove_document(self.settings, str(source).strip())
        except AssistantError as exc:
            return f"Not removed: {exc}", gr.skip()
        except Exception as exc:
            log.exception("remove: unexpected failure")
            return f"Not removed: unexpected {describe(exc)}", gr.skip()
        return line, self.rows()

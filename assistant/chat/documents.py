"""Documents added from the page: checked, copied into the uploads folder, then ingested.

Uploaded files land in `<data dir>/uploads/` under a safe base name and are indexed by the
same code as `assistant ingest` (`assistant.stores.corpus.ingest_paths`), named `uploads/NAME`.
Before anything is written each file is checked: its name (a plain base name, no path, no
leading dot), its size (per file and per upload), its type by extension *and* by content,
and that its text can be extracted (the CLI's reader, so the CLI's one-line reasons). A file
that fails gets one line ("skipped NAME: reason") and changes nothing: it is read from a
staging copy, so an earlier upload of the same name stays as it was.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import threading
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from assistant.errors import BadInput
from assistant.settings import Settings
from assistant.stores import corpus
from assistant.stores.access import Access
from assistant.stores.owners import Owner
from index.load import SUPPORTED_SUFFIXES, LoadProblem, UnreadableFile, read_text

UPLOADS = "uploads"  # folder under the data dir, and the sources' prefix
_one_upload = threading.Lock()  # uploads run one after the other, checks and ingestion alike
_MB = 1024 * 1024
# What a text file must not start with: other formats' signatures.
_BINARY_MAGIC = {
    b"%PDF-": "a PDF",
    b"PK\x03\x04": "a ZIP archive (or an Office document)",
    b"\x89PNG": "a PNG image",
    b"GIF8": "a GIF image",
    b"\xff\xd8\xff": "a JPEG image",
    b"\x7fELF": "a program",
    b"MZ": "a Windows program",
    b"\x1f\x8b": "a gzip archive",
    b"\xd0\xcf\x11\xe0": "an old Office document",
}


@dataclass
class UploadResult:
    summary: str  # the ingestion summary line (as `assistant ingest` prints it)
    problems: list[str] = field(default_factory=list)  # "skipped NAME: reason", one each
    added: list[str] = field(default_factory=list)  # sources written

    def lines(self) -> str:
        return "\n".join([self.summary, *self.problems])


def uploads_dir(settings: Settings) -> Path:
    return settings.index.data_dir / UPLOADS


def safe_name(name: str) -> str:
    """`name` as a plain file name for the uploads folder; raises BadInput when it is not
    one (a path, a leading dot, control characters, an unsupported type)."""
    name = unicodedata.normalize("NFC", str(name)).strip()
    if any(sep in name for sep in ("/", "\\")) or ".." in name:
        raise BadInput("the file name holds a path; upload the file under a plain name")
    if not name or name.startswith(".") or any(unicodedata.category(c)[0] == "C" for c in name):
        raise BadInput("not a plain file name")
    if len(name.encode("utf-8")) > 200:
        raise BadInput("the file name is longer than 200 bytes")
    if Path(name).suffix.lower() not in SUPPORTED_SUFFIXES:
        raise BadInput(
            f"unsupported file type '{Path(name).suffix or name}' "
            f"(send {' '.join(sorted(set(SUPPORTED_SUFFIXES)))})"
        )
    return name


def content_problem(path: Path, suffix: str) -> str | None:
    """Why the content does not match the extension, or None."""
    with open(path, "rb") as f:
        head = f.read(8192)
    if suffix == ".pdf":
        return None if head.lstrip()[:5] == b"%PDF-" else "not a PDF (no %PDF header)"
    if suffix == ".docx":  # a Word document is a ZIP archive
        return None if head.startswith(b"PK\x03\x04") else "not a Word document (no ZIP header)"
    for magic, kind in _BINARY_MAGIC.items():
        if head.startswith(magic):
            return f"the content is {kind}, not {suffix[1:].upper()} text"
    return None  # binary content without a signature: the reader says so (index.load)


def _mb(size: float) -> str:
    return f"{size / _MB:.1f} MB"


def add_documents(
    settings: Settings,
    files: Sequence[tuple[str, Path]],
    on_step: Callable[[int, int, str], None] | None = None,
    owner: str | None = None,
) -> UploadResult:
    """Check, copy and index uploaded files, given as (name, path of the uploaded copy).
    With an `owner` (`assistant.stores.access`) each file becomes that owner's private document
    (claimed before it is indexed, so nobody else ever reads it); a name another owner's
    document holds is skipped. Without one the files are shared, as `assistant ingest`'s.

    Raises BadInput (nothing written) when the upload as a whole is over its limits.
    """
    limits = settings.uploads
    if not files:
        raise BadInput("no file in the upload")
    if len(files) > limits.max_upload_files:
        raise BadInput(f"{len(files)} files in one upload; the limit is {limits.max_upload_files}")
    total = sum(os.path.getsize(p) for _, p in files)
    if total > limits.max_upload_mb * _MB:
        raise BadInput(f"the upload is {_mb(total)}; the limit is {limits.max_upload_mb:g} MB")

    with _one_upload:
        return _add(settings, files, on_step, owner)


def _add(
    settings: Settings,
    files: Sequence[tuple[str, Path]],
    on_step: Callable[[int, int, str], None] | None,
    owner: str | None,
) -> UploadResult:
    access = Access(settings)
    indexed = corpus.documents(settings)
    folder, per_file_mb = uploads_dir(settings), settings.uploads.max_upload_file_mb
    problems: list[LoadProblem] = []
    accepted: list[tuple[Path, Path]] = []  # (staged copy, final place)
    taken: set[str] = set()
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging-", dir=folder))
    try:
        for i, (raw_name, path) in enumerate(files):
            shown = Path(str(raw_name).replace("\\", "/")).name or str(raw_name)
            if on_step:
                on_step(i, len(files), shown)
            try:
                name = safe_name(raw_name)
                if name.lower() in taken:
                    raise BadInput("the same name twice in one upload")
                if f"{UPLOADS}/{name}" in indexed and not access.may_manage(
                    owner, f"{UPLOADS}/{name}"
                ):
                    raise BadInput("another person's document has this name; rename the file")
                staged = _staged(path, staging / name, per_file_mb)
            except (BadInput, UnreadableFile) as exc:
                problems.append(LoadProblem(f"{UPLOADS}/{shown}", str(exc)))
                continue
            taken.add(name.lower())
            accepted.append((staged, folder / name))
        for staged, final in accepted:
            _own(access, f"{UPLOADS}/{final.name}", owner)
            os.replace(staged, final)
    finally:
        shutil.rmtree(staging, ignore_errors=True)

    if accepted:
        report = corpus.ingest_paths(
            settings,
            [final for _, final in accepted],
            root=settings.index.data_dir,
            on_progress=(lambda what, i, n: on_step(i, n, what)) if on_step else None,
        )
        problems += report.problems
        report.problems = problems
        summary = report.summary()
    else:
        summary = f"documents: nothing added; {len(problems)} file(s) skipped"
    return UploadResult(
        summary,
        [str(p) for p in problems],
        [f"{UPLOADS}/{final.name}" for _, final in accepted],
    )


def _staged(path: Path, staged: Path, per_file_mb: float) -> Path:
    """The uploaded file copied to `staged`, once its size, type and text are checked."""
    size = os.path.getsize(path)
    if size > per_file_mb * _MB:
        raise BadInput(f"{_mb(size)} is over the {per_file_mb:g} MB limit per file")
    shutil.copyfile(path, staged)
    problem = content_problem(staged, staged.suffix.lower())
    if problem:
        raise BadInput(problem)
    read_text(staged)  # the CLI's reader: empty, binary, damaged PDF, ...
    return staged


def _own(access: Access, source: str, owner: str | None) -> None:
    """Before it is indexed: the document is `owner`'s (private), or shared (None)."""
    if owner is None:  # as `assistant ingest` indexes it
        access.owners.forget(source)
    else:
        access.owners.claim(source, owner)


def remove_document(settings: Settings, source: str, reader: str | None = None) -> str:
    """Take a document out of the index; an uploaded one's file goes too. One line back.
    Raises BadInput unless `reader` may remove it (`assistant.stores.access`)."""
    Access(settings).check_manage(reader, source, "remove")
    record = corpus.remove(settings, source)
    folder = uploads_dir(settings).resolve()
    if record.path:
        path = Path(record.path)
        if path.parent.resolve() == folder and path.is_file():
            path.unlink()
    return f"removed {source} ({record.chunks} chunks)"


def share_document(settings: Settings, source: str, reader: str | None, shared: bool) -> str:
    """Share `reader`'s document with everyone, or make it private again. One line back;
    raises BadInput unless `reader` may share it (`assistant.stores.access`)."""
    access = Access(settings)
    if source not in corpus.documents(settings):
        raise BadInput(f"no indexed document is called {source!r}")
    access.check_manage(reader, source, "share")
    if not access.owners.set_shared(source, shared):
        raise BadInput(f"{source} was indexed for everyone (assistant ingest): it is shared")
    return f"shared {source} with everyone" if shared else f"{source} is private again"


def access_label(row: Owner | None, reader: str | None) -> str:
    """Who reads a document, as the documents table says it."""
    if row is None:
        return "everyone"
    if row.owner != reader:
        return "everyone" if row.shared else "private"  # an administrator's view
    return "everyone (yours)" if row.shared else "only you"


def document_rows(settings: Settings, reader: str | None = None) -> list[list]:
    """[source, chunks, who reads it] for each document `reader` may read, by name."""
    access = Access(settings)
    docs = corpus.documents(settings)
    hidden = access.hidden(reader) if docs else set()
    return [
        [s, r.chunks, access_label(access.rows.get(s), reader)]
        for s, r in sorted(docs.items())
        if s not in hidden
    ]

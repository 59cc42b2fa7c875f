"""Read .txt, .md, .html and .pdf files into Documents that keep their full text.

Every Document carries its path relative to the corpus root and the exact text that chunk
offsets point into, so a citation can always be traced back to characters of that text.
Files that cannot be read are reported as LoadProblems (one line each) and skipped.
"""

from __future__ import annotations

import hashlib
import logging
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf")


@dataclass(frozen=True)
class Document:
    source: str  # path relative to the corpus root, with forward slashes
    text: str
    sha256: str  # of the extracted text


@dataclass(frozen=True)
class LoadProblem:
    path: str
    reason: str

    def __str__(self) -> str:
        return f"skipped {self.path}: {self.reason}"


class UnreadableFile(Exception):
    """A file whose text cannot be extracted; the message says why in a few words."""


def text_sha256(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def _read_plain(path: Path) -> str:
    try:
        return path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise UnreadableFile(f"not valid UTF-8 (byte {exc.start})") from None


def _read_html(path: Path) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_read_plain(path), "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line)


def _read_pdf(path: Path) -> str:
    from pypdf import PdfReader

    logging.getLogger("pypdf").setLevel(logging.ERROR)  # its warnings are not our one line
    try:
        reader = PdfReader(path, strict=False)
        pages = [page.extract_text() or "" for page in reader.pages]
    except OSError:
        raise
    except Exception as exc:  # pypdf raises many types on damaged files (AttributeError, ...)
        raise UnreadableFile(f"not a readable PDF ({type(exc).__name__})") from None
    return "\n\n".join(page.strip() for page in pages if page.strip())


_READERS = {
    ".txt": _read_plain,
    ".md": _read_plain,
    ".markdown": _read_plain,
    ".html": _read_html,
    ".htm": _read_html,
    ".pdf": _read_pdf,
}


def read_text(path: Path) -> str:
    """The text of one supported file; raises UnreadableFile with a short reason."""
    reader = _READERS.get(path.suffix.lower())
    if reader is None:
        raise UnreadableFile(f"unsupported file type '{path.suffix or path.name}'")
    try:
        text = reader(path)
    except OSError as exc:
        raise UnreadableFile(exc.strerror or type(exc).__name__) from None
    if not text.strip():
        raise UnreadableFile("no text in it")
    return text


def iter_files(paths: Iterable[Path]) -> Iterator[Path]:
    """Files under the given paths (recursively, sorted, hidden entries skipped)."""
    for path in paths:
        if path.is_dir():
            for dirpath, dirnames, filenames in os.walk(path):
                dirnames[:] = sorted(d for d in dirnames if not d.startswith("."))
                for name in sorted(filenames):
                    if not name.startswith("."):
                        yield Path(dirpath) / name
        else:
            yield path


def relative_source(path: Path, root: Path) -> str:
    # Resolve the folders but not the file itself: a symlinked file keeps its link name.
    full = path.parent.resolve() / path.name
    try:
        return full.relative_to(root.resolve()).as_posix()
    except ValueError:
        return full.as_posix()


def load_documents(paths: Iterable[Path], root: Path) -> tuple[list[Document], list[LoadProblem]]:
    """Load every supported file under `paths`; sources are relative to `root`."""
    docs: list[Document] = []
    problems: list[LoadProblem] = []
    for path in iter_files(paths):
        source = relative_source(path, root)
        try:
            text = read_text(path)
        except UnreadableFile as exc:
            problems.append(LoadProblem(source, str(exc)))
            continue
        docs.append(Document(source=source, text=text, sha256=text_sha256(text)))
    return docs, problems

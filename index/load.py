"""Read .txt, .md, .html, .pdf and .docx files into Documents that keep their full text.

Every Document carries its path relative to the corpus root and the exact text that chunk
offsets point into, so a citation can always be traced back to characters of that text (a
PDF's pages are separated by form feeds, which give a citation its page).
Text files may be in any common encoding (detected with charset-normalizer, see
`decode_text`). Files that cannot be read are reported as LoadProblems (one line each) and
skipped.
"""

from __future__ import annotations

import codecs
import hashlib
import logging
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

SUPPORTED_SUFFIXES = (".txt", ".md", ".markdown", ".html", ".htm", ".pdf", ".docx")


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


# Byte-order marks, longest first (UTF-32 LE starts with UTF-16 LE's).
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF32_BE, "utf-32", "UTF-32"),
    (codecs.BOM_UTF8, "utf-8-sig", "UTF-8"),
    (codecs.BOM_UTF16_LE, "utf-16", "UTF-16"),
    (codecs.BOM_UTF16_BE, "utf-16", "UTF-16"),
)
# Among equally likely guesses, the encodings a Western text most often is in (WHATWG's
# default for "latin-1" labelled text is windows-1252).
_PREFERRED = ("utf_8", "cp1252", "latin_1", "iso8859_15")
_TEXT_CONTROLS = set("\t\n\r\f\v")


def _guess(data: bytes) -> str | None:
    """The text of `data` in the encoding charset-normalizer finds likeliest, or None."""
    from charset_normalizer import from_bytes

    matches = list(from_bytes(data))
    if not matches:
        return None
    best = matches[0]
    ties = [m for m in matches if m.chaos <= best.chaos and m.coherence >= best.coherence]
    for name in _PREFERRED:
        for match in ties:
            if name == match.encoding or name in match.could_be_from_charset:
                return data.decode(name)
    return str(best)


def _looks_binary(text: str) -> bool:
    controls = sum(1 for c in text if ord(c) < 32 and c not in _TEXT_CONTROLS)
    return "\x00" in text or controls > max(2, len(text) // 100)


def decode_text(data: bytes) -> str:
    """Bytes of a text file as text: a byte-order mark decides, else UTF-8, else the
    encoding charset-normalizer detects (Latin-1/Windows-1252, UTF-16 without a mark,
    Shift-JIS, ...). Raises UnreadableFile for what is not text in any of them."""
    for bom, codec, name in _BOMS:
        if data.startswith(bom):
            try:
                return data.decode(codec)
            except UnicodeDecodeError as exc:
                raise UnreadableFile(f"not valid {name} (byte {exc.start})") from None
    text: str | None = None
    if b"\x00" not in data:  # NUL bytes: UTF-16/32 without a mark, or binary
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError:
            text = None
    if text is None:
        text = _guess(data)
    if text is None or _looks_binary(text):
        raise UnreadableFile("the content is binary, not text")
    return text


def _read_plain(path: Path) -> str:
    return decode_text(path.read_bytes())


_INVISIBLE = re.compile(
    r"(?:^|;)\s*(?:display\s*:\s*none|visibility\s*:\s*hidden|font-size\s*:\s*0(?:px|em|pt)?"
    r"\s*(?:;|$)|opacity\s*:\s*0(?:\.0+)?\s*(?:;|$))",
    re.IGNORECASE,
)


def _hidden(tag: Any) -> bool:
    """An element a reader never sees: `hidden`, `aria-hidden="true"`, or a style that
    hides it (display:none, visibility:hidden, zero size or opacity)."""
    attrs = getattr(tag, "attrs", None) or {}
    if "hidden" in attrs or str(attrs.get("aria-hidden", "")).strip().lower() == "true":
        return True
    return bool(_INVISIBLE.search(str(attrs.get("style", ""))))


def _read_html(path: Path) -> str:
    from bs4 import BeautifulSoup

    soup = BeautifulSoup(_read_plain(path), "html.parser")
    for tag in soup(["script", "style", "noscript", "template"]):
        tag.decompose()
    for tag in soup.find_all(_hidden):  # a reader never sees it: text only a model would
        if not tag.decomposed:
            tag.decompose()
    lines = (line.strip() for line in soup.get_text("\n").splitlines())
    return "\n".join(line for line in lines if line)


# Between the pages of a PDF's text, on a line of its own (as pdftotext marks pages): page n
# is the text after the (n-1)th one, so an offset's page is one count away (`page_at`).
PAGE_BREAK = "\f"


def is_paged(source: str) -> bool:
    """Whether the document's text marks its pages (a PDF's does)."""
    return source.lower().endswith(".pdf")


def page_at(text: str, offset: int, start: int = 0, page: int = 1) -> int:
    """The 1-based page of `text[offset]` in a paged text; counting may resume from an
    earlier offset `start` known to be on `page`."""
    return page + text.count(PAGE_BREAK, start, offset)


def page_bounds(text: str, page: int) -> tuple[int, int]:
    """The offsets of the 1-based `page`'s text in a paged text, without the line breaks
    around its form feeds (a page past the last is the last)."""
    lo, seen = 0, 1
    while seen < page:
        at = text.find(PAGE_BREAK, lo)
        if at < 0:
            break
        lo, seen = at + 1, seen + 1
    hi = text.find(PAGE_BREAK, lo)
    hi = len(text) if hi < 0 else hi
    if seen < page:  # there are fewer pages: the last one
        return page_bounds(text, seen)
    while lo < hi and text[lo] == "\n":
        lo += 1
    while hi > lo and text[hi - 1] == "\n":
        hi -= 1
    return lo, hi


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
    if not any(page.strip() for page in pages):
        return ""
    # Every page, an empty one too, so that the page breaks count pages.
    texts = (page.replace(PAGE_BREAK, "\n").strip() for page in pages)
    return f"\n{PAGE_BREAK}\n".join(texts)


def _read_docx(path: Path) -> str:
    """A Word document's paragraphs and tables in document order: one line per paragraph,
    one line per table row with its cells (a merged cell once) separated by " | "."""
    try:
        import docx
    except ImportError:  # pragma: no cover - a dependency; a broken install says what to do
        raise UnreadableFile("reading .docx needs python-docx (pip install python-docx)") from None
    from docx.table import Table

    try:
        document = docx.Document(str(path))
        lines: list[str] = []
        for block in document.iter_inner_content():
            if isinstance(block, Table):
                for row in block.rows:
                    cells = list(dict.fromkeys(c for c in row.cells))  # merged cells repeat
                    texts = (" ".join(c.text.split()) for c in cells)
                    lines.append(" | ".join(t for t in texts if t))
            else:
                lines.append(block.text.strip())
    except OSError:
        raise
    except Exception as exc:  # not a zip, no word/document.xml, bad XML, ...
        raise UnreadableFile(f"not a readable Word document ({type(exc).__name__})") from None
    return "\n".join(line for line in lines if line)


_READERS = {
    ".txt": _read_plain,
    ".md": _read_plain,
    ".markdown": _read_plain,
    ".html": _read_html,
    ".htm": _read_html,
    ".pdf": _read_pdf,
    ".docx": _read_docx,
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

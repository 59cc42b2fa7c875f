"""Split a Document into token-sized chunks that respect sentence boundaries.

Sizes are counted with tiktoken. A chunk is a run of whole sentences (a sentence longer than
the chunk size is cut between words), and consecutive chunks share about `overlap` tokens of
whole sentences. Every chunk keeps character offsets into the document text such that
`document.text[chunk.start:chunk.end] == chunk.text`.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass

from index.load import Document
from index.tokens import get_encoding

# A sentence ends at . ! ? (optionally followed by closing quotes/brackets) before white space,
# or at a line break (headlines and list items have no full stop).
_SENTENCE = re.compile(r"[^\n]+?(?:[.!?…]+[\"'”’)\]]*(?=\s)|$)", re.MULTILINE)
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Chunk:
    id: str
    source: str
    start: int
    end: int
    text: str
    version: str  # identifies the document version and chunking that produced this chunk


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence in `text`, stripped of surrounding white space."""
    spans = []
    for match in _SENTENCE.finditer(text):
        start, end = match.span()
        piece = text[start:end]
        stripped = piece.strip()
        if not stripped:
            continue
        start += len(piece) - len(piece.lstrip())
        spans.append((start, start + len(stripped)))
    return spans


def _cut_long(text: str, span: tuple[int, int], size: int) -> list[tuple[int, int, int]]:
    """Cut an over-long sentence between words into pieces of at most `size` tokens."""
    enc = get_encoding()
    words = [
        (m.start() + span[0], m.end() + span[0]) for m in _WORD.finditer(text[span[0] : span[1]])
    ]
    counts = [len(t) for t in enc.encode_ordinary_batch([text[s:e] for s, e in words])]
    pieces: list[tuple[int, int, int]] = []
    start, total = words[0][0], 0
    prev_end = words[0][1]
    for (ws, we), n in zip(words, counts, strict=True):
        if total and total + n > size:
            pieces.append((start, prev_end, total))
            start, total = ws, 0
        total += n
        prev_end = we
    pieces.append((start, prev_end, total))
    return pieces


def chunk_spans(text: str, size: int, overlap: int) -> list[tuple[int, int]]:
    """Character spans of the chunks of `text`: whole sentences, about `size` tokens each."""
    if size < 8:
        raise ValueError("chunk size must be at least 8 tokens")
    if not 0 <= overlap < size:
        raise ValueError("chunk overlap must be at least 0 and smaller than the chunk size")
    spans = sentence_spans(text)
    if not spans:
        return []
    counts = [len(t) for t in get_encoding().encode_ordinary_batch([text[s:e] for s, e in spans])]
    units: list[tuple[int, int, int]] = []
    for span, n in zip(spans, counts, strict=True):
        units.extend(_cut_long(text, span, size) if n > size else [(span[0], span[1], n)])

    chunks: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j, total = i, 0
        while j < len(units) and (j == i or total + units[j][2] <= size):
            total += units[j][2]
            j += 1
        chunks.append((units[i][0], units[j - 1][1]))
        if j == len(units):
            break
        # Step back over whole sentences that fit in the overlap, but always move forward.
        back, carried = j, 0
        while back - 1 > i and carried + units[back - 1][2] <= overlap:
            back -= 1
            carried += units[back][2]
        i = back
    return chunks


def chunk_id(source: str, version: str, start: int, text: str) -> str:
    digest = hashlib.sha256(f"{source}\0{version}\0{start}\0{text}".encode()).hexdigest()
    return digest[:32]


def split_version(doc: Document, size: int, overlap: int, model: str = "") -> str:
    """A key for one document version chunked one way (changes when text or settings change)."""
    key = f"{doc.sha256}\0{size}\0{overlap}\0{model}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def split_document(
    doc: Document, size: int = 128, overlap: int = 32, model: str = ""
) -> list[Chunk]:
    version = split_version(doc, size, overlap, model)
    return [
        Chunk(
            id=chunk_id(doc.source, version, start, doc.text[start:end]),
            source=doc.source,
            start=start,
            end=end,
            text=doc.text[start:end],
            version=version,
        )
        for start, end in chunk_spans(doc.text, size, overlap)
    ]

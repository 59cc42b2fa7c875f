"""Split a Document into token-sized chunks that respect sentence boundaries.

Sizes are counted with tiktoken. Sentences are found by pysbd (rule-based, knows abbreviations
such as "Dr." and "U.S."), within lines (a line wrapped in mid-sentence goes on). A chunk is
a run of whole sentences (a sentence longer than the chunk size is cut between words), and
consecutive chunks share about `overlap` tokens of whole sentences. Every chunk keeps
character offsets into the document text such that `document.text[chunk.start:chunk.end] ==
chunk.text`.
"""

from __future__ import annotations

import hashlib
import re
import threading
from dataclasses import dataclass
from typing import Any

from index.load import Document, is_paged, page_at
from index.tokens import count_tokens, get_encoding

# A line break ends a sentence (headlines and list items have no full stop), except where a
# line was wrapped in the middle of one, as a PDF's text is: the line ends with a comma, or
# with no end mark and the next line goes on in lower case. Within that, pysbd finds the ends.
_LINE = re.compile(r"[^\n]+")
_GOES_ON = re.compile(r"[ \t]*\(?[a-z]")
_WORD = re.compile(r"\S+")


@dataclass(frozen=True)
class Chunk:
    """One chunk of a document: what the splitter makes, the store keeps and gives back,
    retrieval ranks (`assistant.question.retrieve.Hit`) and a passage is shown from."""

    id: str
    source: str
    start: int  # character offsets in the document text: text == document.text[start:end]
    end: int
    text: str
    version: str = ""  # the document version and chunking that produced this chunk
    page: int = 0  # a PDF's 1-based page where the chunk starts (0: the text has no pages)


_local = threading.local()


def _segmenter() -> Any:
    """This thread's pysbd segmenter (one holds the text it is splitting: not thread-safe)."""
    segmenter = getattr(_local, "segmenter", None)
    if segmenter is None:
        import pysbd

        segmenter = _local.segmenter = pysbd.Segmenter(language="en", clean=False)
    return segmenter


def _wrapped(line: str, following: str) -> bool:
    """Whether the break between `line` and the `following` one is inside a sentence."""
    end = line.rstrip()[-1:]
    if not end:  # a page break's form feed
        return False
    if end == ",":
        return following.lstrip()[:1].isalnum()  # not a list's next item ("- pears")
    return end not in ".!?:;" and bool(_GOES_ON.match(following))


def _blocks(text: str) -> list[tuple[int, int]]:
    """(start, end) of each run of lines that a single line break does not end (see
    `_wrapped`); an empty line always does."""
    blocks: list[tuple[int, int]] = []
    for line in _LINE.finditer(text):
        start, end = blocks[-1] if blocks else (0, 0)
        one_break = bool(blocks) and line.start() == end + 1  # no empty line between
        if one_break and _wrapped(text[start:end], line.group()):
            blocks[-1] = (start, line.end())
        else:
            blocks.append((line.start(), line.end()))
    return blocks


def sentence_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each sentence in `text`, stripped of surrounding white space."""
    spans = []
    for first, last in _blocks(text):
        block = text[first:last].replace("\n", " ")  # same length: offsets stay
        pos = 0
        for sentence in _segmenter().segment(block):
            stripped = sentence.strip()
            if not stripped:
                continue
            start = block.find(stripped, pos)
            if start < 0:  # pysbd changed the text (it should not, with clean=False)
                start = pos
                stripped = block[pos:].strip()
            spans.append((first + start, first + start + len(stripped)))
            pos = start + len(stripped)
    return spans


def _counts(texts: list[str]) -> list[int]:
    # One call per text: encode_ordinary_batch starts a thread pool per call, which costs
    # more than it saves for sentence-sized texts on two cores.
    enc = get_encoding()
    return [len(enc.encode_ordinary(t)) for t in texts]


def _greedy_end(counts: list[int], i: int, size: int) -> int:
    """The end (exclusive) of the longest run from `i` whose counts add up to at most `size`
    (always at least one item)."""
    j, total = i, 0
    while j < len(counts) and (j == i or total + counts[j] <= size):
        total += counts[j]
        j += 1
    return j


def _cut_long(text: str, span: tuple[int, int], size: int) -> list[tuple[int, int, int]]:
    """Cut an over-long sentence between words into pieces of at most `size` tokens."""
    segment = text[span[0] : span[1]]
    words = [(m.start() + span[0], m.end() + span[0]) for m in _WORD.finditer(segment)]
    # Count each word with the white space before it, as it appears inside a piece.
    counts = _counts([text[words[k - 1][1] if k else ws : we] for k, (ws, we) in enumerate(words)])
    pieces: list[tuple[int, int, int]] = []
    i = 0
    while i < len(words):
        j = _greedy_end(counts, i, size)
        n = count_tokens(text[words[i][0] : words[j - 1][1]])
        while n > size and j - 1 > i:  # the estimate was short: drop words until it fits
            j -= 1
            n = count_tokens(text[words[i][0] : words[j - 1][1]])
        pieces.append((words[i][0], words[j - 1][1], n))
        i = j
    return pieces


def check_sizes(size: int, overlap: int) -> None:
    """The chunking rule (`Settings` checks its values with it): a ValueError that says which
    part is broken."""
    if size < 8:
        raise ValueError("the chunk size must be at least 8 tokens")
    if overlap < 0:
        raise ValueError("the chunk overlap must be at least 0")
    if overlap >= size:
        raise ValueError("the chunk overlap must be smaller than the chunk size")


Unit = tuple[int, int, int]  # (start, end, tokens) of a sentence or of a piece of a long one


def _units(text: str, size: int) -> list[Unit]:
    """The sentences of `text` with their token counts, over-long ones cut between words."""
    spans = sentence_spans(text)
    counts = _counts([text[s:e] for s, e in spans])
    units: list[Unit] = []
    for span, n in zip(spans, counts, strict=True):
        units.extend(_cut_long(text, span, size) if n > size else [(span[0], span[1], n)])
    return units


def _chunk_end(text: str, units: list[Unit], counts: list[int], i: int, size: int) -> int:
    """Where the chunk that starts at unit `i` ends (exclusive): as many units as fit."""
    j = _greedy_end(counts, i, size)
    # The white space between sentences can add tokens the per-sentence counts missed.
    while j - 1 > i and count_tokens(text[units[i][0] : units[j - 1][1]]) > size:
        j -= 1
    return j


def _next_start(text: str, units: list[Unit], i: int, j: int, size: int, overlap: int) -> int:
    """The first unit of the chunk after units[i:j]: step back over whole sentences that fit
    in the overlap, but always move forward and leave room for the next unit (otherwise the
    next chunk only repeats the overlap)."""
    room = min(overlap, size - units[j][2])
    back, carried = j, 0
    while back - 1 > i and carried + units[back - 1][2] <= room:
        back -= 1
        carried += units[back][2]
    while back < j and count_tokens(text[units[back][0] : units[j][1]]) > size:
        back += 1
    return back


def chunk_spans(text: str, size: int, overlap: int) -> list[tuple[int, int]]:
    """Character spans of the chunks of `text`: whole sentences, about `size` tokens each."""
    check_sizes(size, overlap)
    units = _units(text, size)
    counts = [n for _, _, n in units]
    chunks: list[tuple[int, int]] = []
    i = 0
    while i < len(units):
        j = _chunk_end(text, units, counts, i, size)
        chunks.append((units[i][0], units[j - 1][1]))
        if j == len(units):
            break
        i = _next_start(text, units, i, j, size, overlap)
    return chunks


def chunk_id(source: str, version: str, start: int, text: str) -> str:
    digest = hashlib.sha256(f"{source}\0{version}\0{start}\0{text}".encode()).hexdigest()
    return digest[:32]


# Bump when chunk boundaries change for the same text and settings, so that existing indexes
# are re-chunked by the next ingestion instead of keeping chunks from the old splitter.
SPLITTER_VERSION = 4  # 3: pysbd sentences; 4: a line wrapped mid-sentence does not end one


def split_version(doc: Document, size: int, overlap: int, model: str = "") -> str:
    """A key for one document version chunked one way (changes when text or settings change)."""
    key = f"{doc.sha256}\0{size}\0{overlap}\0{model}\0{SPLITTER_VERSION}"
    return hashlib.sha256(key.encode()).hexdigest()[:16]


def split_document(doc: Document, size: int, overlap: int, model: str = "") -> list[Chunk]:
    """The chunks of `doc`, `size` tokens each at most, sharing about `overlap` tokens."""
    version = split_version(doc, size, overlap, model)
    chunks, paged, last, page = [], is_paged(doc.source), 0, 1
    for start, end in chunk_spans(doc.text, size, overlap):
        if paged:  # spans come in order: count the page breaks since the last one
            page, last = page_at(doc.text, start, last, page), start
        text = doc.text[start:end]
        chunk_id_ = chunk_id(doc.source, version, start, text)
        chunks.append(Chunk(chunk_id_, doc.source, start, end, text, version, page if paged else 0))
    return chunks

"""Splitting text into chunks: exact offsets, sizes and overlap in tiktoken tokens, sentence
boundaries, stable ids; and the tokenizer itself, loaded with the network off.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import pytest

from index.load import Document, text_sha256
from index.split import chunk_spans, sentence_spans, split_document
from index.tokens import count_tokens


def wordlist(text: str) -> list[str]:
    return text.split()


def doc_of(text: str, source: str = "doc.txt") -> Document:
    return Document(source=source, text=text, sha256=text_sha256(text))


# -- tokens -----------------------------------------------------------------------------------

_NO_NETWORK = """
import socket, sys

def refuse(*args, **kwargs):
    raise OSError("network is off in this test")

socket.socket.connect = refuse
socket.socket.connect_ex = refuse
socket.create_connection = refuse
socket.getaddrinfo = refuse

from index.tokens import count_tokens, get_encoding

enc = get_encoding()
print(enc.name, enc.encode_ordinary("hello world"), count_tokens("The ISS orbits Earth."))
"""


@pytest.mark.parametrize("via", ["TIKTOKEN_CACHE_DIR", "XDG_CACHE_HOME"])
def test_cl100k_loads_with_the_network_off_and_an_empty_cache(tmp_path: Path, via: str):
    env = {k: v for k, v in os.environ.items() if k not in ("TIKTOKEN_CACHE_DIR", "XDG_CACHE_HOME")}
    env[via] = str(tmp_path / "cache")
    result = subprocess.run(
        [sys.executable, "-c", _NO_NETWORK], env=env, cwd=tmp_path, capture_output=True, text=True,
        timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split()[:3] == ["cl100k_base", "[15339,", "1917]"]
    url = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
    name = hashlib.sha1(url.encode()).hexdigest()
    seeded = list((tmp_path / "cache").rglob(name))
    assert len(seeded) == 1 and seeded[0].stat().st_size > 1_000_000


def test_a_damaged_cached_encoding_file_is_replaced_without_the_network(tmp_path: Path):
    cache = tmp_path / "cache"
    url = "https://openaipublic.blob.core.windows.net/encodings/cl100k_base.tiktoken"
    cache.mkdir()
    (cache / hashlib.sha1(url.encode()).hexdigest()).write_bytes(b"half a download")
    env = {**os.environ, "TIKTOKEN_CACHE_DIR": str(cache)}
    result = subprocess.run(
        [sys.executable, "-c", _NO_NETWORK], env=env, cwd=tmp_path, capture_output=True,
        text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-800:]
    assert result.stdout.split()[:3] == ["cl100k_base", "[15339,", "1917]"]


def test_count_tokens_uses_cl100k():
    assert count_tokens("hello world") == 2
    assert count_tokens("") == 0
    assert count_tokens("The International Space Station") == 4


# -- splitting --------------------------------------------------------------------------------

_WORDS = wordlist(
    "the station orbit module crew docking launch agency Roscosmos NASA research budget "
    "engineers partners émigré naïve Zürich 日本語 宇宙 ロケット Ελλάδα Москва 🚀 "
    "“quoted” (aside) U.S. e.g. $4.2 3.14159 well-known end-of-life"
)
_ENDS = [". ", "! ", "? ", "… ", '." ', ".) ", "\n", "\n\n", "\n\n\n\n", "\r\n", " ", "\t", ".\n"]


def generated_texts(count: int, seed: int = 0) -> list[str]:
    rng = random.Random(seed)
    texts = []
    for _ in range(count):
        parts = [rng.choice(["", "  ", "\n\n", "\ufeff"])]
        for _ in range(rng.randint(1, 40)):
            n = rng.choice([1, 3, 8, 15, 25, 60, 150])  # some sentences longer than a chunk
            parts.append(" ".join(rng.choice(_WORDS) for _ in range(rng.randint(1, n))))
            parts.append(rng.choice(_ENDS))
        texts.append("".join(parts))
    return texts


SETTINGS = [(8, 0), (16, 4), (32, 8), (64, 16), (128, 32), (128, 127)]


def test_chunks_point_exactly_into_the_text_and_cover_all_of_it():
    rng = random.Random(1)
    for text in generated_texts(60) + ["x", "One.", "\n\n\nA line\n\n\nand another\n"]:
        size, overlap = rng.choice(SETTINGS)
        doc = doc_of(text)
        chunks = split_document(doc, size, overlap)
        assert chunks, repr(text)
        covered = bytearray(len(text))
        for c in chunks:
            assert doc.text[c.start : c.end] == c.text
            assert c.text == c.text.strip() and c.text
            assert c.source == doc.source
            covered[c.start : c.end] = b"\x01" * (c.end - c.start)
        assert [c.start for c in chunks] == sorted({c.start for c in chunks})
        lost = [i for i, ch in enumerate(text) if not ch.isspace() and not covered[i]]
        assert not lost, (size, overlap, [text[i] for i in lost[:20]])


def test_no_chunk_has_more_tokens_than_the_chunk_size():
    """Only a single unbroken 'word' longer than the chunk size may exceed it."""
    rng = random.Random(2)
    over = []
    for text in generated_texts(60, seed=3):
        size, overlap = rng.choice(SETTINGS)
        for c in split_document(doc_of(text), size, overlap):
            n = count_tokens(c.text)
            if n > size and len(c.text.split()) > 1:
                over.append((size, n, c.text[:80]))
    assert not over, f"{len(over)} chunks over the size, e.g. {over[:3]}"


def test_every_chunk_adds_text_the_previous_one_did_not_have():
    """The overlap must not produce a chunk that only repeats the end of the previous one."""
    rng = random.Random(6)
    repeats = []
    for text in generated_texts(60, seed=8):
        size, overlap = rng.choice(SETTINGS)
        chunks = split_document(doc_of(text), size, overlap)
        for a, b in zip(chunks, chunks[1:], strict=False):
            if b.end <= a.end:
                repeats.append((size, overlap, a.text[-60:], b.text[:60]))
    # Default settings: a short last sentence (carried as overlap) followed by one that does
    # not fit beside it.
    words = wordlist("the crew said the station would stay in orbit until the new module docks")
    long_sentence = " ".join(words * 8) + "."  # about 100 tokens
    text = " ".join(["Short intro sentence."] * 8 + ["A short one.", long_sentence, "Tail."])
    chunks = split_document(doc_of(text), 128, 32)
    for a, b in zip(chunks, chunks[1:], strict=False):
        if b.end <= a.end:
            repeats.append((128, 32, a.text[-60:], b.text[:60]))
    assert not repeats, f"{len(repeats)} chunks repeat their predecessor, e.g. {repeats[:2]}"


def test_english_chunks_respect_sentences_size_and_overlap():
    rng = random.Random(4)
    words = wordlist("the crew said the station would stay in orbit until the new module docks")
    sentences = [
        " ".join(rng.choice(words) for _ in range(rng.randint(4, 20))).capitalize() + "."
        for _ in range(120)
    ]
    text = "Station report.\n\n" + " ".join(sentences[:60]) + "\n\n" + " ".join(sentences[60:])
    spans = sentence_spans(text)
    starts, ends = {s for s, _ in spans}, {e for _, e in spans}
    assert len(spans) == 121

    chunks = split_document(doc_of(text), 128, 32)
    assert len(chunks) > 10
    for c in chunks:
        assert c.start in starts and c.end in ends  # whole sentences only
        assert count_tokens(c.text) <= 128
    for a, b in zip(chunks, chunks[1:], strict=False):
        assert b.start < a.end, "consecutive chunks share sentences"
        assert count_tokens(text[b.start : a.end]) <= 32 + 2
        assert b.start > a.start

    no_overlap = split_document(doc_of(text), 128, 0)
    assert len(no_overlap) < len(chunks)
    for a, b in zip(no_overlap, no_overlap[1:], strict=False):
        assert b.start > a.end
    bigger = split_document(doc_of(text), 256, 32)
    assert len(bigger) < len(chunks)
    assert max(count_tokens(c.text) for c in bigger) > 128


def test_a_line_wrapped_in_mid_sentence_does_not_end_it_but_a_headline_does():
    text = (
        "Station report\nThe tower of the lighthouse is\npainted red and white. Keeper,\n"
        "visitors (from the mainland)\n(and from the islands) are welcome.\n- apples,\n- pears\n"
        "\nthe end"
    )
    sentences = [text[s:e] for s, e in sentence_spans(text)]
    assert sentences == [
        "Station report",
        "The tower of the lighthouse is\npainted red and white.",
        "Keeper,\nvisitors (from the mainland)\n(and from the islands) are welcome.",
        "- apples,",
        "- pears",
        "the end",
    ]


def test_a_long_sentence_without_punctuation_is_cut_between_words():
    rng = random.Random(5)
    words = wordlist("orbit station crew module agency budget research partners")
    text = " ".join(rng.choice(words) for _ in range(900))
    chunks = split_document(doc_of(text), 64, 16)
    assert len(chunks) >= 900 // 64
    for c in chunks:
        assert 0 < count_tokens(c.text) <= 64
        assert c.start == 0 or text[c.start - 1] == " "
        assert c.end == len(text) or text[c.end] == " "
    assert chunks[0].start == 0 and chunks[-1].end == len(text)


def test_many_newlines_and_crlf_keep_exact_offsets():
    text = "\r\n\r\nTitle line\r\n\r\n\r\n" + "Body sentence one. Body two!\r\n" * 40 + "\n" * 50
    chunks = split_document(doc_of(text), 32, 8)
    assert chunks and all(text[c.start : c.end] == c.text for c in chunks)
    assert all("\r" not in c.text[-1:] and c.text == c.text.strip() for c in chunks)
    assert chunks[0].text.startswith("Title line")


def test_an_unbroken_token_run_longer_than_the_size_stays_whole():
    blob = "x" * 3000  # nothing to cut between: kept as one (over-sized) chunk
    text = f"Before it. {blob} After it."
    spans = chunk_spans(text, 16, 4)
    assert (text.index(blob), text.index(blob) + len(blob)) in spans
    assert all(text[s:e].strip() == text[s:e] for s, e in spans)


def test_whitespace_only_text_has_no_chunks_and_bad_settings_are_refused():
    assert chunk_spans(" \n\t\n ", 128, 32) == []
    with pytest.raises(ValueError):
        chunk_spans("Some text.", 4, 0)
    with pytest.raises(ValueError):
        chunk_spans("Some text.", 64, 64)
    with pytest.raises(ValueError):
        chunk_spans("Some text.", 64, -1)


_IDS_SCRIPT = """
import json, sys
from index.load import Document, text_sha256
from index.split import split_document
text = sys.stdin.read()
doc = Document("dir/a.txt", text, text_sha256(text))
print(json.dumps([[c.id, c.start, c.end, c.version] for c in split_document(doc, 64, 16, "m")]))
"""


def test_chunk_ids_are_stable_across_processes_and_change_with_content(tmp_path: Path):
    text = generated_texts(1, seed=11)[0] + " The end of the document."
    here = split_document(doc_of(text, "dir/a.txt"), 64, 16, "m")
    result = subprocess.run(
        [sys.executable, "-c", _IDS_SCRIPT], input=text, cwd=tmp_path, capture_output=True,
        text=True, timeout=120, env={**os.environ, "PYTHONHASHSEED": "123"},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr[-2000:]
    assert json.loads(result.stdout) == [[c.id, c.start, c.end, c.version] for c in here]

    ids = [c.id for c in here]
    assert len(set(ids)) == len(ids) and len({c.version for c in here}) == 1
    again = split_document(doc_of(text, "dir/a.txt"), 64, 16, "m")
    assert [c.id for c in again] == ids

    def other_ids(doc_text=text, source="dir/a.txt", size=64, overlap=16, model="m"):
        return {c.id for c in split_document(doc_of(doc_text, source), size, overlap, model)}

    for different in (
        other_ids(doc_text=text.replace("The end", "The very end")),
        other_ids(source="dir/b.txt"),
        other_ids(size=65),
        other_ids(overlap=8),
        other_ids(model="other-model"),
    ):
        assert not different & set(ids)

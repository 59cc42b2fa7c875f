"""The document side without a store: loading files, splitting into chunks, tokens, embeddings.

Real files in temporary folders, the real tokenizer and the real packaged embedding model.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from index.load import Document, load_documents, read_text, text_sha256
from index.split import chunk_spans, sentence_spans, split_document
from index.tokens import count_tokens


def wordlist(text: str) -> list[str]:
    return text.split()


# -- helpers ----------------------------------------------------------------------------------


def make_pdf(pages: list[str]) -> bytes:
    """A minimal, valid PDF (Helvetica text, one line per page), built byte by byte."""
    objs = [b"<< /Type /Catalog /Pages 2 0 R >>"]
    kids = " ".join(f"{4 + 2 * i} 0 R" for i in range(len(pages)))
    objs.append(f"<< /Type /Pages /Kids [{kids}] /Count {len(pages)} >>".encode())
    objs.append(b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>")
    for i, text in enumerate(pages):
        escaped = text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")
        stream = f"BT /F1 12 Tf 72 720 Td ({escaped}) Tj ET".encode("latin-1")
        objs.append(
            f"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Resources "
            f"<< /Font << /F1 3 0 R >> >> /Contents {5 + 2 * i} 0 R >>".encode()
        )
        objs.append(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
    out = bytearray(b"%PDF-1.4\n")
    offsets = []
    for number, body in enumerate(objs, 1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objs) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objs) + 1, xref)
    return bytes(out)


PDF_PAGES = ["Zvezda module docking report seven.", "Second page about the (Nauka) laboratory."]

HTML = """<!doctype html>
<html><head><title>Station news</title>
<style>body { color: red; } .hidden-style-marker {}</style>
<script>var scriptMarker = "do not index this"; console.log("script marker");</script>
</head>
<body>
<h1>Crew rotation</h1>
<p>The crew of <b>Expedition 70</b> returned safely.</p>
<noscript>noscript marker</noscript>
<script type="module">import x from "module-script-marker";</script>
<ul><li>First item</li><li>Second item</li></ul>
</body></html>
"""


def doc_of(text: str, source: str = "doc.txt") -> Document:
    return Document(source=source, text=text, sha256=text_sha256(text))


# -- loading ----------------------------------------------------------------------------------


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    root = tmp_path / "corpus"
    (root / "sub" / "deeper").mkdir(parents=True)
    (root / "a.txt").write_text("Plain text file about orbits.\nSecond line.\n", encoding="utf-8")
    (root / "sub" / "b.md").write_text("# Heading\n\nMarkdown *body* text.\n", encoding="utf-8")
    (root / "sub" / "deeper" / "c.html").write_text(HTML, encoding="utf-8")
    (root / "sub" / "deeper" / "d.pdf").write_bytes(make_pdf(PDF_PAGES))
    (root / "sub" / "e.HTM").write_text("<p>Upper-case suffix works.</p>", encoding="utf-8")
    (root / "bom.txt").write_bytes("\ufeffText with a byte order mark.".encode())
    (root / ".hidden.txt").write_text("hidden files are not part of the corpus", encoding="utf-8")
    (root / ".git").mkdir()
    (root / ".git" / "notes.txt").write_text("hidden folders neither", encoding="utf-8")
    return root


def test_loads_every_supported_type_recursively_with_relative_sources(corpus: Path):
    docs, problems = load_documents([corpus], corpus)
    assert problems == []
    by_source = {d.source: d for d in docs}
    assert sorted(by_source) == [
        "a.txt",
        "bom.txt",
        "sub/b.md",
        "sub/deeper/c.html",
        "sub/deeper/d.pdf",
        "sub/e.HTM",
    ]
    assert by_source["a.txt"].text == "Plain text file about orbits.\nSecond line.\n"
    assert by_source["bom.txt"].text == "Text with a byte order mark."  # BOM stripped
    assert "Markdown *body* text." in by_source["sub/b.md"].text
    for doc in docs:
        assert doc.sha256 == hashlib.sha256(doc.text.encode()).hexdigest()


def test_html_keeps_visible_text_and_drops_scripts_and_styles(corpus: Path):
    text = read_text(corpus / "sub" / "deeper" / "c.html")
    for visible in ["Crew rotation", "Expedition 70", "returned safely.", "First item"]:
        assert visible in text
    for hidden in ["scriptMarker", "script marker", "module-script-marker", "color: red",
                   "hidden-style-marker", "<p>", "<b>"]:  # fmt: skip
        assert hidden not in text
    assert "\n\n" not in text and text == text.strip()


def test_pdf_text_is_extracted_from_every_page(corpus: Path):
    text = read_text(corpus / "sub" / "deeper" / "d.pdf")
    assert text == (  # a form feed between pages (issue 21: citations get their page)
        "Zvezda module docking report seven.\n\f\nSecond page about the (Nauka) laboratory."
    )


def test_single_files_and_subfolders_are_named_relative_to_the_root(corpus: Path):
    docs, problems = load_documents([corpus / "sub" / "deeper", corpus / "a.txt"], corpus)
    assert problems == []
    assert [d.source for d in docs] == ["sub/deeper/c.html", "sub/deeper/d.pdf", "a.txt"]


def test_bad_files_are_one_line_problems_and_the_rest_still_loads(tmp_path: Path):
    root = tmp_path / "mixed"
    root.mkdir()
    good = make_pdf(PDF_PAGES)
    (root / "good.txt").write_text("A good document.", encoding="utf-8")
    (root / "good.pdf").write_bytes(good)
    (root / "notes.docx").write_bytes(b"PK\x03\x04 not supported")
    (root / "Makefile").write_text("all:\n\techo hi\n", encoding="utf-8")
    (root / "empty.txt").write_bytes(b"")
    (root / "blank.md").write_text(" \n\t\n", encoding="utf-8")
    (root / "empty.html").write_text("<html><script>only()</script></html>", encoding="utf-8")
    (root / "bad-bom.txt").write_bytes(b"\xff\xfe garbage \x80\x81")  # UTF-16, odd length
    (root / "binary.md").write_bytes(bytes(range(256)))
    (root / "zero.pdf").write_bytes(b"")
    (root / "fake.pdf").write_text("this is not a PDF at all", encoding="utf-8")
    (root / "head.pdf").write_bytes(good[:40])
    (root / "half.pdf").write_bytes(good[: len(good) // 2])
    (root / "no-xref.pdf").write_bytes(good[: good.index(b"xref")])
    # chmod 000 does not stop root (the tests run as root); a dangling link is unreadable
    # for everybody.
    (root / "dangling.txt").symlink_to(tmp_path / "missing-target.txt")

    docs, problems = load_documents([root], root)

    assert [d.source for d in docs] == ["good.pdf", "good.txt"]
    reasons = {p.path: p.reason for p in problems}
    expected = {
        "notes.docx": "not a readable Word document",
        "Makefile": "unsupported",
        "empty.txt": "no text",
        "blank.md": "no text",
        "empty.html": "no text",
        "bad-bom.txt": "not valid UTF-16",
        "binary.md": "binary, not text",
        "zero.pdf": "PDF",
        "fake.pdf": "PDF",
        "head.pdf": "PDF",
        "half.pdf": "PDF",
        "no-xref.pdf": "PDF",
    }
    for name, word in expected.items():
        assert word in reasons.get(name, ""), (name, reasons)
    others = [p for p in problems if p.path not in expected]  # the dangling link
    assert len(others) == 1 and "No such file" in others[0].reason, others
    for problem in problems:
        line = str(problem)
        assert line.startswith("skipped ") and "\n" not in line and len(line) < 200


def test_a_symlinked_file_is_named_by_its_link_not_its_target(tmp_path: Path):
    """Sources are paths relative to the corpus root, even for a link to a file elsewhere."""
    outside = tmp_path / "elsewhere" / "target.txt"
    outside.parent.mkdir()
    outside.write_text("Text that lives outside the corpus.", encoding="utf-8")
    root = tmp_path / "corpus"
    root.mkdir()
    (root / "linked.txt").symlink_to(outside)
    (root / "dangling.txt").symlink_to(tmp_path / "nowhere.txt")

    docs, problems = load_documents([root], root)

    assert [d.source for d in docs] == ["linked.txt"]
    assert [p.path for p in problems] == ["dangling.txt"]


def test_malformed_pdfs_never_crash_the_loader(tmp_path: Path):
    """pypdf raises more than PdfReadError on damaged files (AttributeError, LimitReachedError,
    ...): each must become a one-line problem, not an exception out of load_documents."""
    good = make_pdf(PDF_PAGES)
    root = tmp_path / "pdfs"
    root.mkdir()
    (root / "ok.pdf").write_bytes(good)
    (root / "bad-trailer.pdf").write_bytes(good.replace(b"trailer\n", b"trailer1"))
    (root / "huge-xref.pdf").write_bytes(good.replace(b"xref\n0 8\n0", b"xref\n0 88"))
    rng = random.Random(7)
    for i in range(8):  # cut at random places before the end-of-file marker
        (root / f"cut{i}.pdf").write_bytes(good[: rng.randrange(1, len(good) - 10)])

    docs, problems = load_documents([root], root)

    assert [d.source for d in docs] == ["ok.pdf"]
    assert sorted(p.path for p in problems) == sorted(
        ["bad-trailer.pdf", "huge-xref.pdf"] + [f"cut{i}.pdf" for i in range(8)]
    )
    assert all("PDF" in p.reason and "\n" not in str(p) for p in problems)


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


# -- embeddings -------------------------------------------------------------------------------


def test_embeddings_are_normalised_384_dimensional_vectors(embedder):
    texts = [f"Sentence number {i} about the space station and its crew." for i in range(70)]
    texts[5] = "Короткое предложение."
    texts[6] = "x " * 600  # longer than the model's window: truncated, still one vector
    vectors = embedder.encode(texts)
    assert vectors.shape == (70, 384) and vectors.dtype == np.float32
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-4)
    assert np.isfinite(vectors).all()
    assert embedder.batch_size < len(texts)  # more than one batch was needed
    singles = np.stack([embedder.encode_full([t])[0] for t in texts[:3] + texts[-3:]])
    assert np.allclose(singles, np.concatenate([vectors[:3], vectors[-3:]]), atol=1e-4)
    assert embedder.encode([]).shape == (0, 384)


def test_embeddings_place_related_texts_closer(embedder):
    query, near, far = embedder.encode(
        [
            "When will Russia leave the International Space Station?",
            "Roscosmos says it will withdraw from the ISS after 2024.",
            "Preheat the oven and bake the bread for forty minutes.",
        ]
    )
    assert float(query @ near) > float(query @ far) + 0.2
    assert embedder.embed_query("hello") == pytest.approx(embedder.encode(["hello"])[0].tolist())
    docs = embedder.embed_documents(["a", "b"])
    assert len(docs) == 2 and len(docs[0]) == 384


def test_the_fast_query_path_agrees_with_sentence_transformers(embedder):
    """Short texts go through the int8 ONNX export of the same model: same vector space."""
    texts = ["Who is the new head of Roscosmos?", "When will Russia leave the ISS?", "seat swap"]
    fast, full = embedder.encode(texts), embedder.encode_full(texts)
    assert embedder._fast is not None and float((fast * full).sum(axis=1).min()) > 0.999


def test_the_document_path_agrees_with_float32_sentence_transformers(embedder):
    """Document chunks go through bfloat16 weights where the CPU multiplies bfloat16: the
    vectors stay normalised and within cosine 0.99 of the float32 ones (0.9999 measured)."""
    from index.embed import _cpu_multiplies_bf16

    seeds = Path(__file__).resolve().parent.parent / "seeds"
    text = (seeds / "russia-iss-withdrawal.txt").read_text(encoding="utf-8")
    texts = [c.text for c in split_document(doc_of(text), 128, 32)] + ["x " * 600, "seat swap"]
    fast, full = embedder.encode_documents(texts), embedder.encode_full(texts)
    assert fast.shape == full.shape == (len(texts), 384) and fast.dtype == np.float32
    assert np.allclose(np.linalg.norm(fast, axis=1), 1.0, atol=1e-5)
    assert float((fast * full).sum(axis=1).min()) > 0.99
    assert (embedder._bf16_model() is not None) == _cpu_multiplies_bf16()
    assert embedder.encode_documents([]).shape == (0, 384)


def test_the_model_comes_from_site_packages():
    from index.embed import model_path

    path = Path(model_path())
    assert "site-packages" in path.parts and path.is_dir()
    assert any(path.rglob("*.safetensors")) or any(path.rglob("*.bin"))

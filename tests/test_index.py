"""The document side without a store: loading files and embeddings (splitting and tokens:
test_split.py).

Real files in temporary folders, the real tokenizer and the real packaged embedding model.
"""

from __future__ import annotations

import hashlib
import random
from pathlib import Path

import numpy as np
import pytest

from index.load import Document, load_documents, read_text, text_sha256
from index.split import split_document


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
    assert text == (  # a form feed between pages: citations get their page
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

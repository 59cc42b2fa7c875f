"""Text files in common encodings are read, by `assistant ingest` and by the page's upload
alike; what is really binary still gets one clear line."""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
FRENCH = "Le réacteur Zorblax a ouvert à Oslo en 1987, après une décennie de travaux.\n"
QUOTES = "The \u201cZorblax\u201d reactor \u2014 opened in Oslo in 1987 \u2026 cost 5\u20ac.\n"
ENGLISH = "The Zorblax reactor opened in Oslo in 1987 after a decade of work by Ingrid Hale.\n"
JAPANESE = "東京は日本の首都です。ゾルブラックス炉は一九八七年にオスロで開かれました。\n"

# name -> (bytes on disk, the text that must come out)
ENCODED = {
    "latin1.txt": (FRENCH.encode("latin-1"), FRENCH),
    "windows-1252.md": (QUOTES.encode("cp1252"), QUOTES),
    "utf16.txt": (ENGLISH.encode("utf-16"), ENGLISH),  # with its byte-order mark
    "utf16-no-mark.md": (ENGLISH.encode("utf-16-le"), ENGLISH),
    "utf8-mark.txt": (codecs.BOM_UTF8 + FRENCH.encode("utf-8"), FRENCH),
    "shift-jis.txt": (JAPANESE.encode("shift_jis"), JAPANESE),
    "page-1252.html": (
        f"<html><body><p>{FRENCH}</p></body></html>".encode("cp1252"),
        FRENCH.strip(),
    ),
}
BINARY = {
    "noise.txt": bytes(range(256)) * 8,
    "zeros.md": bytes(512),
}


def _write(folder: Path, files: dict[str, bytes]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for name, data in files.items():
        (folder / name).write_bytes(data)


def test_the_cli_reader_takes_common_encodings_and_names_binary(tmp_path):
    from index.load import load_documents

    _write(tmp_path, {n: data for n, (data, _) in ENCODED.items()} | BINARY)
    docs, problems = load_documents([tmp_path], tmp_path)
    texts = {d.source: d.text for d in docs}
    assert set(texts) == set(ENCODED)
    for name, (_, expected) in ENCODED.items():
        assert texts[name].strip() == expected.strip(), name
    assert sorted(map(str, problems)) == [
        "skipped noise.txt: the content is binary, not text",
        "skipped zeros.md: the content is binary, not text",
    ]


@pytest.mark.parametrize("name", sorted(ENCODED))
def test_an_upload_in_another_encoding_is_indexed_as_its_text(settings, embedder, tmp_path, name):
    from assistant.chat.documents import add_documents
    from assistant.stores.corpus import document_text

    own = settings.updated(index={"data_dir": tmp_path / "data"})
    data, expected = ENCODED[name]
    _write(tmp_path / "in", {name: data})
    result = add_documents(own, [(name, tmp_path / "in" / name)])
    assert result.problems == [] and result.summary.startswith("documents: 1 added")
    assert expected.strip() in (document_text(own, f"uploads/{name}") or "")


def test_a_binary_upload_is_one_clear_line_and_changes_nothing(settings, embedder, tmp_path):
    from assistant.chat.documents import add_documents
    from assistant.stores.corpus import documents

    own = settings.updated(index={"data_dir": tmp_path / "data"})
    _write(tmp_path / "in", BINARY)
    result = add_documents(own, [(n, tmp_path / "in" / n) for n in BINARY])
    assert result.problems == [
        "skipped uploads/noise.txt: the content is binary, not text",
        "skipped uploads/zeros.md: the content is binary, not text",
    ]
    assert documents(own) == {}

"""Documents added from the chat page: each file checked, then indexed; a removal takes a
document out; uploads at once are serialised and a question sees each document whole; and
beyond loopback only a signed-in client may add documents.

The server tests launch the real Gradio app on a free loopback port over a copy of the seed
index, with the real embedding model and the extractive generator.
"""

from __future__ import annotations

import threading

import pytest

from tests.servers import chat_client as client
from tests.servers import free_port
from tests.servers import serve_chat as serve

# gradio's queue uses a pandas option that pandas 3 deprecates; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:::gradio.queueing")

SEED = "russia-iss-withdrawal.txt"


# -- uploads ----------------------------------------------------------------------------------
ZORBLAX = "The Zorblax reactor opened in Oslo in 1987 after a decade of work by Ingrid Hale.\n"
ZORBLAX_Q = "When did the Zorblax reactor open in Oslo?"


def test_unsafe_names_and_mismatched_content_are_refused():
    from assistant.chat.documents import safe_name
    from assistant.errors import BadInput

    assert safe_name("notes v2.md") == "notes v2.md"
    for name in ["../../etc/passwd.txt", "..\\x.txt", "....evil.txt", ".hidden.txt", "a\x00.txt"]:
        with pytest.raises(BadInput):
            safe_name(name)
    with pytest.raises(BadInput, match="unsupported file type '.exe'"):
        safe_name("setup.exe")


def test_an_upload_is_checked_then_indexed_and_a_removal_takes_it_out(own_settings, tmp_path):
    from assistant.api import answer as ask
    from assistant.chat.documents import add_documents, remove_document
    from assistant.stores.corpus import documents

    good = tmp_path / "zorblax.txt"
    good.write_text(ZORBLAX, encoding="utf-8")
    binary = tmp_path / "binary.txt"
    binary.write_bytes(bytes(range(256)))
    fake_pdf = tmp_path / "fake.pdf"
    fake_pdf.write_text("not a pdf at all", encoding="utf-8")
    png_as_text = tmp_path / "picture.md"
    png_as_text.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(64))
    empty = tmp_path / "empty.md"
    empty.write_text("  \n", encoding="utf-8")
    damaged = tmp_path / "damaged.pdf"
    damaged.write_bytes(b"%PDF-1.7\n" + bytes(range(256)) * 4)
    files = [(p.name, p) for p in (good, binary, fake_pdf, png_as_text, empty, damaged)]

    result = add_documents(own_settings, files)
    assert result.summary.startswith("documents: 1 added") and "5 file(s) skipped" in result.summary
    assert result.problems == [
        "skipped uploads/binary.txt: the content is binary, not text",
        "skipped uploads/fake.pdf: not a PDF (no %PDF header)",
        "skipped uploads/picture.md: the content is a PNG image, not MD text",
        "skipped uploads/empty.md: no text in it",
        "skipped uploads/damaged.pdf: not a readable PDF (PdfStreamError)",
    ]
    indexed = documents(own_settings)
    assert set(indexed) == {SEED, "uploads/zorblax.txt"}
    assert sorted(p.name for p in (own_settings.index.data_dir / "uploads").iterdir()) == [
        "zorblax.txt"
    ]

    cited = ask(ZORBLAX_Q, generator="extractive", settings=own_settings)
    assert "1987" in cited.text and cited.citations[0].source == "uploads/zorblax.txt"

    assert remove_document(own_settings, "uploads/zorblax.txt").startswith("removed uploads/")
    assert not (own_settings.index.data_dir / "uploads" / "zorblax.txt").exists()
    again = ask(ZORBLAX_Q, generator="extractive", settings=own_settings)
    assert "uploads/zorblax.txt" not in {c.source for c in again.citations}

    tiny = own_settings.updated(uploads={"max_upload_file_mb": 0.00001, "max_upload_mb": 1})
    over = add_documents(tiny, [("zorblax.txt", good)])
    assert over.problems == [
        "skipped uploads/zorblax.txt: 0.0 MB is over the 1e-05 MB limit per file"
    ]
    assert set(documents(own_settings)) == {SEED}  # nothing else changed


@pytest.mark.server
def test_add_documents_endpoint_takes_files_and_returns_the_summary_and_list(
    own_settings, tmp_path
):
    from gradio_client import handle_file
    from gradio_client.exceptions import AppError

    doc = tmp_path / "zorblax.md"
    doc.write_text(ZORBLAX, encoding="utf-8")
    demo, url = serve(own_settings)
    try:
        c = client(url)
        api = c.view_api(print_info=False, return_format="dict")["named_endpoints"]
        for endpoint in ("/chat", "/add_documents", "/remove_document", "/share_document"):
            names = [p["parameter_name"] for p in api[endpoint]["parameters"]]
            assert names and not any(n.startswith("parameter_") for n in names), names
        summary, listed = c.predict([handle_file(str(doc))], api_name="/add_documents")
        assert summary.startswith("documents: 1 added")
        assert ["uploads/zorblax.md", 1, "everyone"] in listed["data"]  # no sign-in: shared
        answer = c.predict(ZORBLAX_Q, "extractive", 4, api_name="/chat")
        assert answer["citations"][0]["source"] == "uploads/zorblax.md"

        line, listed = c.predict("uploads/zorblax.md", api_name="/remove_document")
        assert line.startswith("removed uploads/zorblax.md") and len(listed["data"]) == 1
        with pytest.raises(AppError, match="no indexed document is called"):
            c.predict("uploads/zorblax.md", api_name="/remove_document")
    finally:
        demo.close()


def test_uploads_at_once_are_serialised_and_queries_see_documents_whole(own_settings, tmp_path):
    from assistant.chat.documents import add_documents
    from assistant.stores.corpus import documents, open_store

    sentences = [
        f"Reactor {i} of the Zorblax series opened in Oslo in {1900 + i}." for i in range(400)
    ]
    names = ["series-a.md", "series-b.md"]
    for name in names:
        (tmp_path / name).write_text("\n".join(sentences), encoding="utf-8")
    store = open_store(own_settings)
    seen: list[dict[str, int]] = []
    errors: list[BaseException] = []

    def upload(name: str) -> None:
        try:
            add_documents(own_settings, [(name, tmp_path / name)])
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=upload, args=(n,)) for n in names]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):  # read the index while the uploads write
        counts: dict[str, int] = {}
        for chunk in store.all_chunks():
            counts[chunk.source] = counts.get(chunk.source, 0) + 1
        seen.append(counts)
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(seen) > 1  # the index was read while the uploads were being written
    final = documents(own_settings)
    assert {f"uploads/{n}" for n in names} <= set(final)
    for counts in seen:  # each document was visible whole or not at all
        for name in names:
            assert counts.get(f"uploads/{name}", 0) in (0, final[f"uploads/{name}"].chunks)


def test_the_viewer_shows_an_html_upload_as_its_extracted_text(own_settings, tmp_path):
    import json

    from assistant.api import answer as ask
    from assistant.chat.documents import add_documents
    from assistant.chat.viewer import show_source

    page = tmp_path / "zorblax.html"
    page.write_text(
        f"<html><head><script>var x = 1;</script></head><body><h1>Reactors</h1><p>{ZORBLAX}</p>"
        "</body></html>",
        encoding="utf-8",
    )
    add_documents(own_settings, [(page.name, page)])
    cited = ask(ZORBLAX_Q, generator="extractive", settings=own_settings).citations[0]
    assert cited.source == "uploads/zorblax.html"

    pick = {"source": cited.source, "start": cited.start, "end": cited.end, "quote": cited.quote}
    shown = show_source(own_settings, json.dumps(pick), "", None)
    assert '<mark class="ca-cited">' in shown and "Zorblax reactor opened in Oslo" in shown
    assert "Reactors" in shown and "&lt;p&gt;" not in shown and "var x" not in shown
    assert "no longer in the index" in show_source(
        own_settings, json.dumps({**pick, "source": "uploads/gone.md"}), "", None
    )


# -- who may add documents --------------------------------------------------------------------
def test_a_non_loopback_host_needs_credentials_or_an_explicit_no_auth(tmp_path, monkeypatch):
    from assistant.chat import resolve_auth
    from assistant.errors import BadInput
    from assistant.settings import Settings

    monkeypatch.delenv("ASSISTANT_AUTH", raising=False)
    assert resolve_auth("127.0.0.1") is None and resolve_auth("localhost") is None
    with pytest.raises(BadInput, match="refusing to serve on 0.0.0.0 without sign-in"):
        resolve_auth("0.0.0.0")
    assert resolve_auth("0.0.0.0", no_auth=True) is None
    assert resolve_auth("0.0.0.0", "ann:s3cr:et") == [("ann", "s3cr:et")]
    listed = tmp_path / "users"
    listed.write_text("# who may sign in\nann:one\nbob:two\n", encoding="utf-8")
    monkeypatch.setenv("ASSISTANT_AUTH", str(listed))
    assert resolve_auth("192.168.1.5", Settings().chat.auth) == [("ann", "one"), ("bob", "two")]
    with pytest.raises(BadInput, match="line 1 .* is not user:password"):
        resolve_auth("0.0.0.0", "no-colon")


def test_the_chat_command_refuses_an_open_non_loopback_host_in_one_line(monkeypatch, capsys):
    from assistant.cli import main

    monkeypatch.delenv("ASSISTANT_AUTH", raising=False)
    assert main(["chat", "--host", "0.0.0.0", "--port", str(free_port())]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: refusing to serve on 0.0.0.0") and err.count("\n") == 1


@pytest.mark.server
def test_with_credentials_only_a_signed_in_client_can_add_documents(own_settings, tmp_path):
    from gradio_client import handle_file

    from assistant.chat import launch

    doc = tmp_path / "zorblax.txt"
    doc.write_text(ZORBLAX, encoding="utf-8")
    port = free_port()
    demo = launch(own_settings, port=port, block=False, auth=[("ann", "pw")])
    url = f"http://127.0.0.1:{port}/"
    try:
        with pytest.raises(Exception):  # noqa: B017 (the client cannot even read the API)
            client(url).predict([handle_file(str(doc))], api_name="/add_documents")
        from gradio_client import Client

        signed_in = Client(url, auth=("ann", "pw"), verbose=False)
        summary, _ = signed_in.predict([handle_file(str(doc))], api_name="/add_documents")
        assert summary.startswith("documents: 1 added")
    finally:
        demo.close()

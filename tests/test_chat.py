"""The web chat: its HTML rendering, and the real app asked through `gradio_client`.

The server tests launch the real Gradio app (`assistant.chat.launch`) on a free loopback port
over a real Chroma index of the seed article, and answer with the real extractive generator.
"""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from assistant.chat import (
    esc,
    highlight,
    render_answer,
    render_error,
    render_question,
    render_status,
)
from assistant.types import Answer, Citation
from tests.servers import chat_client as client
from tests.servers import free_port
from tests.servers import serve_chat as serve

# gradio's queue uses a pandas option that pandas 3 deprecates; not ours to fix.
pytestmark = pytest.mark.filterwarnings("ignore:::gradio.queueing")

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED = "russia-iss-withdrawal.txt"
PAYLOAD = "<script>window.__pwned=1</script><img src=x onerror=alert(1)>"

# Questions about the seed article with the words a correct answer contains.
QUESTIONS = [
    ("On what date did Yuri Borisov announce Russia's withdrawal from the ISS?", "July 26"),
    ("In what year was the first element of the ISS launched?", "1998"),
    ("When is the Russian Orbital Station expected to be operational?", "2025"),
    ("Who is the new head of Roscosmos?", "Yuri Borisov"),
    ("Which news agency reported Borisov's statement about the decision?", "Tass"),
    ("On board which company's spacecraft will Russian cosmonauts travel to the ISS?", "SpaceX"),
    (
        "Which two countries reached an agreement on the exchange of places on their ships?",
        "United States and Russia",
    ),
    (
        "Which year will be the last year of cooperation between the United States and Russia "
        "on board the ISS?",
        "2024",
    ),
]


@pytest.fixture(scope="module")
def app_url(settings):
    demo, url = serve(settings)
    yield url
    demo.close()


# -- rendering ------------------------------------------------------------------------------
def test_escapes_questions_and_document_text():
    shown = render_question(f"Who? {PAYLOAD}\nsecond line")
    assert "<script" not in shown and "<img" not in shown
    assert "&lt;script&gt;window.__pwned=1&lt;/script&gt;" in shown
    assert "second line" in shown and "<br>" in shown
    assert esc('"a" & <b>') == "&quot;a&quot; &amp; &lt;b&gt;"

    passage = f"Intro {PAYLOAD}. The reactor was built in 1987 <b>by</b> Zorblax. Outro."
    answer = Answer(
        text="The reactor was built in 1987 <b>by</b> Zorblax. [1]",
        refused=False,
        citations=[
            Citation(
                1,
                f"{PAYLOAD}.md",
                0,
                len(passage),
                passage,
                "The reactor was built in 1987 <b>by</b> Zorblax.",
                1.0,
            )
        ],
        generator="extractive",
        flagged=["An <i>unsupported</i> claim."],
    )
    html = render_answer(answer)
    assert "<script" not in html and "<img" not in html and "<b>" not in html
    assert "<i>" not in html
    assert "<mark>The reactor was built in 1987 &lt;b&gt;by&lt;/b&gt; Zorblax.</mark>" in html
    assert "&lt;img src=x onerror=alert(1)&gt;.md" in html  # the file name, escaped
    assert "unsupported" in html


def test_highlight_finds_the_quote_despite_reflowed_whitespace():
    passage = "First sentence.\nThe decision to withdraw\nhas been taken. Last one."
    marked = highlight(passage, "The decision to withdraw has been taken.")
    assert marked == (
        "First sentence.<br><mark>The decision to withdraw<br>has been taken.</mark> Last one."
    )
    # A quote of two sentences that are apart in the passage: each one is marked.
    marked = highlight("A one. B two. C three.", "A one. C three.")
    assert marked == "<mark>A one.</mark> B two. <mark>C three.</mark>"
    # A quote that is not in the passage marks nothing and loses no text.
    assert highlight("Plain <text>.", "elsewhere") == "Plain &lt;text&gt;."


def test_a_cited_answer_shows_each_source_and_its_highlighted_quote(pipeline):
    from assistant.api import answer as ask

    result = ask(
        "When was the first element of the ISS launched?",
        generator="extractive",
        settings=pipeline.settings,
    )
    assert not result.refused and result.citations
    html = render_answer(result)
    assert (
        '<button type="button" class="ca-cite" title="Open in the source viewer">[1]</button>'
        in html
    )
    for c in result.citations:
        assert f'data-n="{c.number}"' in html
        assert esc(c.source) in html
        assert f"<mark>{esc(c.quote)}</mark>" in html
    assert "ca-refusal" not in html


def test_a_refusal_looks_different_from_an_answer(pipeline):
    from assistant.api import answer as ask

    result = ask("Who won the 2018 World Cup?", generator="extractive", settings=pipeline.settings)
    assert result.refused
    html = render_answer(result)
    assert "ca-refusal" in html and "Not in the documents" in html
    assert "ca-sources" not in html and "ca-answer" not in html
    error = render_error("cannot reach the server at <http://x>")
    assert "ca-error" in error and "&lt;http://x&gt;" in error


def test_status_line_names_the_documents_and_the_generator(settings, tmp_path):
    line = render_status(settings)
    assert SEED in line and "extractive" in line
    assert "openai" in render_status(settings, "openai")
    empty = settings.model_copy(update={"data_dir": tmp_path / "nothing"})
    assert "assistant ingest" in render_status(empty)


# -- the real app through gradio_client -------------------------------------------------------
@pytest.mark.server
def test_chat_endpoint_answers_with_citations_and_keeps_the_conversation(app_url):
    c = client(app_url)
    api = c.view_api(print_info=False, return_format="dict")
    assert "/chat" in api["named_endpoints"]

    result = c.predict("Who is the new head of Roscosmos?", "extractive", 4, api_name="/chat")
    assert not result["refused"]
    assert "Yuri Borisov" in result["text"] and "[1]" in result["text"]
    cited = result["citations"][0]
    assert cited["source"] == SEED and cited["quote"] in cited["text"]

    # A follow-up in the same session goes through the conversation history.
    follow = c.predict("Who did he announce the withdrawal to?", api_name="/chat")
    assert "follow-up to: Who is the new head of Roscosmos?" in follow["question"]
    assert not follow["refused"] and "Putin" in follow["text"]

    # Streaming: partial texts first, then the whole Answer.
    job = c.submit("In what year was the first element of the ISS launched?", api_name="/chat")
    final = job.result()
    outputs = job.outputs()
    assert outputs[0].get("partial") is True and "partial" not in final
    assert "1998" in final["text"] and final["citations"]


@pytest.mark.server
def test_chat_endpoint_refuses_and_reports_errors_as_one_line(app_url, settings):
    from gradio_client.exceptions import AppError

    c = client(app_url)
    result = c.predict("Who won the 2018 World Cup?", api_name="/chat")
    assert result["refused"] and result["citations"] == []

    with pytest.raises(AppError, match="the question is empty"):
        c.predict("   ", api_name="/chat")
    # The session still answers after errors.
    again = c.predict("Who is the new head of Roscosmos?", api_name="/chat")
    assert "Borisov" in again["text"]


@pytest.mark.server
def test_eight_sessions_at_once_all_get_their_own_cited_answer(app_url):
    results: dict[int, dict] = {}
    errors: list[BaseException] = []
    start = threading.Barrier(len(QUESTIONS))

    def ask(i: int, question: str) -> None:
        try:
            c = client(app_url)
            start.wait(timeout=120)
            results[i] = c.predict(question, "extractive", 4, api_name="/chat")
        except BaseException as exc:  # reported below
            errors.append(exc)

    threads = [threading.Thread(target=ask, args=(i, q)) for i, (q, _) in enumerate(QUESTIONS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert not errors, errors
    for i, (question, expected) in enumerate(QUESTIONS):
        result = results[i]
        assert result["question"] == question  # no session saw another's history
        assert not result["refused"], question
        assert expected.lower() in result["text"].lower(), (question, result["text"])
        assert result["citations"] and all(c["source"] == SEED for c in result["citations"])


@pytest.mark.server
def test_no_index_is_a_readable_error_and_the_page_recovers(settings, tmp_path):
    from gradio_client.exceptions import AppError

    from assistant.chat import ensure_index

    empty = settings.model_copy(update={"data_dir": tmp_path / "data", "corpus_dir": SEEDS})
    demo, url = serve(empty)
    try:
        c = client(url)
        with pytest.raises(AppError, match="run `assistant ingest` first") as info:
            c.predict("Who is the new head of Roscosmos?", api_name="/chat")
        assert "Traceback" not in str(info.value)

        assert ensure_index(empty) is True  # what `assistant chat --ingest` does
        assert ensure_index(empty) is False  # only when the index is empty
        result = c.predict("Who is the new head of Roscosmos?", api_name="/chat")
        assert "Borisov" in result["text"] and result["citations"]
    finally:
        demo.close()


@pytest.mark.server
def test_an_unreachable_openai_server_is_a_readable_error(app_url, settings):
    from gradio_client.exceptions import AppError

    down = settings.model_copy(
        update={"openai_base_url": f"http://127.0.0.1:{free_port()}/v1", "openai_timeout": 5.0}
    )
    demo, url = serve(down)
    try:
        c = client(url)
        with pytest.raises(AppError) as info:
            c.predict("Who is the new head of Roscosmos?", "openai", api_name="/chat")
        message = str(info.value)
        assert "openai" in message.lower() and "\n" not in message.strip()
        assert "Traceback" not in message
        result = c.predict("Who is the new head of Roscosmos?", "extractive", api_name="/chat")
        assert "Borisov" in result["text"]
    finally:
        demo.close()


# -- issue 12: copy text, markers while streaming, markup in questions, k, viewer -------------
def test_each_message_carries_its_plain_text_for_copy_and_screen_readers(pipeline):
    import html as html_lib
    import re

    from assistant.api import answer as ask
    from assistant.chat import plain_answer

    result = ask(
        "When was the first element of the ISS launched?",
        generator="extractive",
        settings=pipeline.settings,
    )
    plain = plain_answer(result)
    assert plain.startswith(result.text) and "<" not in plain
    assert f"[1] {SEED}, characters {result.citations[0].start}-" in plain
    shown = render_answer(result)
    carried = re.search(r'data-plain="([^"]*)"', shown)
    assert carried and html_lib.unescape(carried.group(1)) == plain
    assert 'data-plain="Could not answer: x &lt;y&gt;"' in render_error("x <y>")


def test_streamed_markers_are_numbered_as_the_checked_answer_numbers_them():
    from assistant.chat import renumber_markers

    assert renumber_markers("A [2]. B [3, 2]. C [2]") == "A [1]. B [2, 1]. C [1]"
    assert renumber_markers("no markers") == "no markers"


@pytest.mark.parametrize(
    "question",
    [
        "<img src=x onerror=alert(1)> When will Russia leave the ISS?",
        "**When** will Russia leave the ISS?",
    ],
)
def test_markup_in_a_question_is_reduced_to_its_text_before_searching(pipeline, question):
    from assistant.api import answer as ask
    from assistant.guard import strip_markup

    assert strip_markup(question) == "When will Russia leave the ISS?"
    result = ask(question, generator="extractive", settings=pipeline.settings)
    assert not result.refused and "2024" in result.text


def test_markup_stripping_keeps_plain_questions_as_they_are():
    from assistant.guard import strip_markup

    for q in ["What is 3 < 5 and 6 > 2?", "Is snake_case_name used in a*b*c?", "C++ or C#?"]:
        assert strip_markup(q) == q
    assert strip_markup("[the ISS](http://x) &amp; <b>Mir</b>?") == "the ISS & Mir ?"


def test_k_outside_the_slider_is_clamped_with_a_note():
    from assistant.chat.answering import clamp_k

    assert clamp_k(4) == (4, "")
    assert clamp_k(0) == (1, "k 0 is outside 1-20; used 1")
    assert clamp_k(99) == (20, "k 99 is outside 1-20; used 20")


def test_the_viewer_marks_the_cited_range_of_the_whole_document():
    from assistant.chat import render_viewer

    text = "Intro <b>x</b>.\nThe cited part. Its quote here.\nOutro."
    start = text.index("The cited")
    end = text.index("\nOutro")
    shown = render_viewer("a<b>.md", text, start, end, "Its quote here.")
    assert '<mark class="ca-cited">The cited part. <strong>Its quote here.</strong></mark>' in shown
    assert "Intro &lt;b&gt;x&lt;/b&gt;." in shown and "Outro." in shown
    assert "a&lt;b&gt;.md" in shown
    # A range past the end of the text is cut to it, never an error.
    assert render_viewer("a.md", "short", 3, 99).endswith(
        '<mark class="ca-cited">rt</mark></div></div>'
    )


# -- issue 12: documents added from the page --------------------------------------------------
ZORBLAX = "The Zorblax reactor opened in Oslo in 1987 after a decade of work by Ingrid Hale.\n"
ZORBLAX_Q = "When did the Zorblax reactor open in Oslo?"


@pytest.fixture
def own_settings(settings, embedder, tmp_path):
    """A data dir of its own holding the seed article (uploads change it)."""
    from assistant.corpus import ingest_paths

    own = settings.model_copy(update={"data_dir": tmp_path / "data"})
    ingest_paths(own, [SEEDS])
    return own


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
    from assistant.corpus import documents

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
    assert sorted(p.name for p in (own_settings.data_dir / "uploads").iterdir()) == ["zorblax.txt"]

    cited = ask(ZORBLAX_Q, generator="extractive", settings=own_settings)
    assert "1987" in cited.text and cited.citations[0].source == "uploads/zorblax.txt"

    assert remove_document(own_settings, "uploads/zorblax.txt").startswith("removed uploads/")
    assert not (own_settings.data_dir / "uploads" / "zorblax.txt").exists()
    again = ask(ZORBLAX_Q, generator="extractive", settings=own_settings)
    assert "uploads/zorblax.txt" not in {c.source for c in again.citations}

    tiny = own_settings.model_copy(update={"max_upload_file_mb": 0.00001, "max_upload_mb": 1})
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
        for endpoint in ("/chat", "/add_documents", "/remove_document"):  # named fields
            names = [p["parameter_name"] for p in api[endpoint]["parameters"]]
            assert names and not any(n.startswith("parameter_") for n in names), names
        summary, listed = c.predict([handle_file(str(doc))], api_name="/add_documents")
        assert summary.startswith("documents: 1 added")
        assert ["uploads/zorblax.md", 1] in listed["data"]
        answer = c.predict(ZORBLAX_Q, "extractive", 4, api_name="/chat")
        assert answer["citations"][0]["source"] == "uploads/zorblax.md"

        line, listed = c.predict("uploads/zorblax.md", api_name="/remove_document")
        assert line.startswith("removed uploads/zorblax.md") and len(listed["data"]) == 1
        with pytest.raises(AppError, match="no indexed document is called"):
            c.predict("uploads/zorblax.md", api_name="/remove_document")
    finally:
        demo.close()


# -- issue 12: serving beyond this machine needs sign-in ---------------------------------------
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
    assert resolve_auth("192.168.1.5", Settings().auth) == [("ann", "one"), ("bob", "two")]
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


def test_a_session_answers_one_question_at_a_time():
    from assistant.chat import answering

    first = answering.begin("session-a")
    assert first is not None and answering.begin("session-a") is None  # the second waits
    assert answering.begin("session-b") is not None  # other sessions are not held up
    assert answering.stop("session-a") and first.stop.is_set()
    answering.end("session-a")
    answering.end("session-b")
    assert answering.begin("session-a") is not None
    answering.end("session-a")


def test_uploads_at_once_are_serialised_and_queries_see_documents_whole(own_settings, tmp_path):
    from assistant.chat.documents import add_documents
    from assistant.corpus import documents, open_store

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
    from assistant.chat.handlers import Handlers

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
    shown = Handlers(own_settings).show_source(json.dumps(pick))
    assert '<mark class="ca-cited">' in shown and "Zorblax reactor opened in Oslo" in shown
    assert "Reactors" in shown and "&lt;p&gt;" not in shown and "var x" not in shown
    assert "no longer in the index" in Handlers(own_settings).show_source(
        json.dumps({**pick, "source": "uploads/gone.md"})
    )


def test_the_model_own_refusal_reply_is_not_shown_while_it_streams():
    from assistant.chat.answering import visible

    shown = [visible(t) for t in ("NOT_FO", "The tower was", "NOT")]
    assert shown == ["", "The tower was", ""]

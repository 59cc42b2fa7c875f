"""Documents with an owner: an upload from the chat is its uploader's until shared, and
another signed-in user's answers, list, viewer, scope and API never show it.

The real Gradio app with sign-in on a free loopback port over a copy of the seed index, the
real embedding model and the extractive generator; `answer(reader=...)` over the same index.
"""

from __future__ import annotations

import json

import pytest

from tests.servers import free_port

pytestmark = [pytest.mark.server, pytest.mark.filterwarnings("ignore:::gradio.queueing")]

ZORBLAX = "The Zorblax reactor opened in Oslo in 1987 after a decade of work by Ingrid Hale.\n"
QUESTION = "When did the Zorblax reactor open in Oslo?"
DOC = "uploads/zorblax.txt"
SEED = "russia-iss-withdrawal.txt"


@pytest.fixture
def two_users(own_settings, tmp_path, database_url):
    """The app with ann and bob signed in through their own clients, carol an administrator;
    the owners kept in SQLite, then in PostgreSQL."""
    from gradio_client import Client

    from assistant.chat import launch

    settings = own_settings.updated(chat={"admins": "carol"}, index={"database_url": database_url})
    port = free_port()
    users = [("ann", "pw-a"), ("bob", "pw-b"), ("carol", "pw-c")]
    demo = launch(settings, port=port, block=False, auth=users)
    url = f"http://127.0.0.1:{port}/"
    clients = {name: Client(url, auth=(name, pw), verbose=False) for name, pw in users}
    yield settings, clients, tmp_path
    demo.close()


def _upload(client, folder, name=DOC, text=ZORBLAX):
    from gradio_client import handle_file

    path = folder / name.removeprefix("uploads/")
    path.write_text(text, encoding="utf-8")
    return client.predict([handle_file(str(path))], api_name="/add_documents")


def _ask(client, question=QUESTION, sources=None) -> dict:
    return client.predict(question, "extractive", 4, sources, api_name="/chat")


def _sees(answer: dict) -> bool:
    """Whether anything of the answer (text, citations, closest passages, trace) shows it."""
    return "Ingrid Hale" in json.dumps(answer) or DOC in json.dumps(answer)


def _fails(client, *args, api_name: str) -> str:
    with pytest.raises(Exception) as raised:  # noqa: PT011 (gradio_client's AppError)
        client.predict(*args, api_name=api_name)
    return str(raised.value)


def test_a_private_upload_is_its_owners_alone_until_shared(two_users):
    _, c, folder = two_users
    summary, listed = _upload(c["ann"], folder)
    assert summary.startswith("documents: 1 added")
    assert [DOC, 1, "only you"] in listed["data"]
    assert any(cit["source"] == DOC for cit in _ask(c["ann"])["citations"])

    def bob_sees_nothing() -> None:
        assert not _sees(_ask(c["bob"]))
        assert "no indexed document is called" in _fails(
            c["bob"], QUESTION, "extractive", 4, [DOC], api_name="/chat"
        )
        assert "no indexed document" in _fails(c["bob"], DOC, api_name="/remove_document")
        assert "no indexed document" in _fails(c["bob"], DOC, True, api_name="/share_document")
        _, bobs = _upload(c["bob"], folder, "uploads/other.txt", "Nothing about reactors.\n")
        assert DOC not in json.dumps(bobs)

    bob_sees_nothing()
    line, _ = c["ann"].predict(DOC, True, api_name="/share_document")
    assert line == f"shared {DOC} with everyone"
    assert any(cit["source"] == DOC for cit in _ask(c["bob"])["citations"])
    assert "only the owner" in _fails(c["bob"], DOC, api_name="/remove_document")
    assert "only the owner" in _fails(c["bob"], DOC, False, api_name="/share_document")
    summary, _ = _upload(c["bob"], folder, DOC, "Bob's own reactor notes.\n")  # not replaced
    assert "another person's document has this name" in summary

    c["ann"].predict(DOC, False, api_name="/share_document")
    bob_sees_nothing()
    line, _ = c["carol"].predict(DOC, api_name="/remove_document")  # an administrator
    assert line.startswith(f"removed {DOC}")


def test_what_ingest_indexed_is_everyones_and_only_an_administrator_removes_it(two_users):
    _, c, _ = two_users
    assert SEED in json.dumps(_ask(c["bob"], "Who is the new head of Roscosmos?"))
    assert "only the owner" in _fails(c["bob"], SEED, api_name="/remove_document")
    assert "indexed for everyone" in _fails(c["carol"], SEED, False, api_name="/share_document")


def test_answer_with_a_reader_searches_only_what_that_reader_may_read(two_users):
    from assistant.api import answer
    from assistant.errors import BadInput

    settings, c, folder = two_users
    _upload(c["ann"], folder)
    assert any(cit.source == DOC for cit in answer(QUESTION, settings=settings).citations)
    mine = answer(QUESTION, settings=settings, reader="user:ann")
    assert any(cit.source == DOC for cit in mine.citations)
    theirs = answer(QUESTION, settings=settings, reader="user:bob")
    assert DOC not in {p.source for p in [*theirs.citations, *theirs.closest]}
    with pytest.raises(BadInput, match="no indexed document"):
        answer(QUESTION, settings=settings, reader="user:bob", sources=[DOC])

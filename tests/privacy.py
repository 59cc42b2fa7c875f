"""What the two-user privacy tests do through `gradio_client`: upload a document that only its
owner may read, ask about it, and see whether an answer shows it or a call is refused."""

from __future__ import annotations

import json

import pytest

ZORBLAX = "The Zorblax reactor opened in Oslo in 1987 after a decade of work by Ingrid Hale.\n"
QUESTION = "When did the Zorblax reactor open in Oslo?"
DOC = "uploads/zorblax.txt"


def upload(client, folder, name=DOC, text=ZORBLAX):
    """Upload one file (written into `folder` first) through `add_documents`."""
    from gradio_client import handle_file

    path = folder / name.removeprefix("uploads/")
    path.write_text(text, encoding="utf-8")
    return client.predict([handle_file(str(path))], api_name="/add_documents")


def ask(client, question=QUESTION, sources=None) -> dict:
    return client.predict(question, "extractive", 4, sources, api_name="/chat")


def sees(answer: dict) -> bool:
    """Whether anything of the answer (text, citations, closest passages, trace) shows it."""
    return "Ingrid Hale" in json.dumps(answer) or DOC in json.dumps(answer)


def cites(answer: dict) -> bool:
    return any(c["source"] == DOC for c in answer["citations"])


def fails(client, *args, api_name: str) -> str:
    """The one line a refused call fails with."""
    with pytest.raises(Exception) as raised:  # noqa: PT011 (gradio_client's AppError)
        client.predict(*args, api_name=api_name)
    return str(raised.value)


def sees_nothing(client, folder) -> None:
    """`client`'s user gets none of DOC: answers, scope, remove, share, the documents list."""
    assert not sees(ask(client))
    assert "no indexed document is called" in fails(
        client, QUESTION, "extractive", 4, [DOC], api_name="/chat"
    )
    assert "no indexed document" in fails(client, DOC, api_name="/remove_document")
    assert "no indexed document" in fails(client, DOC, True, api_name="/share_document")
    _, listed = upload(client, folder, "uploads/other.txt", "Nothing about reactors.\n")
    assert DOC not in json.dumps(listed)

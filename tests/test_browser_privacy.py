"""Two signed-in users in a real headless Chromium: ann's upload is hers until she shares it;
bob's documents list, status line, scope choices, answers and source viewer never show it,
and he can neither remove nor share it, also after she shares it and makes it private again.

One app (real extractive generator, sign-in on) over a data dir of its own, its conversations
and document owners in SQLite and then in a PostgreSQL server the tests start.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.pages import BROWSER_MARKS, ask, open_documents, sign_in, upload
from tests.servers import free_port, seeded_copy

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
ZORBLAX = "The Zorblax reactor opened in Oslo in 1987 after a decade of work by Ingrid Hale.\n"
QUESTION = "When did the Zorblax reactor open in Oslo?"
DOC = "uploads/zorblax.md"

pytestmark = BROWSER_MARKS


@pytest.fixture
def pages(browser, open_settings, tmp_path, database_url):
    """ann's and bob's signed-in pages on one app; its stores in SQLite, then PostgreSQL."""
    from assistant.chat import launch

    settings = seeded_copy(open_settings, tmp_path / "data", SEEDS)
    settings = settings.updated(index={"database_url": database_url})
    port = free_port()
    demo = launch(settings, port=port, block=False, auth=[("ann", "pw-a"), ("bob", "pw-b")])
    url = f"http://127.0.0.1:{port}/"
    contexts = [browser.new_context(), browser.new_context()]
    signed_in = []
    for context, (user, password) in zip(contexts, [("ann", "pw-a"), ("bob", "pw-b")], strict=True):
        page = context.new_page()
        page.set_default_timeout(60_000)
        sign_in(page, url, user, password)
        open_documents(page)
        signed_in.append(page)
    yield signed_in
    for context in contexts:
        context.close()
    demo.close()


def _table_says(page, text: str, present: bool = True) -> None:
    page.wait_for_function(
        "([t, present]) => { const d = document.querySelector('#ca-documents');"
        " return d && d.innerText.includes('chunks') && d.innerText.includes(t) === present; }",
        arg=[text, present],
        timeout=20_000,
    )


def _options(page, box: str) -> list[str]:
    field = page.locator(f"{box} input")
    field.evaluate("e => e.blur()")
    field.click()
    page.wait_for_timeout(300)
    names = [o.strip() for o in page.locator(f"{box} [role=option]").all_inner_texts()]
    page.keyboard.press("Escape")
    field.evaluate("e => e.blur()")
    return names


def _pick(page, name: str) -> None:
    page.locator("#ca-remove-choice input").click()
    page.locator("#ca-remove-choice [role=option]").filter(has_text=name).first.click()


def _result(page, button: str) -> str:
    summary = page.locator("#ca-upload-summary textarea")
    before = summary.input_value()
    page.locator(button).click()
    page.wait_for_function(
        "(b) => document.querySelector('#ca-upload-summary textarea').value !== b", arg=before
    )
    return summary.input_value()


def _bob_sees_none_of_it(bob) -> None:
    _table_says(bob, DOC, present=False)
    assert DOC not in bob.locator("#ca-status").inner_text()
    assert DOC not in _options(bob, "#ca-scope")
    answer = ask(bob, QUESTION)
    assert "Ingrid Hale" not in answer.inner_text() and DOC not in answer.inner_text()
    pick = json.dumps({"source": DOC, "start": 0, "end": 20, "quote": ""})
    bob.evaluate(  # a forged pick of ann's document, as the page's script would send it
        "(p) => { window.__caPick = p; document.querySelector('#ca-open-source').click(); }",
        pick,
    )
    bob.locator("#source-viewer").get_by_text("no longer in the index").first.wait_for()
    assert "Ingrid Hale" not in bob.locator("#source-viewer").inner_text()


def test_a_private_upload_stays_with_its_owner_until_shared_and_after_unsharing(pages):
    ann, bob = pages
    assert "1 added" in upload(ann, ("zorblax.md", ZORBLAX.encode()))
    _table_says(ann, "only you")
    assert DOC in _options(ann, "#ca-remove-choice")
    assert "Ingrid Hale" in ask(ann, QUESTION).inner_text()
    _bob_sees_none_of_it(bob)

    _pick(ann, DOC)
    assert _result(ann, "#ca-share") == f"shared {DOC} with everyone"
    _table_says(bob, DOC)  # within a refresh
    assert DOC in _options(bob, "#ca-scope") and DOC not in _options(bob, "#ca-remove-choice")
    assert "Ingrid Hale" in ask(bob, QUESTION).inner_text()

    _pick(ann, DOC)
    assert _result(ann, "#ca-private") == f"{DOC} is private again"
    _bob_sees_none_of_it(bob)
    _table_says(ann, "only you")

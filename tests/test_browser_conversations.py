"""Several conversations, the document scope and the thumbs in a real headless Chromium
(issue 21): the sidebar's new, rename, switch, delete and export; a reload keeps them; two
signed-in users never see each other's; a question scoped to one uploaded document is
answered from it alone; a thumbs down with the right answer exports as a suite item.

Each test runs its own app (real extractive generator) over a data dir of its own.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pages import (
    BROWSER_MARKS,
    ask,
    confirmed_click,
    open_chat,
    open_documents,
    sign_in,
    upload,
)
from tests.servers import free_port, seeded_copy
from tests.servers import serve_chat as serve

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED = "russia-iss-withdrawal.txt"
ZORBLAX = "The Zorblax reactor opened in Oslo in 1987 after a decade of work by Ingrid Hale.\n"
HEAD = "Who is the new head of Roscosmos?"
LAUNCH = "When was the first element of the ISS launched?"

pytestmark = BROWSER_MARKS


@pytest.fixture
def own_settings(open_settings, tmp_path):
    return seeded_copy(open_settings, tmp_path / "data", SEEDS)


@pytest.fixture
def own(own_settings):
    demo, url = serve(own_settings)
    yield url, own_settings
    demo.close()


TITLES, QUESTIONS = "#ca-conversations label", "#ca-chat [data-testid=user]"


def _texts(page, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(selector).all_inner_texts()]


def _wait_texts(page, selector: str, expected: list[str]) -> None:
    page.wait_for_function(
        "([sel, want]) => JSON.stringify([...document.querySelectorAll(sel)]"
        ".map(l => l.innerText.trim())) === JSON.stringify(want)",
        arg=[selector, expected],
    )


def _titles(page) -> list[str]:
    return _texts(page, TITLES)


def _wait_titles(page, expected: list[str]) -> None:
    _wait_texts(page, TITLES, expected)


def _questions(page) -> list[str]:
    return _texts(page, QUESTIONS)


def _wait_questions(page, expected: list[str]) -> None:
    _wait_texts(page, QUESTIONS, expected)


def test_new_rename_switch_reload_export_and_delete(page, own):
    url, _ = own
    open_chat(page, url)
    ask(page, HEAD)
    _wait_titles(page, [HEAD])
    page.locator("#ca-conv-new").click()
    _wait_questions(page, [])
    ask(page, LAUNCH)
    _wait_titles(page, [LAUNCH, HEAD])  # newest first

    page.locator("#ca-conv-title textarea, #ca-conv-title input").first.fill("ISS launch")
    page.locator("#ca-conv-rename").click()
    _wait_titles(page, ["ISS launch", HEAD])

    page.locator("#ca-conversations label").filter(has_text=HEAD).click()
    _wait_questions(page, [HEAD])
    page.reload()
    page.locator("#ca-question textarea").wait_for()
    _wait_titles(page, ["ISS launch", HEAD])
    _wait_questions(page, [HEAD])  # the open conversation, from the server

    page.locator("#ca-conv-export").click()
    link = page.locator("#ca-conv-file a").first
    link.wait_for()
    with page.expect_download() as info:
        link.click()
    text = Path(info.value.path()).read_text(encoding="utf-8")
    assert text.startswith(f"# {HEAD}\n") and f"## {HEAD}" in text
    assert "[1]" in text and f"[1] {SEED} (characters " in text and "Sources:" in text

    confirmed_click(page, "#ca-conv-delete")
    _wait_titles(page, ["ISS launch"])
    _wait_questions(page, [])
    page.reload()
    page.locator("#ca-question textarea").wait_for()
    _wait_titles(page, ["ISS launch"])


def test_two_signed_in_users_never_see_each_others_conversations(browser, own_settings):
    from assistant.chat import launch
    from assistant.stores.conversations import Conversations

    port = free_port()
    demo = launch(own_settings, port=port, block=False, auth=[("ann", "pw"), ("bob", "pw2")])
    url = f"http://127.0.0.1:{port}/"
    ann_ctx, bob_ctx = browser.new_context(), browser.new_context()
    try:
        ann, bob = ann_ctx.new_page(), bob_ctx.new_page()
        for p in (ann, bob):
            p.set_default_timeout(60_000)
        sign_in(ann, url, "ann", "pw")
        ask(ann, HEAD)
        _wait_titles(ann, [HEAD])
        sign_in(bob, url, "bob", "pw2")
        _wait_questions(bob, [])
        assert _titles(bob) == []
        ask(bob, LAUNCH)
        _wait_titles(bob, [LAUNCH])
        ann.reload()
        ann.locator("#ca-question textarea").wait_for()
        _wait_titles(ann, [HEAD])
        store = Conversations(own_settings.index.data_dir)
        assert [s.title for s in store.list("user:ann")] == [HEAD]
        assert [s.title for s in store.list("user:bob")] == [LAUNCH]
    finally:
        ann_ctx.close()
        bob_ctx.close()
        demo.close()


def _toggle_scope(page, name: str) -> None:
    box = page.locator("#ca-scope input")
    box.click()
    page.locator("#ca-scope [role=option]").first.wait_for()
    page.locator("#ca-scope [role=option]").filter(has_text=name).first.click()
    page.keyboard.press("Escape")
    box.evaluate("e => e.blur()")


def _cited(bot) -> set[str]:
    return {s.strip() for s in bot.locator(".ca-source .ca-file").all_inner_texts()}


def test_a_question_scoped_to_one_uploaded_document_is_answered_from_it_alone(page, own):
    url, settings = own
    open_chat(page, url)
    open_documents(page)
    assert "1 added" in upload(page, ("zorblax.md", ZORBLAX.encode()))
    page.wait_for_function(
        "() => document.querySelector('#ca-documents').innerText.includes('uploads/zorblax.md')"
    )
    unscoped = ask(page, "When did the Zorblax reactor open?")
    assert "uploads/zorblax.md" in _cited(unscoped)

    _toggle_scope(page, SEED)
    scoped = ask(page, "When did the Zorblax reactor open?")
    assert "uploads/zorblax.md" not in _cited(scoped)
    _toggle_scope(page, "uploads/zorblax.md")
    _toggle_scope(page, SEED)  # off again: only the upload
    page.wait_for_function(
        "() => { const t = document.querySelector('#ca-scope').innerText;"
        " return t.includes('uploads/zorblax.md') && !t.includes('russia'); }"
    )
    scoped = ask(page, HEAD)
    assert _cited(scoped) <= {"uploads/zorblax.md"}

    page.reload()  # the scope is kept with the conversation
    page.locator("#ca-question textarea").wait_for()
    page.locator("#ca-scope").get_by_text("uploads/zorblax.md").first.wait_for()
    assert SEED not in page.locator("#ca-scope").inner_text()


def test_a_thumbs_down_with_the_right_answer_exports_as_a_suite_item(
    page, own, tmp_path, monkeypatch
):
    from assistant.stores.feedback import DOWN, FeedbackStore, export
    from eval.suites.suite import load_suite

    url, settings = own
    open_chat(page, url)
    ask(page, HEAD)
    page.locator("#ca-chat button[aria-label=Dislike]").last.click()
    page.locator("#ca-feedback-right textarea, #ca-feedback-right input").first.fill("Yuri Borisov")
    page.locator("#ca-feedback-note textarea, #ca-feedback-note input").first.fill("too long")
    page.locator("#ca-feedback-send").click()
    page.get_by_text("the export makes a test question of it").first.wait_for()
    (stored,) = FeedbackStore(settings.index.data_dir).all()
    assert stored.rating == DOWN and stored.note == "too long" and stored.answer["trace"]
    assert stored.owner.startswith("browser:") and stored.turn == 0

    out = tmp_path / "suite.jsonl"
    done = export(settings.index.data_dir, out)
    assert done.written == 1 and done.review == []
    (item,) = load_suite(out)
    assert item.question == HEAD and item.answers == ["Yuri Borisov"] and item.answerable
    assert item.evidence[0] in (SEEDS / SEED).read_text(encoding="utf-8")

    # ... and `assistant eval --suite` runs on the export, over the documents it came from
    from assistant.cli import main

    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path / "eval-data"))
    argv = ["eval", "--suite", str(out), "--docs", str(SEEDS), "--generator", "extractive"]
    assert main([*argv, "--results", str(tmp_path / "results"), "--quiet", "--no-gate"]) == 0
    (run,) = (tmp_path / "results").iterdir()
    assert (run / "report.json").is_file()


@pytest.fixture
def slow_load(own_settings, monkeypatch):
    """An app whose page-load event (the sidebar's: who this is, the open conversation) takes
    3 s, as on a loaded machine: a question can be asked and answered before it is done."""
    import functools
    import time

    from assistant.chat.sidebar import Sidebar

    loaded = Sidebar.load

    @functools.wraps(loaded)  # the same parameters (Gradio passes the request by its hint)
    def load(self, *args, **kwargs):
        time.sleep(3)
        return loaded(self, *args, **kwargs)

    monkeypatch.setattr(Sidebar, "load", load)
    demo, url = serve(own_settings)
    yield url
    demo.close()


def test_a_question_asked_before_the_page_finished_loading_is_kept(page, slow_load):
    open_chat(page, slow_load)
    answer = ask(page, HEAD)  # at once: the page's load event is still running
    assert "Borisov" in answer.locator(".ca-answer").inner_text()
    _wait_titles(page, [HEAD])  # kept in a conversation of this browser's
    assert _questions(page) == [HEAD]
    assert page.locator("#ca-chat [data-testid=bot]").count() == 1

"""Asking in a real headless Chromium while an answer is being written.

The app's `openai` generator points at a server that never answers, so an answer stays
"being written" as long as a test needs; `extractive` answers for real.
"""

from __future__ import annotations

import pytest

from tests.pages import BROWSER_MARKS, ask, open_chat
from tests.servers import SilentServer
from tests.servers import serve_chat as serve

pytestmark = BROWSER_MARKS
QUESTION = "Who is the new head of Roscosmos?"


@pytest.fixture(scope="module")
def hanging_app(settings):
    silent = SilentServer()
    hanging = settings.updated(
        answer={"generator": "openai"}, openai={"openai_base_url": silent.url, "openai_timeout": 60}
    )
    demo, url = serve(hanging)
    yield url
    demo.close()
    silent.close()


def _start_hanging_answer(page, url):
    open_chat(page, url)
    box = page.locator("#ca-question textarea")
    box.fill(QUESTION)
    box.press("Enter")
    page.locator("#ca-chat .ca-progress").first.wait_for()
    return box


def _use_extractive(page):
    page.get_by_label("Generator").click()
    page.get_by_role("option", name="extractive").click()


def test_stop_before_any_text_is_one_line_without_the_citations_remark(page, hanging_app):
    _start_hanging_answer(page, hanging_app)
    page.locator("#ca-stop").click()
    stopped = page.locator("#ca-chat [data-testid=bot]").last.locator(".ca-stopped")
    stopped.wait_for()
    shown = page.locator("#ca-chat [data-testid=bot]").last.inner_text()
    assert stopped.inner_text() == "Stopped before the answer began."
    assert "citations" not in shown and "no text yet" not in shown


def test_k_typed_out_of_range_is_one_note_and_the_box_shows_the_k_used(page, hanging_app):
    errors: list[str] = []
    page.on("response", lambda r: errors.append(r.url) if r.status >= 500 else None)
    open_chat(page, hanging_app)
    _use_extractive(page)
    number = page.locator("#ca-k input[type=number]")
    number.fill("50")
    number.press("Tab")
    assert page.locator("#ca-k-note").inner_text() == "k 50 is outside 1-20; used 20"
    assert number.input_value() == "20"
    answer = ask(page, QUESTION)
    assert "Borisov" in answer.locator(".ca-answer").inner_text()
    assert answer.locator(".ca-note").count() == 0  # the note is said once, by the box
    assert errors == [] and page.locator(".toast-body").count() == 0


def test_clear_while_an_answer_is_written_stops_it_and_clears(page, hanging_app):
    _start_hanging_answer(page, hanging_app)
    page.locator("#ca-chat button[aria-label='Clear']").click()
    page.wait_for_function("() => !document.querySelector('#ca-chat [data-testid=user]')")
    page.wait_for_timeout(1000)  # an answer still streaming would come back by now
    assert page.locator("#ca-chat [data-testid=bot], #ca-chat [data-testid=user]").count() == 0
    page.wait_for_function(
        "() => !document.querySelector('#ca-stop:not([hidden])')"
        " || document.querySelector('#ca-stop').offsetParent === null"
    )
    _use_extractive(page)
    assert "Borisov" in ask(page, QUESTION).locator(".ca-answer").inner_text()


def test_the_next_question_can_be_typed_while_an_answer_is_written(page, hanging_app):
    box = _start_hanging_answer(page, hanging_app)
    assert box.is_enabled()
    _use_extractive(page)
    box.fill("When was the first element of the ISS launched?")
    box.press("Enter")  # queued: this answer is still being written
    assert page.locator("#ca-queued").inner_text() == "Sent as soon as this answer is done."
    assert page.locator("#ca-chat [data-testid=user]").count() == 1
    page.locator("#ca-stop").click()
    second = page.locator("#ca-chat [data-testid=bot]").nth(1)
    second.locator(".ca-meta").wait_for()
    assert "1998" in second.inner_text()
    users = page.locator("#ca-chat [data-testid=user]")
    assert users.nth(1).inner_text() == "When was the first element of the ISS launched?"
    assert page.locator("#ca-queued").is_hidden()  # the note, once empty, takes no room

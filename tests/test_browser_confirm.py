"""Delete (a conversation) and Remove (a document) ask before they act, in a real headless
Chromium: one click, a double click or a click that is let lapse deletes nothing; a second
click on "Confirm ...?" does; the keyboard can do all of it; axe finds nothing serious on a
button that asks.

Each test runs its own app over a data dir of its own holding the seed article.
"""

from __future__ import annotations

import pytest

from tests.pages import BROWSER_MARKS, ask, confirmed_click, open_chat, open_documents
from tests.servers import serve_chat as serve
from tests.test_browser_a11y import SERIOUS, axe

SEED = "russia-iss-withdrawal.txt"
HEAD = "Who is the new head of Roscosmos?"
TITLES, QUESTIONS = "#ca-conversations label", "#ca-chat [data-testid=user]"
ARMED = "(sel) => document.querySelector(sel).hasAttribute('data-ca-armed')"
CALM = "(sel) => !document.querySelector(sel).hasAttribute('data-ca-armed')"

pytestmark = BROWSER_MARKS


@pytest.fixture
def own(own_settings):
    demo, url = serve(own_settings)
    yield url
    demo.close()


def _texts(page, selector: str) -> list[str]:
    return [t.strip() for t in page.locator(selector).all_inner_texts()]


def _label(page, selector: str) -> str:
    return page.locator(selector).inner_text().strip()


def _one_conversation(page, url) -> None:
    open_chat(page, url)
    ask(page, HEAD)
    page.wait_for_function(
        "(sel) => document.querySelectorAll(sel).length === 1", arg=TITLES, timeout=15_000
    )


def test_delete_asks_first_and_a_stray_or_double_click_deletes_nothing(page, own):
    _one_conversation(page, own)
    delete = page.locator("#ca-conv-delete")

    delete.click()  # a stray click: the button asks, nothing goes
    assert _label(page, "#ca-conv-delete") == "Confirm delete?"
    note = page.locator("#ca-confirm-note")
    page.wait_for_function("() => document.querySelector('#ca-confirm-note')?.textContent")
    assert f"delete the conversation \u201c{HEAD}\u201d" in note.inner_text()
    page.wait_for_timeout(1000)
    assert (_texts(page, TITLES), _texts(page, QUESTIONS)) == ([HEAD], [HEAD])
    page.wait_for_function(CALM, arg="#ca-conv-delete", timeout=8000)  # it lapses
    assert _label(page, "#ca-conv-delete") == "Delete"

    delete.dblclick()  # one gesture: asks, does not confirm its own question
    page.wait_for_timeout(1000)
    assert _label(page, "#ca-conv-delete") == "Confirm delete?"
    assert _texts(page, TITLES) == [HEAD]
    page.locator("#ca-title").click()  # a click elsewhere: back to Delete
    page.wait_for_function(CALM, arg="#ca-conv-delete")
    assert _label(page, "#ca-conv-delete") == "Delete"
    page.wait_for_timeout(1000)
    assert _texts(page, TITLES) == [HEAD]

    confirmed_click(page, "#ca-conv-delete")  # asked and confirmed: gone
    page.wait_for_function("(sel) => !document.querySelector(sel)", arg=TITLES)
    assert _texts(page, QUESTIONS) == []
    assert _label(page, "#ca-conv-delete") == "Delete"


def test_remove_asks_first_and_the_keyboard_can_cancel_and_confirm(page, own):
    open_chat(page, own)
    open_documents(page)
    page.wait_for_function(
        "(seed) => document.querySelector('#ca-documents').innerText.includes(seed)", arg=SEED
    )
    page.locator("#ca-remove-choice input").click()
    page.get_by_role("option", name=SEED).click()
    remove = page.locator("#ca-remove")
    summary = page.locator("#ca-upload-summary textarea")

    remove.focus()
    page.keyboard.press("Enter")
    page.wait_for_function(ARMED, arg="#ca-remove")
    assert _label(page, "#ca-remove") == "Confirm remove?"
    page.wait_for_function("() => document.querySelector('#ca-confirm-note')?.textContent")
    assert f"remove {SEED} from the index" in page.locator("#ca-confirm-note").inner_text()
    page.keyboard.press("Escape")  # changed my mind
    page.wait_for_function(CALM, arg="#ca-remove")
    assert _label(page, "#ca-remove") == "Remove"
    page.wait_for_timeout(1000)
    assert summary.input_value() == "" and SEED in page.locator("#ca-documents").inner_text()

    page.keyboard.press("Space")  # focus stayed on the button: Space asks ...
    page.wait_for_function(ARMED, arg="#ca-remove")
    page.wait_for_timeout(600)
    page.keyboard.press("Enter")  # ... and Enter confirms
    page.wait_for_function(
        "() => document.querySelector('#ca-upload-summary textarea').value.startsWith('removed')"
    )
    page.wait_for_function(
        "(seed) => !document.querySelector('#ca-documents').innerText.includes(seed)", arg=SEED
    )


@pytest.mark.parametrize("scheme", ["light", "dark"])
def test_axe_finds_nothing_serious_on_a_button_that_asks(browser, own, scheme):
    context = browser.new_context(viewport={"width": 1280, "height": 900}, color_scheme=scheme)
    try:
        page = context.new_page()
        page.set_default_timeout(60_000)
        _one_conversation(page, f"{own}?__theme={scheme}")
        open_documents(page)
        page.locator("#ca-remove-choice input").click()
        page.get_by_role("option", name=SEED).click()
        for button in ("#ca-conv-delete", "#ca-remove"):
            page.locator(button).click()
            page.wait_for_function(ARMED, arg=button)
            page.wait_for_timeout(300)  # any fading of colours is over
            found = [v for v in axe(page) if v[0] in SERIOUS]
            assert page.evaluate(ARMED, button), "it lapsed before axe was done"
            assert found == [], button
            page.keyboard.press("Escape")
    finally:
        context.close()

"""The chat page in a real headless Chromium: the browser, a page, and what a user does on it.

A pytest plugin (tests/conftest.py loads it): the `browser`, `page` and `outside` fixtures,
and helpers the browser tests share. Debian's `chromium`, driven by Playwright (never
`playwright install`: it downloads a browser).
"""

from __future__ import annotations

import os

import pytest

CHROMIUM = os.environ.get("ASSISTANT_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
TIMEOUT_MS = 60_000
DESKTOP = {"width": 1280, "height": 900}  # open_page's viewport unless told
# The marks of every browser test module (`pytestmark = BROWSER_MARKS`).
BROWSER_MARKS = [
    pytest.mark.browser,
    pytest.mark.server,
    pytest.mark.filterwarnings("ignore:::gradio.queueing"),
    pytest.mark.skipif(
        not os.path.exists(CHROMIUM),
        reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)",
    ),
]


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        chromium = pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield chromium
        chromium.close()


@pytest.fixture
def outside() -> list[str]:
    """URLs the page requested from anywhere but the loopback server."""
    return []


@pytest.fixture
def page(browser, outside):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)

    def record(request):
        if not request.url.startswith(("http://127.0.0.1", "data:", "blob:")):
            outside.append(request.url)

    page.on("request", record)
    yield page
    context.close()


@pytest.fixture
def open_page(browser):
    """A page factory: open_page(scheme, viewport) -> a page on a context closed after."""
    contexts = []

    def make(scheme="light", viewport=None):
        viewport = viewport or DESKTOP
        phone = viewport["width"] < 700  # a phone's browser: touch, and its own user agent
        context = browser.new_context(
            viewport=viewport, color_scheme=scheme, is_mobile=phone, has_touch=phone
        )
        contexts.append(context)
        page = context.new_page()
        page.set_default_timeout(TIMEOUT_MS)
        return page

    yield make
    for context in contexts:
        context.close()


def sign_in(page, url: str, user: str, password: str) -> None:
    """Sign in on the app's sign-in page and wait for the chat."""
    page.goto(url)
    page.locator("input[type=password]").wait_for()
    page.locator("input:not([type=password])").first.fill(user)
    page.locator("input[type=password]").fill(password)
    page.get_by_role("button", name="Login").click()
    page.locator("#ca-question textarea").wait_for()


def open_chat(page, url):
    page.goto(url)
    box = page.locator("#ca-question textarea")
    box.wait_for()
    return box


def ask(page, question):
    """Type a question, press Enter, wait for the answer (or refusal/error) to settle."""
    bots = page.locator("#ca-chat [data-testid=bot]")
    before = bots.count()
    box = page.locator("#ca-question textarea")
    box.fill(question)
    box.press("Enter")
    bots.nth(before).wait_for()
    done = bots.nth(before).locator(".ca-meta, .ca-refusal, .ca-error")
    done.first.wait_for()
    page.wait_for_function(  # the Stop button is gone: the page takes the next question
        "() => { const s = document.querySelector('#ca-stop');"
        " return !s || s.offsetParent === null; }"
    )
    return bots.nth(before)


def open_documents(page):
    page.locator("#ca-documents-panel").get_by_text("Documents").first.click()
    page.locator("#upload").wait_for()


def upload(page, *files):
    """Upload (name, bytes) files through the page's upload control; the result's text."""
    summary = page.locator("#ca-upload-summary textarea")
    before = summary.input_value()
    page.locator("#upload input[type=file]").set_input_files(
        [{"name": n, "mimeType": "text/plain", "buffer": b} for n, b in files]
    )
    page.wait_for_function(
        "(before) => { const t = document.querySelector('#ca-upload-summary textarea');"
        " return t && t.value && t.value !== before; }",
        arg=before,
    )
    return summary.input_value()


def confirmed_click(page, selector: str) -> None:
    """Click a button that asks first (Delete, Remove: confirm.js) and confirm: the first
    click turns it into "Confirm ...?", a second one after the double-click window acts."""
    button = page.locator(selector)
    button.click()
    page.wait_for_function(
        "(sel) => document.querySelector(sel).hasAttribute('data-ca-armed')", arg=selector
    )
    page.wait_for_timeout(600)  # a second click sooner is taken for a double click
    button.click()

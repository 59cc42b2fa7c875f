"""The chat page in a real headless Chromium (Debian's package, driven by Playwright).

Two apps run on free loopback ports: one over the seed article, one over a document whose
name and text carry HTML/JS payloads. Set UPDATE_SCREENSHOT=1 to refresh docs/screenshot.png.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.servers import free_port
from tests.servers import serve_chat as serve

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED = "russia-iss-withdrawal.txt"
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

pytestmark = [
    pytest.mark.browser,
    pytest.mark.server,
    pytest.mark.filterwarnings("ignore:::gradio.queueing"),
    pytest.mark.skipif(
        not Path(CHROMIUM).exists(), reason=f"no Chromium at {CHROMIUM} (apt-get install chromium)"
    ),
]

# Sets a flag, changes the title or opens a dialog if any of it ever runs.
RUN = "window.__pwned=1;document.title='pwned'"
PAYLOAD_NAME = "<img src=x onerror=alert(1)>${alert(2)}.md"
PAYLOAD_TEXT = f"""Zorblax reactor notes <script>{RUN}</script>
The Zorblax reactor opened in Oslo in 1987 <img src=x onerror="{RUN}"> after a decade of work.
Its loop uses <svg onload=alert(3)></svg> salt <iframe src="javascript:alert(4)"></iframe>.
[click me](javascript:alert(5)) <a href="javascript:alert(6)">link</a> $$x$$ ${{alert(7)}}
"""
PAYLOAD_QUESTION = f'When did the Zorblax reactor open in Oslo? <img src=y onerror="{RUN}">'


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


@pytest.fixture(scope="module")
def seed_app(settings):
    # `openai` points at a closed port: the error test needs a server that is down.
    down = f"http://127.0.0.1:{free_port()}/v1"
    demo, url = serve(settings.model_copy(update={"openai_base_url": down, "openai_timeout": 5}))
    yield url
    demo.close()


@pytest.fixture(scope="module")
def payload_app(settings, embedder, tmp_path_factory):
    from index import Store, ingest

    corpus = tmp_path_factory.mktemp("payload-corpus")
    (corpus / PAYLOAD_NAME).write_text(PAYLOAD_TEXT, encoding="utf-8")
    data_dir = tmp_path_factory.mktemp("payload-data")
    ingest([corpus], Store(data_dir), embedder, progress=False)
    demo, url = serve(settings.model_copy(update={"data_dir": data_dir}))
    yield url
    demo.close()


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
    page.wait_for_function("() => !document.querySelector('#ca-question textarea').disabled")
    return bots.nth(before)


def watch_chat(page):
    """Record the kinds of bot message the chat shows, as the page renders them."""
    page.evaluate(
        """() => {
        window.__seen = new Set();
        const chat = document.querySelector('#ca-chat');
        new MutationObserver(() => {
            for (const el of chat.querySelectorAll('.ca-pending, .ca-streaming, .ca-answer'))
                window.__seen.add(el.className);
        }).observe(chat, {childList: true, subtree: true, characterData: true});
    }"""
    )


def test_a_streamed_answer_shows_its_cited_passage(page, seed_app, outside, tmp_path):
    open_chat(page, seed_app)
    status = page.locator("#ca-status")
    assert SEED in status.inner_text() and "extractive" in status.inner_text()
    watch_chat(page)

    answer = ask(page, "When was the first element of the ISS launched?")
    seen = page.evaluate("() => [...window.__seen]")
    assert any("ca-pending" in s or "ca-streaming" in s for s in seen), seen  # shown as it came

    text = answer.locator(".ca-answer").inner_text()
    assert "1998" in text and "[1]" in text
    source = answer.locator(".ca-source").first
    assert SEED in source.locator(".ca-file").inner_text()
    marked = source.locator(".ca-passage mark").inner_text()
    assert "The first element of the ISS was launched in 1998." in marked
    passage = source.locator(".ca-passage").inner_text()
    assert marked in passage and len(passage) > len(marked)  # the quote inside its passage

    # The screenshot of a cited answer (docs/screenshot.png when UPDATE_SCREENSHOT=1).
    picture = page.screenshot()
    (tmp_path / "screenshot.png").write_bytes(picture)
    if os.environ.get("UPDATE_SCREENSHOT"):
        (ROOT / "docs").mkdir(exist_ok=True)
        (ROOT / "docs" / "screenshot.png").write_bytes(picture)

    # A clicked example asks it; earlier answers keep their sources; the conversation goes on.
    page.get_by_text("Who is the new head of Roscosmos?").first.click()
    page.locator("#ca-chat [data-testid=bot]").nth(1).locator(".ca-meta").wait_for()
    follow = ask(page, "Who did he announce the withdrawal to?")
    assert "Putin" in follow.locator(".ca-answer").inner_text()
    assert page.locator("#ca-chat .ca-sources").count() == 3
    assert outside == []  # everything came from the loopback server


def test_refusals_and_errors_look_different_and_the_page_keeps_working(page, seed_app):
    open_chat(page, seed_app)
    refusal = ask(page, "Who won the 2018 World Cup?")
    assert "Not in the documents" in refusal.locator(".ca-refusal").inner_text()
    assert refusal.locator(".ca-sources").count() == 0

    # The openai generator with no server behind it: a readable error, not a stack trace.
    page.get_by_label("Generator").click()
    page.get_by_role("option", name="openai").click()
    error = ask(page, "Who is the new head of Roscosmos?")
    message = error.locator(".ca-error").inner_text()
    assert "Could not answer" in message and "Traceback" not in message

    page.get_by_label("Generator").click()
    page.get_by_role("option", name="extractive").click()
    answer = ask(page, "Who is the new head of Roscosmos?")
    assert "Borisov" in answer.locator(".ca-answer").inner_text()
    assert answer.locator(".ca-source mark").count() >= 1


def test_html_and_script_in_documents_and_questions_run_nothing(page, payload_app, outside):
    dialogs = []
    page.on("dialog", lambda d: (dialogs.append(d.message), d.dismiss()))
    open_chat(page, payload_app)
    title = page.title()
    status = page.locator("#ca-status").inner_text()
    assert "<img src=x onerror=alert(1)>${alert(2)}.md" in status  # the file name, as text

    answer = ask(page, PAYLOAD_QUESTION)
    question = page.locator("#ca-chat [data-testid=user]").last.inner_text()
    assert 'onerror="window.__pwned=1' in question  # shown as text

    source = answer.locator(".ca-source").first
    assert PAYLOAD_NAME in source.locator(".ca-file").inner_text()
    passage = source.locator(".ca-passage").inner_text()
    assert f"<script>{RUN}</script>" in passage
    assert "<svg onload=alert(3)></svg>" in passage and "[click me](javascript:" in passage
    assert "$$x$$ ${alert(7)}" in passage
    assert "1987" in source.locator("mark").inner_text()

    page.wait_for_timeout(500)  # let any injected handler fire
    assert dialogs == []
    assert page.evaluate("() => window.__pwned") is None
    assert page.title() == title
    injected = page.locator(
        "#ca-chat img[src=x], #ca-chat img[src=y], #ca-chat script, #ca-chat svg[onload], "
        "#ca-chat iframe, #ca-chat a[href^=javascript], #ca-status img"
    )
    assert injected.count() == 0
    assert outside == []

"""The chat page in a real headless Chromium (Debian's package, driven by Playwright).

Two apps run on free loopback ports: one over the seed article, one over a document whose
name and text carry HTML/JS payloads. Set UPDATE_SCREENSHOT=1 to refresh docs/screenshot.png.
"""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from tests.pages import (
    BROWSER_MARKS,
    TIMEOUT_MS,
    ask,
    confirmed_click,
    open_chat,
    open_documents,
    upload,
)
from tests.servers import openai_down, seeded_copy
from tests.servers import serve_chat as serve

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED = "russia-iss-withdrawal.txt"
pytestmark = BROWSER_MARKS

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
def seed_app(settings):
    demo, url = serve(openai_down(settings))  # `openai` is a server that is down
    yield url
    demo.close()


@pytest.fixture(scope="module")
def payload_app(settings, embedder, tmp_path_factory):
    from index import Store, ingest

    corpus = tmp_path_factory.mktemp("payload-corpus")
    (corpus / PAYLOAD_NAME).write_text(PAYLOAD_TEXT, encoding="utf-8")
    data_dir = tmp_path_factory.mktemp("payload-data")
    ingest(
        [corpus], Store(data_dir), embedder, progress=False,
        chunk_size=settings.index.chunk_size, overlap=settings.index.chunk_overlap,
    )  # fmt: skip
    demo, url = serve(settings.updated(index={"data_dir": data_dir}))
    yield url
    demo.close()


def watch_chat(page):
    """Record the kinds of bot message the chat shows, as the page renders them."""
    page.evaluate(
        """() => {
        window.__seen = new Set();
        const kinds = '#ca-chat :is(.ca-pending, .ca-streaming, .ca-answer)';
        // the whole page is watched: the chat may not be drawn yet, or be drawn again
        new MutationObserver(() => {
            for (const el of document.querySelectorAll(kinds)) window.__seen.add(el.className);
        }).observe(document.body, {childList: true, subtree: true, characterData: true});
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

    # The screenshot of a cited answer (docs/screenshot.png when UPDATE_SCREENSHOT=1), once
    # the page has unlocked (Stop gone).
    page.locator("#ca-stop").wait_for(state="hidden")
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


# -- uploads, the source viewer, a reload, copy ------------------------------------------------
ZORBLAX = "The Zorblax reactor opened in Oslo in 1987 after a decade of work by Ingrid Hale.\n"
ZORBLAX_Q = "When did the Zorblax reactor open in Oslo?"


@pytest.fixture
def own_app(settings, tmp_path):
    """An app over a data dir of its own (uploads change it); small upload limits."""
    small = settings.updated(uploads={"max_upload_file_mb": 0.01})  # 10 kB
    demo, url = serve(seeded_copy(small, tmp_path / "data", SEEDS))
    yield url
    demo.close()


def test_an_uploaded_document_is_cited_and_once_removed_is_gone(page, own_app):
    open_chat(page, own_app)
    open_documents(page)
    result = upload(page, ("zorblax.txt", ZORBLAX.encode()))
    assert result.startswith("documents: 1 added")
    assert "uploads/zorblax.txt" in page.locator("#ca-documents").inner_text()

    answer = ask(page, ZORBLAX_Q)
    assert "1987" in answer.locator(".ca-answer").inner_text()
    assert answer.locator(".ca-file").first.inner_text() == "uploads/zorblax.txt"

    page.locator("#ca-remove-choice input").click()
    page.get_by_role("option", name="uploads/zorblax.txt").click()
    confirmed_click(page, "#ca-remove")
    page.wait_for_function(
        "() => document.querySelector('#ca-upload-summary textarea').value.startsWith('removed')"
    )
    assert "uploads/zorblax.txt" not in page.locator("#ca-documents").inner_text()
    again = ask(page, ZORBLAX_Q)  # extractive answers from what is left, or refuses
    gone = (again.locator(".ca-file", has_text="zorblax").count(), "1987" in again.inner_text())
    assert gone == (0, False)


def test_a_path_traversal_name_and_an_oversized_file_are_refused_in_one_line(page, own_app):
    open_chat(page, own_app)
    open_documents(page)
    # A browser keeps only the last part of a name with slashes; backslashes it sends on.
    traversal = ("..\\..\\escape.txt", ZORBLAX.encode())
    result = upload(page, traversal, ("big.txt", b"word " * 4000))
    lines = result.splitlines()
    assert lines[0] == "documents: nothing added; 2 file(s) skipped"
    assert lines[1].startswith("skipped uploads/") and "holds a path" in lines[1]
    assert lines[2] == "skipped uploads/big.txt: 0.0 MB is over the 0.01 MB limit per file"
    assert "uploads/" not in page.locator("#ca-documents").inner_text()  # nothing added


def test_a_clicked_source_opens_its_document_at_the_cited_range(page, seed_app):
    open_chat(page, seed_app)
    answer = ask(
        page,
        "Which year will be the last year of cooperation between the United "
        "States and Russia on board the ISS?",
    )
    quote = answer.locator(".ca-source mark").first.inner_text()
    answer.locator(".ca-cite").first.click()
    cited = page.locator("#source-viewer mark.ca-cited")
    cited.wait_for()
    assert quote in cited.inner_text()
    assert SEED in page.locator("#source-viewer .ca-viewer-head").inner_text()
    whole = page.locator("#source-viewer .ca-viewer-text").inner_text()
    assert len(whole) > 2 * len(cited.inner_text())  # the whole document, not the passage
    page.wait_for_function(  # the marked range is scrolled into the viewer's box
        """() => { const m = document.querySelector('#source-viewer mark.ca-cited');
        const box = m.closest('.ca-viewer-text').getBoundingClientRect();
        const r = m.getBoundingClientRect();
        return r.top < box.bottom && r.bottom > box.top; }"""
    )
    if os.environ.get("UPDATE_SCREENSHOT"):  # docs/viewer.png: the viewer beside the answer
        page.wait_for_timeout(300)
        (ROOT / "docs" / "viewer.png").write_bytes(page.screenshot())


def test_the_conversation_survives_a_reload_until_new_conversation(page, seed_app):
    open_chat(page, seed_app)
    page.get_by_label("Generator").click()
    page.get_by_role("option", name="extractive").click()
    number = page.locator("#ca-k input[type=number]")
    number.fill("7")
    number.press("Tab")
    ask(page, "Who is the new head of Roscosmos?")
    page.wait_for_timeout(300)  # the browser stores the state after the answer arrives
    page.reload()
    bots = page.locator("#ca-chat [data-testid=bot]")
    bots.first.locator(".ca-meta").wait_for()
    page.wait_for_function("() => document.querySelector('#ca-k input[type=number]').value === '7'")
    assert "Borisov" in bots.first.locator(".ca-answer").inner_text()
    assert "Roscosmos" in page.locator("#ca-chat [data-testid=user]").first.inner_text()
    follow = ask(page, "Who did he announce the withdrawal to?")  # the history came back too
    assert "Putin" in follow.locator(".ca-answer").inner_text()

    new = page.get_by_role("button", name="New conversation", exact=True)
    assert new.count() == 1  # one on the page: the conversations sidebar's
    new.click()
    page.wait_for_function("() => !document.querySelector('#ca-chat [data-testid=bot]')")
    page.wait_for_timeout(300)
    page.reload()
    open_chat(page, seed_app)
    page.wait_for_timeout(500)
    assert page.locator("#ca-chat [data-testid=bot]").count() == 0


def test_copy_gives_plain_text_and_screen_readers_get_plain_text(browser, seed_app):
    context = browser.new_context(viewport={"width": 1280, "height": 900})
    context.grant_permissions(["clipboard-read", "clipboard-write"])
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        open_chat(page, seed_app)
        answer = ask(page, "When was the first element of the ISS launched?")
        label = answer.get_attribute("aria-label") or ""
        assert "1998. [1]" in label and "<" not in label
        answer.hover()
        page.locator("#ca-chat button[aria-label='Copy message']").last.click()
        page.wait_for_function("async () => (await navigator.clipboard.readText()).length > 0")
        copied = page.evaluate("() => navigator.clipboard.readText()")
        assert copied.startswith("The first element of the ISS was launched in 1998. [1]")
        assert f"Sources:\n[1] {SEED}, characters " in copied and "<" not in copied
    finally:
        context.close()


def test_k_out_of_range_is_clamped_with_a_visible_note(page, seed_app):
    open_chat(page, seed_app)
    number = page.locator("#ca-k input[type=number]")
    for typed, used in (("99", "20"), ("0", "1")):
        number.fill(typed)
        number.press("Tab")
        note = page.locator("#ca-k-note")
        assert note.inner_text() == f"k {typed} is outside 1-20; used {used}"
        page.wait_for_function(
            "(used) => document.querySelector('#ca-k input[type=number]').value === used",
            arg=used,
        )
    answer = ask(page, "Who is the new head of Roscosmos?")
    assert "Borisov" in answer.locator(".ca-answer").inner_text()


def test_the_api_page_names_its_fields_and_logs_no_error(page, seed_app, outside):
    problems = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    page.on("response", lambda r: problems.append(r.url) if r.status >= 400 else None)
    open_chat(page, seed_app)
    page.get_by_text("Use via API").click()
    page.get_by_text("/chat", exact=False).first.wait_for()
    page.wait_for_timeout(500)
    text = page.locator("body").inner_text()
    assert "/add_documents" in text and "parameter_" not in text
    assert problems == [] and outside == []


def test_dark_mode_boxes_are_dark_and_a_phone_sees_the_examples(browser, seed_app):
    context = browser.new_context(viewport={"width": 390, "height": 844}, color_scheme="dark")
    page = context.new_page()
    page.set_default_timeout(TIMEOUT_MS)
    try:
        open_chat(page, seed_app + "?__theme=dark")
        example = page.locator("#ca-examples button").first
        assert example.bounding_box()["y"] + example.bounding_box()["height"] <= 844
        refusal = ask(page, "Who won the 2018 World Cup?").locator(".ca-refusal")
        rgb = refusal.evaluate("e => getComputedStyle(e).backgroundColor")
        red, green, blue = (int(v) for v in rgb[rgb.index("(") + 1 : rgb.index(")")].split(",")[:3])
        assert red + green + blue < 3 * 100, rgb  # a dark box, not the light one
    finally:
        context.close()


# -- with the local model: stop, progress, and an example clicked during an answer ------------
@pytest.fixture(scope="module")
def local_app(settings, tmp_path_factory):
    """The app answering with the bundled local model (its data dir links the real model)."""
    from assistant.generators.model_file import ensure_model
    from assistant.settings import Settings

    model = ensure_model(Settings().index.data_dir / "models")
    data_dir = tmp_path_factory.mktemp("local-data")
    (data_dir / "models").symlink_to(model.parent, target_is_directory=True)
    demo, url = serve(seeded_copy(settings.updated(answer={"generator": "local"}), data_dir, SEEDS))
    yield url, model
    demo.close()


@pytest.mark.slow
def test_stop_keeps_the_partial_answer_and_frees_the_model(page, local_app):
    import re
    import time

    from assistant.generators.llama_runtime import shared_llama
    from assistant.settings import Settings

    url, model = local_app
    open_chat(page, url)
    box = page.locator("#ca-question textarea")
    box.fill("Who is the new head of Roscosmos and what did he announce?")
    box.press("Enter")
    progress = page.locator("#ca-chat .ca-progress")
    progress.first.wait_for()
    page.wait_for_function(  # the stage and the seconds, updated as they pass
        "() => /\\d+\\.\\d s$/.test(document.querySelector('#ca-chat .ca-progress').innerText)"
    )
    assert re.match(
        r"(Searching the documents|Reading the passages|Writing the answer)",
        progress.first.inner_text(),
    )
    page.locator("#ca-stop").click()
    stopped = page.locator("#ca-chat [data-testid=bot]").last.locator(".ca-stopped")
    stopped.wait_for()
    clicked = time.perf_counter()
    # "Stopped." after some text, "Stopped before the answer began." before any
    assert stopped.inner_text().startswith("Stopped")

    defaults = Settings()
    lock = shared_llama(
        str(model), n_ctx=defaults.local.local_context, n_threads=defaults.local.threads
    ).lock
    while lock.locked() and time.perf_counter() - clicked < 30:
        time.sleep(0.02)
    print(f"model free {time.perf_counter() - clicked:.2f} s after the stopped mark showed")
    assert not lock.locked()

    page.wait_for_function("() => !document.querySelector('#ca-question textarea').disabled")
    answer = ask(page, "Who is the new head of Roscosmos?")
    assert "Borisov" in answer.locator(".ca-answer").inner_text()


@pytest.mark.slow
def test_an_example_clicked_while_an_answer_is_written_loses_nothing(page, local_app):
    url, _ = local_app
    open_chat(page, url)
    examples = page.locator("#ca-examples button")
    box = page.locator("#ca-question textarea")
    box.fill("When was the first element of the ISS launched?")
    box.press("Enter")
    page.locator("#ca-chat .ca-progress").first.wait_for()
    assert examples.first.is_disabled()  # no second question can race the first
    examples.first.click(force=True)
    page.locator("#ca-chat [data-testid=bot]").first.locator(
        ".ca-meta, .ca-refusal"
    ).first.wait_for()
    page.wait_for_function("() => !document.querySelector('#ca-question textarea').disabled")

    examples.first.click()  # now it asks
    second = page.locator("#ca-chat [data-testid=bot]").nth(1)
    second.locator(".ca-meta, .ca-refusal").first.wait_for()
    users = page.locator("#ca-chat [data-testid=user]")
    assert users.count() == 2 and page.locator("#ca-chat [data-testid=bot]").count() == 2
    first = page.locator("#ca-chat [data-testid=bot]").first.inner_text()
    assert "1998" in first or "Not in the documents" in first  # the first question's own reply
    assert users.nth(1).inner_text() == "Who is the new head of Roscosmos?"

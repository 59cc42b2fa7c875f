"""What the page shows on the first screen, in a real headless Chromium: every example
question above the fold on a laptop, a status line that counts the documents on a phone, and
the documents table's headers whole at every width.

One app over five documents (the seed article and four small ones, one with a long name).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pages import BROWSER_MARKS, open_chat, open_documents
from tests.servers import seeded_copy
from tests.servers import serve_chat as serve

SEEDS = Path(__file__).resolve().parent.parent / "seeds"
SEED = "russia-iss-withdrawal.txt"
OTHERS = ["alpha-report.md", "beta-notes.txt", "delta.txt", "gamma-long-name-document.md"]
LAPTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}

pytestmark = BROWSER_MARKS


@pytest.fixture(scope="module")
def five(settings, tmp_path_factory):
    from assistant.stores.corpus import ingest_paths

    own = seeded_copy(settings, tmp_path_factory.mktemp("five-data"), SEEDS)
    folder = tmp_path_factory.mktemp("five-docs")
    for i, name in enumerate(OTHERS):
        (folder / name).write_text(f"The Zorblax reactor {i} opened in {1980 + i}.\n")
    ingest_paths(own, [folder], root=folder)
    demo, url = serve(own)
    yield url
    demo.close()


def test_every_example_question_is_above_the_fold_at_1280x800(open_page, five, settings):
    from assistant.chat.examples import examples_for

    page = open_page("light", LAPTOP)
    open_chat(page, five)
    buttons = page.locator("#ca-examples button")
    expected = examples_for(settings, [SEED])
    page.wait_for_timeout(500)  # the page's load event has drawn the open conversation
    assert [b.strip() for b in buttons.all_inner_texts()] == expected and len(expected) == 4
    assert page.evaluate("() => window.scrollY") == 0
    for button in buttons.all():
        box = button.bounding_box()
        assert box["y"] >= 0 and box["y"] + box["height"] <= LAPTOP["height"], box
        assert box["x"] >= 0 and box["x"] + box["width"] <= LAPTOP["width"], box


def test_on_a_phone_the_status_line_counts_the_documents(open_page, five):
    page = open_page("light", PHONE)
    open_chat(page, five)
    status = page.locator("#ca-status")
    text = status.inner_text()
    assert "5 documents" in text and "extractive" in text
    assert not any(name in text for name in [SEED, *OTHERS]), text
    lines = page.evaluate(
        """() => { const s = document.querySelector('.ca-status'), css = getComputedStyle(s);
        const text = s.clientHeight - parseFloat(css.paddingTop) - parseFloat(css.paddingBottom);
        return text / parseFloat(css.lineHeight); }"""
    )
    assert lines <= 2.5  # was four lines of names for five documents

    wide = open_page("light", LAPTOP)  # a wide screen still names them
    open_chat(wide, five)
    assert all(name in wide.locator("#ca-status").inner_text() for name in [SEED, *OTHERS])


# Each header's text against every box that may clip it, up to the table: the header's own
# (scrollWidth over clientWidth) and each one that hides or scrolls what overflows it.
CLIPPED_HEADERS = """(table) => [...table.querySelectorAll('th .header')].map((text) => {
    const box = text.getBoundingClientRect();
    const cut = [];
    for (let el = text; el && el !== table.parentElement; el = el.parentElement) {
        if (el.scrollWidth > el.clientWidth + 1 && el.tagName !== 'TABLE') cut.push(el.className);
        if (el === text || getComputedStyle(el).overflowX === 'visible') continue;
        const clip = el.getBoundingClientRect();
        const right = clip.left + el.clientLeft + el.clientWidth;
        if (box.left < clip.left - 0.5 || box.right > right + 0.5) cut.push(el.className);
    }
    return [text.textContent.trim(), cut];
})"""


@pytest.mark.parametrize(
    "viewport", [PHONE, {"width": 1024, "height": 768}, LAPTOP], ids=lambda v: str(v["width"])
)
def test_the_documents_table_shows_its_headers_whole(open_page, five, viewport):
    page = open_page("light", viewport)
    open_chat(page, five)
    open_documents(page)
    page.wait_for_function(
        "(name) => document.querySelector('#ca-documents').innerText.includes(name)",
        arg=OTHERS[-1],
    )
    page.wait_for_timeout(500)  # the table has sized its columns
    table = page.locator("#ca-documents")
    assert table.evaluate(CLIPPED_HEADERS) == [["document", []], ["chunks", []], ["read by", []]]
    long_name = table.locator("[data-testid^=cell-] span.text").filter(has_text=OTHERS[-1])
    assert long_name.evaluate("e => e.scrollWidth <= e.clientWidth + 1")  # wraps, whole

"""A PDF's citation in the chat, in a real headless Chromium: the source list names its page
("uploads/report.pdf p. 2") and the source viewer opens at that page, showing that page's
text with the cited range marked. A real PDF (built byte by byte), uploaded through the page,
the real embedder and Chroma, the extractive generator."""

from __future__ import annotations

import pytest

from tests.pages import BROWSER_MARKS, ask, open_chat, open_documents, upload
from tests.servers import serve_chat as serve
from tests.test_index import make_pdf

pytestmark = BROWSER_MARKS

PAGES = [
    "The report covers the Zvezda service module and its crew quarters.",
    "The coolant pump of the Destiny laboratory failed in March and was replaced by Anna Petrova.",
    "The final page lists the Kibo experiments planned for the next decade.",
]
QUESTION = "Who replaced the coolant pump of the Destiny laboratory?"


@pytest.fixture
def pdf_app(settings, tmp_path):
    """An app over an empty data dir of its own (the upload fills it), with the
    answerability gate off: the test is about where a citation points, not whether to answer."""
    own = settings.updated(index={"data_dir": tmp_path / "data"}, answer={"answer_threshold": 0.0})
    demo, url = serve(own)
    yield url
    demo.close()


def test_a_pdf_citation_shows_its_page_and_the_viewer_opens_at_that_page(page, pdf_app):
    open_chat(page, pdf_app)
    open_documents(page)
    assert upload(page, ("report.pdf", make_pdf(PAGES))).startswith("documents: 1 added")

    answer = ask(page, QUESTION)
    assert "Petrova" in answer.locator(".ca-answer").inner_text()
    head = answer.locator(".ca-source-head").first
    assert "uploads/report.pdf p. 2" in " ".join(head.inner_text().split())

    head.click()
    viewer = page.locator("#source-viewer")
    viewer.locator("mark.ca-cited").wait_for()
    assert "p. 2" in viewer.locator(".ca-viewer-head").inner_text()
    shown = viewer.locator(".ca-viewer-text").inner_text()
    assert PAGES[1] in shown  # that page's text ...
    assert PAGES[0] not in shown and PAGES[2] not in shown  # ... and only that page's
    cited = viewer.locator("mark.ca-cited").inner_text()
    assert "Anna Petrova" in cited and PAGES[0] not in cited

"""The documents panel in a real headless Chromium: never stale, calm on mistakes.

Each test runs its own app over a data dir of its own holding the seed article.
"""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.pages import BROWSER_MARKS, confirmed_click, open_chat, open_documents, upload
from tests.servers import seeded_copy
from tests.servers import serve_chat as serve

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
SEED = "russia-iss-withdrawal.txt"
ZORBLAX = "The Zorblax reactor opened in Oslo in 1987 after a decade of work by Ingrid Hale.\n"

pytestmark = BROWSER_MARKS


@pytest.fixture
def own(settings, tmp_path):
    """An app over a data dir of its own; returns (url, settings)."""
    own = seeded_copy(settings, tmp_path / "data", SEEDS)
    demo, url = serve(own)
    yield url, own
    demo.close()


def _add_behind_the_page(own_settings, folder: Path, name: str) -> None:
    """Index a file as `assistant ingest` (or another browser) would, not through this page."""
    from assistant.stores.corpus import ingest_paths

    folder.mkdir(exist_ok=True)
    (folder / name).write_text(ZORBLAX, encoding="utf-8")
    ingest_paths(own_settings, [folder / name], root=folder)


def _choices(page) -> list[str]:
    choice = page.locator("#ca-remove-choice input")
    choice.evaluate("e => e.blur()")  # the list opens when the box takes focus
    choice.click()
    options = page.locator("#ca-remove-choice [role=option]")
    options.first.wait_for()
    names = [o.strip() for o in options.all_inner_texts()]
    page.keyboard.press("Escape")
    choice.evaluate("e => e.blur()")
    return names


def test_the_documents_list_is_read_on_load_and_follows_changes_made_elsewhere(page, own, tmp_path):
    url, own_settings = own
    _add_behind_the_page(own_settings, tmp_path / "later", "first.md")  # after start-up
    open_chat(page, url)
    open_documents(page)
    table = page.locator("#ca-documents")
    page.wait_for_function(
        "() => document.querySelector('#ca-documents').innerText.includes('first.md')"
    )
    assert SEED in table.inner_text()
    assert "2 documents" in page.locator("#ca-status").inner_text()
    assert set(_choices(page)) == {SEED, "first.md"}

    # Changed by someone else while the page is open: it shows within seconds.
    _add_behind_the_page(own_settings, tmp_path / "later", "second.md")
    page.wait_for_function(
        "() => document.querySelector('#ca-documents').innerText.includes('second.md')",
        timeout=15_000,
    )
    assert "second.md" in _choices(page)
    assert "3 documents" in page.locator("#ca-status").inner_text()


def test_remove_with_nothing_chosen_or_an_unknown_name_is_one_line_and_the_table_stays(page, own):
    url, _ = own
    open_chat(page, url)
    open_documents(page)
    table = page.locator("#ca-documents")
    page.wait_for_function(
        "(seed) => document.querySelector('#ca-documents').innerText.includes(seed)", arg=SEED
    )
    summary = page.locator("#ca-upload-summary textarea")

    page.locator("#ca-remove").click()
    page.wait_for_function("() => document.querySelector('#ca-upload-summary textarea').value")
    assert summary.input_value() == "Pick a document first."
    assert SEED in table.inner_text()

    choice = page.locator("#ca-remove-choice input")
    choice.fill("no-such-file.md")
    choice.press("Enter")
    confirmed_click(page, "#ca-remove")
    page.wait_for_function(
        "() => document.querySelector('#ca-upload-summary textarea').value.startsWith('Not')"
    )
    assert summary.input_value() == ("Not removed: no indexed document is called 'no-such-file.md'")
    page.wait_for_timeout(300)
    assert SEED in table.inner_text()
    errors = page.locator("#ca-documents-panel .error, #ca-documents-panel [class*=error]")
    assert errors.count() == 0 or not any(e.is_visible() for e in errors.all())


def test_the_api_page_advertises_only_what_is_served(page, own):
    import httpx

    url, _ = own
    problems: list[str] = []
    page.on("console", lambda m: problems.append(m.text) if m.type == "error" else None)
    open_chat(page, url)
    page.get_by_text("Use via API").click()
    page.get_by_text("/remove_document", exact=False).first.wait_for()
    page.wait_for_timeout(500)
    docs = page.locator("body")
    tabs = [t.inner_text().strip() for t in page.locator(".snippets .snippet:visible").all()]
    assert "Python" in tabs and "MCP" not in tabs, tabs
    text = docs.inner_text()
    assert "k int" in " ".join(text.split()) and "dict(text: str, refused: bool" in text
    assert "str | float | bool" not in text
    # Request statistics are not served, so none can be shown.
    assert httpx.get(f"{url}monitoring/summary", timeout=30).status_code in (403, 404)
    assert httpx.get(f"{url}gradio_api/monitoring/summary", timeout=30).status_code in (403, 404)
    assert problems == []


def test_an_upload_shows_real_progress_and_the_list_stays_in_view(page, own):
    url, _ = own
    open_chat(page, url)
    open_documents(page)
    page.wait_for_function(
        "(seed) => document.querySelector('#ca-documents').innerText.includes(seed)", arg=SEED
    )
    page.evaluate(
        """() => { window.__progress = []; window.__tableGone = false;
        new MutationObserver(() => {
            const shown = '.progress-text, .progress-level, .meta-text';
            for (const el of document.querySelectorAll(shown))
                if (el.innerText) window.__progress.push(el.innerText);
            const t = document.querySelector('#ca-documents');
            const busy = '[data-testid=status-tracker]:not(.hide)';
            if (t.querySelector(busy)) window.__tableGone = true;
        }).observe(document.body, {childList: true, subtree: true, characterData: true}); }"""
    )
    sentences = [
        f"Reactor {i} of the Zorblax series opened in Oslo in {1900 + i}." for i in range(600)
    ]
    result = upload(page, ("series.txt", "\n".join(sentences).encode()))
    assert result.startswith("documents: 1 added")
    seen = page.evaluate("() => window.__progress")
    assert any("chunks" in s for s in seen), seen[:20]
    assert not any("100.0%" in s for s in seen[:3]), seen[:3]
    assert page.evaluate("() => window.__tableGone") is False

"""The example questions under the question box come from the corpus folder's
`.examples.toml`, for the documents that are indexed: the seed article's for the seed corpus,
a folder's own for a folder of one's own, none where a folder has none."""

from __future__ import annotations

from assistant.chat.examples import FILE, examples_for
from assistant.settings import PROJECT_ROOT, Settings


def test_the_seed_corpus_shows_its_own_examples_when_its_article_is_indexed():
    settings = Settings(index={"corpus_dir": PROJECT_ROOT / "seeds"})
    assert len(examples_for(settings, ["russia-iss-withdrawal.txt"])) == 4


def test_a_folder_of_ones_own_shows_its_examples_and_no_one_elses(tmp_path):
    (tmp_path / FILE).write_text(
        '[documents]\n"lighthouse.md" = ["Who keeps the Varnholt lighthouse?"]\n', encoding="utf-8"
    )
    settings = Settings(index={"corpus_dir": tmp_path})
    shown = examples_for(settings, ["lighthouse.md", "russia-iss-withdrawal.txt"])
    assert shown == ["Who keeps the Varnholt lighthouse?"]


def test_a_folder_without_the_file_or_with_a_broken_one_shows_none(tmp_path):
    settings = Settings(index={"corpus_dir": tmp_path})
    assert examples_for(settings, ["a.txt"]) == []
    (tmp_path / FILE).write_text("[documents\n", encoding="utf-8")
    assert examples_for(settings, ["a.txt"]) == []

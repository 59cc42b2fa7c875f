"""The everyday-documents suite is sound: every item checks out against its document, the
parts are split by document, each part is big enough, in every file type, with every kind of
question, asked in people's own words; and a nugget problem is caught."""

from __future__ import annotations

import json

import pytest

from eval.suites import everyday


@pytest.mark.parametrize("part", everyday.PARTS)
def test_every_item_checks_out_against_its_document(part):
    assert everyday.check_part(part) == []


def test_the_parts_are_split_by_document_with_every_file_type():
    docs = {part: sorted((everyday.DOCS / part).iterdir()) for part in everyday.PARTS}
    stems = [{p.stem for p in paths} for paths in docs.values()]
    assert not set.intersection(*stems)
    for paths in docs.values():
        assert len(paths) >= 8 and {p.suffix for p in paths} >= {".md", ".txt", ".html", ".pdf"}


@pytest.mark.parametrize("part", everyday.PARTS)
def test_each_part_asks_every_kind_in_peoples_own_words(part):
    items = everyday.load_part(part)
    assert len(items) >= 150 and {i["type"] for i in items} == set(everyday.TYPES)
    shares = everyday.overlap_per_file(part).values()
    assert sum(shares) / len(shares) < 0.25


def test_a_nugget_missing_from_the_evidence_is_reported(tmp_path, monkeypatch):
    source = everyday.part_files("test")[0]
    answerable = next(
        json.loads(line)
        for line in source.read_text(encoding="utf-8").splitlines()
        if json.loads(line)["answerable"]
    )
    answerable["nuggets"] = [*answerable["nuggets"], ["a fact nobody wrote"]]
    folder = tmp_path / "test"
    folder.mkdir()
    (folder / source.name).write_text(json.dumps(answerable) + "\n", encoding="utf-8")
    monkeypatch.setattr(everyday, "FOLDER", tmp_path)
    problems = everyday.check_part("test")
    assert any("'a fact nobody wrote' is not inside the evidence" in p for p in problems)

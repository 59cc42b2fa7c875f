"""The users'-words suite (eval/suites/users_words/): sound, in readers' own words, split by
article."""

from __future__ import annotations

import json

import pytest

from eval.suites import squad2_open as squad
from eval.suites import users_words


@pytest.mark.parametrize("part", squad.PARTS)
def test_every_evidence_is_verbatim_and_every_answer_inside_it(part):
    assert users_words.validate(part) == []


@pytest.mark.parametrize("part", squad.PARTS)
def test_answerable_questions_avoid_the_words_of_their_answer(part):
    assert users_words.mean_overlap(part) < 0.2


@pytest.mark.parametrize("part", squad.PARTS)
def test_each_part_has_150_questions_of_every_kind(part):
    kinds = [q["type"] for q in users_words.questions(part)]
    counts = [kinds.count(t) for t in users_words.TYPES]
    assert (len(kinds) >= 150, min(counts) >= 20) == (True, True), counts


def test_the_parts_share_no_article():
    articles = [{q["article"] for q in users_words.questions(p)} - {""} for p in squad.PARTS]
    assert not articles[0] & articles[1]


def test_the_validator_names_evidence_that_is_not_in_the_article(tmp_path):
    item = {
        "id": "x-1",
        "question": "Which river flows past Basel?",
        "answerable": True,
        "answers": ["Rhine"],
        "evidence": ["The Rhine is a river that was invented in 2031."],
        "history": [],
        "type": "users_answerable",
        "source": "Rhine.txt",
    }
    path = tmp_path / "calibration.jsonl"
    path.write_text(json.dumps(item) + "\n")
    problems = users_words.validate("calibration", path)
    assert len(problems) == 1 and "not found verbatim" in problems[0]

"""Feedback on answers becomes suite items (assistant/stores/feedback.py, `assistant feedback
export`): real answers from the seed index with the extractive generator, the store on a
real SQLite file and on a real PostgreSQL database, and the eval harness's own suite reader
on the export."""

from __future__ import annotations

import json

from assistant.question.pipeline import get_pipeline
from assistant.stores.feedback import DOWN, UP, Feedback, FeedbackStore, to_item
from eval.suites.check import check_file
from eval.suites.suite import TYPES, load_suite


def _answer(settings, question: str) -> dict:
    result = None
    for event in get_pipeline(settings).ask(question, [], generator="extractive"):
        result = event
    return result.to_dict()  # type: ignore[union-attr]


def test_thumbs_down_with_a_right_answer_exports_a_valid_suite_item(
    open_settings, tmp_path, database_url, monkeypatch, capsys
):
    from assistant.cli import main

    question = "Who is the new head of Roscosmos?"
    answer = _answer(open_settings, question)
    store = FeedbackStore(tmp_path, database_url)
    down = store.add(Feedback(DOWN, question, answer, owner="ann", conversation="c", turn=0))
    assert store.details("ann", down, "too long", "Yuri Borisov", "")
    assert not store.details("bob", down, "not mine", "", "")  # another user's feedback
    store.add(Feedback(DOWN, "When was the ISS launched?", answer, owner="ann", note="wrong"))
    store.add(Feedback(UP, question, answer, owner="ann", conversation="c", turn=1))

    kept = store.all()[0]
    assert kept.note == "too long" and kept.standalone and kept.answer["trace"]
    assert store.get("ann", down) == kept and store.get("bob", down) is None

    out = tmp_path / "suite.jsonl"
    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))
    if database_url:
        monkeypatch.setenv("ASSISTANT_DATABASE_URL", database_url)
    assert main(["feedback", "export", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "review feedback-2: thumbs down without a right answer" in printed
    assert "wrote 2 suite item(s)" in printed
    items = load_suite(out)  # the harness reads it as it reads eval/qa.jsonl
    seed = (open_settings.index.corpus_dir / "russia-iss-withdrawal.txt").read_text()
    _, problems = check_file(out, lambda item: ("seeds", [seed]), types=TYPES)
    assert problems == []  # what `assistant eval --suite FILE --docs seeds` checks first
    by_id = {i.id: i for i in items}
    item = by_id[f"feedback-{down}"]
    assert item.answerable and item.answers == ["Yuri Borisov"]
    assert "Yuri Borisov" in item.evidence[0]  # the sentence of the answer's passages
    assert item.evidence[0] in seed
    assert len(items) == 2  # the thumbs down without a right answer is for review
    raw = [json.loads(line) for line in out.read_text().splitlines()]
    assert set(raw[0]) == {"id", "question", "answerable", "answers", "evidence", "history", "type"}


def test_a_thumbs_down_without_a_right_answer_is_listed_for_review(open_settings):
    question = "Who is the new head of Roscosmos?"
    answer = _answer(open_settings, question)
    item, why = to_item(Feedback(DOWN, question, answer, note="wrong person"))
    assert item is None and why == "thumbs down without a right answer"
    item, why = to_item(Feedback(DOWN, question, answer, right_answer="Nobody Known"))
    assert item is None and "no passage" in why
    given = "He is the new head."
    item, why = to_item(Feedback(DOWN, question, answer, right_answer="and of", passage=given))
    assert item is None and why.endswith("holds no word to look for in the passage")
    item, why = to_item(Feedback(DOWN, question, answer, right_answer="new boss", passage=given))
    assert item is None and why.endswith("does not hold these words of the answer: boss")
    item, _ = to_item(Feedback(DOWN, question, answer, right_answer="new head", passage=given))
    assert item is not None and item["evidence"] == [given] and item["answers"] == ["new head"]

    reworded = {**answer, "text": "Roscosmos is now led by someone new [1]."}
    item, why = to_item(Feedback(UP, question, reworded))
    assert item is None and why.startswith("thumbs up: the answer is not in its passages")
    refused = {**answer, "refused": True, "citations": []}
    item, _ = to_item(Feedback(UP, "Who won the 2018 World Cup?", refused))
    assert item is not None and item["answerable"] is False and item["answers"] == []


def test_a_right_answer_in_the_persons_own_words_exports_when_its_words_are_in_the_passage():
    passage = (
        "Hotels: up to £140 per night in London and £95 per night elsewhere in the UK, "
        "breakfast included."
    )
    own = "£140 a night in London and £95 a night elsewhere in the UK, including breakfast"
    answer = {"text": "£45 [1]", "citations": [{"text": passage, "quote": passage}]}
    item, why = to_item(Feedback(DOWN, "And how much for hotels?", answer, right_answer=own))
    assert item is not None and item["evidence"] == [passage], why
    assert item["nuggets"][:2] == [["140"], ["95"]] and ["breakfast"] in item["nuggets"]
    assert all(form[0] in passage for form in item["nuggets"])  # as suite_check reads them
    assert item["answers"][0] in passage

"""The answerability decision (assistant/question/answerability.py): the reader's first-token
decision and the floor on fixed values, the calibrator file's failure modes, and the number
grounding check (assistant/rules/grounding.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import replace

import pytest

from assistant.errors import AssistantError
from assistant.question.answerability import (
    CalibrationError,
    Policy,
    load_calibrator,
    shipped_calibrator,
)
from assistant.rules.citations import verify
from assistant.rules.draft_checks import CHECKS, Draft, after_generation, objections, skipped_checks
from assistant.rules.grounding import grounded
from assistant.types import Signals
from tests.passages import passages_of

RELATED = Signals(best_score=0.6, best_cosine=0.6, dense_top=0.6)


def _calibrator_file(tmp_path, threshold=0.5, floor=0.2):
    path = tmp_path / "answerability.json"
    path.write_text(json.dumps({"format": 2, "floor": floor, "thresholds": {"local": threshold}}))
    return path


def test_the_reader_answers_below_the_refusal_probability_and_refuses_above(tmp_path):
    policy = Policy(load_calibrator(_calibrator_file(tmp_path, threshold=0.5)))
    # P(NOT_FOUND) 0.45 and 0.55: reader probabilities 0.55 and 0.45 around the threshold
    decisions = [policy.at_first_token("local", p).answerable for p in (0.45, 0.55)]
    assert decisions == [True, False]


def test_before_the_model_only_the_plainly_unrelated_is_refused(tmp_path):
    policy = Policy(load_calibrator(_calibrator_file(tmp_path, floor=0.2)))
    decisions = [
        policy.before_model(replace(RELATED, best_cosine=c)).answerable for c in (0.15, 0.25)
    ]
    assert decisions == [False, True]


def test_a_setting_overrides_the_operating_point(tmp_path):
    calibrator = load_calibrator(_calibrator_file(tmp_path, threshold=0.5))
    answered = [
        Policy(calibrator, t).at_first_token("local", 0.3).answerable for t in (None, 0.9, 0.0)
    ]
    assert answered == [True, False, True]


def test_the_gate_off_leaves_out_the_floor_but_not_an_empty_retrieval():
    policy = Policy.for_settings(0.0)
    decisions = [
        policy.before_model(values).answerable
        for values in (replace(RELATED, best_cosine=0.01), Signals())
    ]
    assert decisions == [True, False]


def test_a_reader_without_its_own_fit_uses_the_local_operating_point(tmp_path):
    calibrator = load_calibrator(_calibrator_file(tmp_path, threshold=0.7))
    assert calibrator.threshold("openai") == 0.7


def test_the_shipped_calibrator_is_a_low_floor_and_a_reader_threshold():
    calibrator = shipped_calibrator()
    assert (calibrator.floor < 0.5, 0 < calibrator.threshold("local") < 1) == (True, True)


def test_an_answer_naming_what_its_passages_do_not_hold_is_refused():
    passage = "The Gate of King Hugo stood in Tours, near the old abbey."
    question = "Where was the Gate of King Hugo?"
    shown = [
        _checked(answer, question, passage).answerable
        for answer in ("The Gate of King Hugo was in Tours.", "The Gate of King Hugo was in Paris.")
    ]
    assert shown == [True, False]


def _checked(answer: str, question: str, cited: str, skip: tuple[str, ...] = ()):
    draft = Draft(answer, question, question, cited, supported=True)
    return after_generation(False, objections(draft), 0.9, skip)


def test_a_check_left_out_lets_its_draft_through_and_is_still_traced():
    passage = "The Gate of King Hugo stood in Tours, near the old abbey."
    question = "Where was the Gate of King Hugo?"
    draft = Draft("It was in Paris.", question, question, passage, supported=True)
    skipped = after_generation(False, objections(draft), 0.9, skip=("unsourced",))
    assert (skipped.answerable, list(objections(draft))) == (True, ["unsourced"])


def test_every_check_has_a_name_the_settings_accept():
    assert skipped_checks(",".join(CHECKS)) == frozenset(CHECKS)


def test_an_unknown_check_name_is_a_one_line_error():
    with pytest.raises(AssistantError, match="names no check: spelling"):
        skipped_checks("unsourced, spelling")


@pytest.mark.parametrize(
    "content",
    [
        None,
        "",
        "{not json",
        '{"format": 2, "floor": 0.1, "thresholds": {}}',
        '{"format": 2, "floor": 3, "thresholds": {"local": 0.5}}',
        '{"format": 1, "models": {}}',
    ],
)
def test_a_missing_or_damaged_calibrator_names_the_file_and_the_fix(tmp_path, content):
    path = tmp_path / "answerability.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(CalibrationError) as err:
        load_calibrator(path)
    message = str(err.value)
    assert str(path) in message and "eval.calibration.calibrate" in message and "\n" not in message


def test_a_damaged_calibrator_stops_the_cli_with_one_line(seeded_data_dir, tmp_path):
    damaged = tmp_path / "answerability.json"
    damaged.write_text('{"format": 2, "floor": 0.1}')
    env = {
        **os.environ,
        "ASSISTANT_DATA_DIR": str(seeded_data_dir),
        "ASSISTANT_CALIBRATOR": str(damaged),
    }
    question = "Who is the head of Roscosmos?"
    proc = subprocess.run(
        [sys.executable, "-m", "assistant", "ask", question, "--generator", "extractive"],
        capture_output=True,
        text=True,
        env=env,
    )
    lines = proc.stderr.strip().splitlines()
    assert (proc.returncode, len(lines), str(damaged) in proc.stderr) == (1, 1, True)


@pytest.mark.parametrize(
    ("claim", "expected"),
    [
        ("Russia will leave the ISS in 2024.", (True, "Russia will leave the ISS after 2024.")),
        ("Russia will leave the ISS after 2024.", (True, "Russia will leave the ISS after 2024.")),
        (
            "Russia will leave the ISS before 2024.",
            (False, "Russia will leave the ISS before 2024."),
        ),
        ("The station opened in 1998.", (True, "The station opened in 1998.")),
        ("Russia invaded Ukraine in 2022.", (False, "Russia invaded Ukraine in 2022.")),
        ("40 people came.", (True, "more than 40 people came.")),
    ],
)
def test_a_number_is_grounded_only_as_the_passage_states_it(claim, expected):
    passage = (
        "Russia will withdraw from the ISS after 2024. The first module was launched in 1998. "
        "More than 40 people came to the launch."
    )
    assert grounded(claim, passage) == expected


def test_verify_rewords_a_number_in_the_passage_own_qualifier(pipeline):
    text = "Russia has announced its withdrawal from the ISS after 2024, its agency said."
    verified = verify(
        "Russia will withdraw from the ISS in 2024 [1].",
        passages_of(text, source="a.txt"),
        pipeline.scorer,
        threshold=pipeline.settings.answer.support_threshold,
    )
    assert "after 2024" in verified.text and verified.citations


def test_the_opening_word_of_a_composed_sentence_is_no_name_but_a_short_answers_is():
    from assistant.rules.draft_checks import unsourced

    cited = "Colour prints cost 50p per page. He went to Paris."
    assert unsourced("According to the price list, a colour print costs 50p.", "", cited) == set()
    assert unsourced("Tours [1]", "Where did he go?", cited) == {"tour"}

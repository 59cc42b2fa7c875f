"""The answerability decision (assistant/answerability.py): the calibrated policy on fixed
signal vectors, the calibrator file's failure modes, and the key-phrase grounding check."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from assistant.answerability import (
    CalibrationError,
    Policy,
    after_generation,
    grounded,
    load_calibrator,
    shipped_calibrator,
)
from assistant.citations import verify
from assistant.signals import EVIDENCE_FEATURES, MODEL_FEATURE
from assistant.types import Passage

STRONG = {
    "best_score": 0.85,
    "best_cosine": 0.85,
    "best_coverage": 1.0,
    "shown_coverage": 1.0,
    "closeness": 1.0,
    "dense_top": 0.8,
    "rrf_top": 1.0,
    "agreement": 1.0,
}
WEAK = {
    "best_score": 0.3,
    "best_cosine": 0.3,
    "best_coverage": 0.2,
    "shown_coverage": 0.3,
    "closeness": 0.3,
    "dense_top": 0.3,
    "rrf_top": 0.5,
    "agreement": 0.0,
}


def _calibrator_file(tmp_path, threshold=0.5, pre=0.2, probe_below=1.0):
    """A calibrator whose probability is sigmoid(4 * (best_score - 0.5)) for `evidence`, and
    for `local` also falls with the model's refusal log-odds."""
    n = len(EVIDENCE_FEATURES)
    evidence = {
        "features": list(EVIDENCE_FEATURES),
        "mean": [0.5] * n,
        "scale": [1.0] * n,
        "coef": [4.0] + [0.0] * (n - 1),
        "intercept": 0.0,
        "threshold": threshold,
    }
    local = {
        **evidence,
        "features": [*EVIDENCE_FEATURES, MODEL_FEATURE],
        "mean": [0.5] * n + [0.0],
        "scale": [1.0] * (n + 1),
        "coef": [4.0] + [0.0] * (n - 1) + [-1.0],
        "pre_threshold": pre,
        "probe_below": probe_below,
    }
    path = tmp_path / "answerability.json"
    path.write_text(json.dumps({"format": 1, "models": {"evidence": evidence, "local": local}}))
    return path


def test_the_policy_answers_above_its_threshold_and_refuses_below(tmp_path):
    policy = Policy(load_calibrator(_calibrator_file(tmp_path)))
    decisions = [
        policy.before_model("extractive", {**STRONG, "best_score": s}, probes=False).answerable
        for s in (0.45, 0.55)  # probabilities 0.45 and 0.55 around the 0.5 threshold
    ]
    assert decisions == [False, True]


def test_the_model_own_refusal_probability_decides_at_the_first_token(tmp_path):
    policy = Policy(load_calibrator(_calibrator_file(tmp_path)))
    values = {**STRONG, "best_score": 0.6}
    decisions = [policy.at_first_token("local", values, p).answerable for p in (0.05, 0.95)]
    assert decisions == [True, False]


def test_before_a_probing_model_only_the_pre_threshold_refuses(tmp_path):
    policy = Policy(load_calibrator(_calibrator_file(tmp_path, threshold=0.5, pre=0.2)))
    values = {**STRONG, "best_score": 0.4}  # probability 0.40: under 0.5, over 0.2
    assert policy.before_model("local", values, probes=True).answerable


def test_the_probe_is_asked_for_only_between_pre_threshold_and_probe_below(tmp_path):
    path = _calibrator_file(tmp_path, threshold=0.5, pre=0.2, probe_below=0.6)
    policy = Policy(load_calibrator(path))
    decisions = [
        policy.before_model("local", {**STRONG, "best_score": s}, probes=True)
        for s in (0.15, 0.4, 0.7)  # evidence probabilities 0.15, 0.40 and 0.70
    ]
    assert [(d.answerable, d.probe) for d in decisions] == [
        (False, False),
        (True, True),
        (True, False),
    ]


def test_an_answer_naming_what_its_passages_do_not_hold_is_refused():
    passage = "The Gate of King Hugo stood in Tours, near the old abbey."
    question = "Where was the Gate of King Hugo?"
    shown = [
        after_generation(False, True, answer, question, 0.9, cited=passage).answerable
        for answer in ("The Gate of King Hugo was in Tours.", "The Gate of King Hugo was in Paris.")
    ]
    assert shown == [True, False]


def test_the_generator_is_probed_only_when_its_model_uses_the_probe(tmp_path):
    calibrator = load_calibrator(_calibrator_file(tmp_path))
    probed = [Policy(calibrator).probes(g) for g in ("local", "extractive")]
    assert probed == [True, False]


def test_the_judge_setting_picks_the_model_that_reads_the_judgement(tmp_path):
    path = _calibrator_file(tmp_path)
    data = json.loads(path.read_text())
    models = data["models"]
    models["local+judge"], models["local"] = models["local"], models["evidence"]
    path.write_text(json.dumps(data))
    calibrator = load_calibrator(path)
    assert [Policy(calibrator, judge=j).probes("local") for j in (False, True)] == [False, True]


def test_a_setting_overrides_the_operating_point(tmp_path):
    calibrator = load_calibrator(_calibrator_file(tmp_path, threshold=0.5))
    values = {**STRONG, "best_score": 0.55}
    answered = [
        Policy(calibrator, t).before_model("extractive", values, probes=False).answerable
        for t in (None, 0.9, 0.0)
    ]
    assert answered == [True, False, True]


def test_the_shipped_calibrator_ranks_strong_evidence_above_weak():
    model = shipped_calibrator().model_for("extractive")
    assert model.probability(STRONG) > model.threshold > model.probability(WEAK)


def test_nothing_retrieved_is_refused_whatever_the_threshold():
    decision = Policy(None, 0.0).before_model(
        "extractive", dict.fromkeys(STRONG, 0.0), probes=False
    )
    assert not decision.answerable


@pytest.mark.parametrize(
    "content",
    [None, "", "{not json", '{"format": 1, "models": {}}', '{"format": 99, "models": {}}'],
)
def test_a_missing_or_damaged_calibrator_names_the_file_and_the_fix(tmp_path, content):
    path = tmp_path / "answerability.json"
    if content is not None:
        path.write_text(content)
    with pytest.raises(CalibrationError) as err:
        load_calibrator(path)
    message = str(err.value)
    assert str(path) in message and "eval.calibrate" in message and "\n" not in message


def test_a_damaged_calibrator_stops_the_cli_with_one_line(seeded_data_dir, tmp_path):
    damaged = tmp_path / "answerability.json"
    damaged.write_text('{"format": 1, "models": {"evidence": {"features": []}}}')
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
    passage = Passage(1, "c1", "a.txt", 0, len(text), text, 1.0)
    verified = verify(
        "Russia will withdraw from the ISS in 2024 [1].",
        [passage],
        pipeline.scorer,
        threshold=pipeline.settings.support_threshold,
    )
    assert "after 2024" in verified.text and verified.citations

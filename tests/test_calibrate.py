"""Choosing the floor and the operating point (eval/calibration/calibrate.py) on fixed outcome
rows."""

from __future__ import annotations

from eval.calibration.calibrate import choose_floor, choose_threshold


def _row(answerable: bool, p_not_found: float, cosine: float = 0.6, **kw: bool) -> dict:
    return {
        "answerable": answerable,
        "answered": kw.get("answered", True),
        "correct": kw.get("correct", answerable),
        "style": "users",
        "features": {"best_cosine": cosine, "refusal_probability": p_not_found},
    }


def test_the_floor_sits_below_every_answerable_question():
    rows = [_row(True, 0.1, 0.42), _row(True, 0.1, 0.7), _row(False, 0.9, 0.1)]
    assert choose_floor(rows) == 0.4


def test_the_floor_leaves_the_everyday_part_out():
    # its least related answerable questions sit among its off-topic ones (CALIBRATION.md)
    rows = [_row(True, 0.1, 0.42), {**_row(True, 0.1, 0.29), "style": "everyday"}]
    assert choose_floor(rows) == 0.4


def test_the_threshold_refuses_as_much_as_the_aim_allows():
    # ten answerable questions with P(NOT_FOUND) 0.05 .. 0.50, ten unanswerable at 0.6 .. 0.95
    rows = [_row(True, 0.05 * i) for i in range(1, 11)]
    rows += [_row(False, 0.55 + 0.04 * i) for i in range(1, 11)]
    threshold, result = choose_threshold(rows, 0.0, max_false=0.1)
    # refusing one answerable question in ten is allowed: the one at P(NOT_FOUND) 0.50
    assert (result["false_refusals"], result["unanswerable_refused"]) == (1, 10), threshold

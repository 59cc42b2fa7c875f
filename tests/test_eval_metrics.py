"""The eval's metrics on hand-made cases: SQuAD answer scores, gold passages, retrieval
ranks, citations, refusals, CRAG and percentiles (the suite and the runs: test_eval.py).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.scoring import metrics as m
from eval.scoring import nuggets
from eval.suites.suite import load_suite

ROOT = Path(__file__).resolve().parent.parent
ARTICLE_PATH = ROOT / "seeds" / "russia-iss-withdrawal.txt"
ARTICLE = ARTICLE_PATH.read_text(encoding="utf-8")
SUITE = load_suite()


# --- answer metrics ----------------------------------------------------------------------


def test_normalize_answer_follows_squad_and_handles_unicode_punctuation():
    assert m.normalize_answer("The  ROSS, or Russian Orbital Station!") == (
        "ross or russian orbital station"
    )
    assert m.normalize_answer("Russia’s “decision”") == m.normalize_answer('Russia\'s "decision"')
    assert m.normalize_answer("a an the") == ""


def test_exact_match_ignores_case_articles_punctuation_and_citation_markers():
    assert m.exact_match("The SpaceX. [1]", ["SpaceX"]) == 1.0
    assert m.exact_match("SpaceX rockets", ["SpaceX"]) == 0.0
    assert m.exact_match("Roscosmos", ["Tass", "Roscosmos"]) == 1.0
    assert m.exact_match("", ["SpaceX"]) == 0.0


def test_token_f1_is_the_best_squad_f1_over_the_gold_answers():
    assert m.token_f1("Yuri Borisov [1]", ["Yuri Borisov"]) == 1.0
    # pred {borisov}, gold {yuri, borisov}: precision 1, recall 0.5
    assert m.token_f1("Borisov", ["Yuri Borisov"]) == pytest.approx(2 / 3)
    assert m.token_f1("Borisov", ["Putin", "Yuri Borisov"]) == pytest.approx(2 / 3)
    assert m.token_f1("Putin", ["Yuri Borisov"]) == 0.0
    assert m.token_f1("anything", []) == 0.0


def test_contains_answer_matches_on_token_boundaries_only():
    assert not m.contains_answer("It was launched in 1998.", ["1"])
    assert m.contains_answer("It was launched in 1998 [1].", ["1998"])
    assert m.contains_answer("They will fly on board SpaceX starting this fall.", ["this fall"])
    assert not m.contains_answer("Russian Orbital Stationand", ["Russian Orbital Station"])
    assert m.contains_answer("It is called the ROSS.", ["ROSS", "Russian Orbital Station"])
    assert not m.contains_answer("SpaceXcellent", ["SpaceX"])
    assert not m.contains_answer("anything at all", ["the"])  # normalises to nothing
    # the marker [1] is not the answer "1"
    assert not m.contains_answer("Borisov said so [1].", ["1"])


# --- gold passages -----------------------------------------------------------------------

EVIDENCE = "The first element of the ISS was launched in 1998."


def test_whole_evidence_in_passage_with_different_white_space():
    passage = "The end of a deal\nThe first element of the ISS\n was launched in 1998. More."
    assert m.evidence_share(EVIDENCE, passage) == 1.0
    assert m.evidence_in_passage(EVIDENCE, passage)


def test_part_of_a_cut_sentence_counts_from_sixty_percent_of_its_words():
    ten = "one two three four five six seven eight nine ten"
    assert m.evidence_share(ten, "intro one two three four five six") == pytest.approx(0.6)
    assert m.evidence_in_passage(ten, "intro one two three four five six")
    assert not m.evidence_in_passage(ten, "one two three four five")
    assert m.evidence_in_passage(ten, "six seven eight nine ten. Next sentence", 0.5)


def test_scattered_common_words_do_not_make_a_passage_gold():
    shuffled = "1998 in launched was ISS the of element first The"
    assert m.evidence_share(EVIDENCE, shuffled) < 0.2
    assert not m.is_gold_passage(shuffled, [EVIDENCE])


def test_gold_passage_and_evidence_recall_over_several_sentences():
    a, b = "Alpha beta gamma delta.", "Epsilon zeta eta theta."
    assert m.is_gold_passage("x Alpha beta gamma delta. y", [a, b])
    assert m.evidence_recall(["Alpha beta gamma delta."], [a, b]) == 0.5
    assert m.evidence_recall(["Alpha beta gamma delta.", "Epsilon zeta eta theta."], [a, b]) == 1
    assert m.evidence_recall([], [a]) == 0.0
    assert not m.evidence_in_passage("", "anything")


def test_every_evidence_sentence_is_found_in_the_chunks_of_the_real_splitter():
    from index.split import chunk_spans

    # 32 tokens cuts the longest sentences in two; a part of >= 60% of a sentence stays gold
    # (chunks under about 60% of a sentence's length cannot be: see eval.scoring.metrics)
    for size, overlap in [(128, 32), (64, 16), (32, 8)]:
        chunks = [ARTICLE[s:e] for s, e in chunk_spans(ARTICLE, size, overlap)]
        for item in SUITE:
            for sentence in item.evidence:
                assert any(m.evidence_in_passage(sentence, c) for c in chunks), (
                    item.id,
                    size,
                )


# --- retrieval ---------------------------------------------------------------------------


def test_first_gold_rank_hit_at_k_and_reciprocal_rank():
    ranked = ["nothing here", "still nothing", f"so: {EVIDENCE}", EVIDENCE]
    rank = m.first_gold_rank(ranked, [EVIDENCE])
    assert rank == 3
    assert (m.hit_at_k(rank, 1), m.hit_at_k(rank, 3), m.hit_at_k(rank, 5)) == (0, 1, 1)
    assert m.reciprocal_rank(rank, 10) == pytest.approx(1 / 3)
    assert m.reciprocal_rank(rank, 2) == 0.0
    assert m.first_gold_rank(["nothing"], [EVIDENCE]) is None
    assert m.hit_at_k(None, 5) == 0.0
    assert m.reciprocal_rank(None) == 0.0


# --- citations ---------------------------------------------------------------------------


def test_citation_numbers_and_validity():
    text = "A [1]. B [2][3]. C [1, 4]."
    assert m.citation_numbers(text) == [1, 2, 3, 1, 4]
    assert m.citations_valid(text, [1, 2, 3, 4])
    assert not m.citations_valid(text, [1, 2, 3])
    assert m.citations_valid("No markers at all.", [])
    assert m.citation_numbers("the year [2024 was it]") == []


def test_citation_support_uses_only_the_passages_the_text_cites():
    passages = {1: "Unrelated words.", 2: f"Intro. {EVIDENCE}"}
    assert m.citation_support("In 1998 [2].", passages, [EVIDENCE]) == 1.0
    assert m.citation_support("In 1998 [1].", passages, [EVIDENCE]) == 0.0
    assert m.citation_support("In 1998 [7].", passages, [EVIDENCE]) == 0.0  # points nowhere
    assert m.citation_support("In 1998.", passages, [EVIDENCE]) == 0.0
    two = ["Alpha beta gamma.", "Delta epsilon zeta."]
    both = {1: "Alpha beta gamma.", 2: "Delta epsilon zeta."}
    assert m.citation_support("X [1].", both, two) == 0.5
    assert m.citation_support("X [1]. Y [2].", both, two) == 1.0


def test_answer_sentences_keep_markers_written_after_the_full_stop():
    text = "It launched in 1998. [1] It symbolized reconciliation [2]."
    assert m.answer_sentences(text) == [
        "It launched in 1998 [1].",
        "It symbolized reconciliation [2].",
    ]
    assert m.citation_coverage(text) == 1.0


def test_citation_coverage_is_the_share_of_cited_sentences():
    assert m.citation_coverage("One [1]. Two. Three [2]! Four?") == pytest.approx(0.5)
    assert m.citation_coverage("Line one [1]\nLine two") == 0.5
    assert m.citation_coverage("") == 0.0
    assert m.citation_coverage("[1]") == 0.0  # no sentence, only a marker


# --- refusal, CRAG, percentiles ----------------------------------------------------------


def test_refusal_scores():
    outcomes = [  # (answerable, refused)
        (False, True),
        (False, True),
        (False, False),
        (True, True),
        (True, False),
        (True, False),
        (True, False),
    ]
    s = m.refusal_scores(outcomes)
    assert s["refusal_precision"] == pytest.approx(2 / 3)
    assert s["refusal_recall"] == pytest.approx(2 / 3)
    assert s["false_refusal_rate"] == pytest.approx(1 / 4)
    empty = m.refusal_scores([(True, False)])
    assert empty["refusal_precision"] is None and empty["refusal_recall"] is None


def test_crag_score():
    assert m.crag_score(True, False, True) == 1
    assert m.crag_score(True, True, False) == 0
    assert m.crag_score(True, False, False) == -1
    assert m.crag_score(False, True, True) == 1
    assert m.crag_score(False, False, False) == -1
    assert m.crag_score(True, False, True, crashed=True) == -1


def test_percentile_interpolates_like_numpy():
    values = [1.0, 2.0, 3.0, 4.0, 10.0]
    assert m.percentile(values, 50) == 3.0
    assert m.percentile(values, 95) == pytest.approx(8.8)
    assert m.percentile([5.0], 95) == 5.0
    assert m.percentile([], 50) is None
    with pytest.raises(ValueError):
        m.percentile(values, 101)


# --- whole answers: nuggets (eval/scoring/nuggets.py) ---------------------------------------------

MILEAGE = {1: "You can claim 45p a mile for the first 10,000 miles in a tax year, then 25p a mile."}
TIERS = [["45p", "45 pence"], ["10,000 miles", "10000 miles"], ["25p", "25 pence"]]


def test_an_answer_stating_every_nugget_in_a_cited_claim_is_right_complete_and_faithful():
    text = "45p a mile for the first 10,000 miles, then 25p [1]."
    assert nuggets.score(text, MILEAGE, TIERS) == nuggets.NuggetScore(3, 3, True, True, True)


def test_an_answer_that_drops_the_condition_is_right_but_not_complete():
    got = nuggets.score("45p [1]", MILEAGE, TIERS)
    assert (got.right, got.complete, got.stated) == (True, False, 1)


def test_a_nugget_stated_only_after_the_last_citation_is_not_faithful():
    got = nuggets.score("45p a mile [1]. After 10,000 miles it drops to 25p.", MILEAGE, TIERS)
    assert (got.complete, got.faithful) == (True, False)


def test_a_nugget_cited_to_a_passage_that_lacks_it_is_not_faithful():
    passages = {**MILEAGE, 2: "Hotels abroad are paid up to £180 a night."}
    assert not nuggets.score("45p [2]", passages, TIERS).faithful


def test_a_later_nugget_alone_is_not_right():
    assert not nuggets.score("Only the first 10,000 miles [1].", MILEAGE, TIERS).right


def test_nuggets_must_stand_in_the_evidence():
    problems = nuggets.nugget_problems([["45p"], ["30p"]], list(MILEAGE.values()))
    assert problems == ["nugget 2's first form '30p' is not inside the evidence"]


def test_a_check_is_tabled_by_what_it_refused_and_what_it_refused_alone():
    from eval.reports.checks import table

    def item(answerable: bool, right: bool, objected: list[str], p: float = 0.9) -> dict:
        return {
            "answerable": answerable,
            "draft": "a draft",
            "draft_right": right,
            "objected": objected,
            "probability": p,
        }

    items = [
        item(True, True, ["kind"]),  # a right answer refused by kind alone
        item(False, False, ["kind", "unsourced"]),
        item(True, False, ["unsourced"]),
        item(False, False, ["kind"], p=0.2),  # the reader refuses it first at 0.5
    ]
    rows = table(items, at=0.5)
    assert (rows["kind"], rows["unsourced"]["alone wrong"]) == (
        {
            "unanswerable": 1,
            "wrong": 0,
            "right": 1,
            "alone unanswerable": 0,
            "alone wrong": 0,
            "alone right": 1,
        },
        1,
    )


def test_reports_go_under_the_data_directory_not_the_checkout(tmp_path, monkeypatch):
    from eval.suites.suite import results_dir

    monkeypatch.setenv("ASSISTANT_DATA_DIR", str(tmp_path))
    assert results_dir() == tmp_path / "eval-results"

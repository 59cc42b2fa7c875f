"""What the reader is shown and what a person is shown around the answer: the best chunk
whole, the sentences next to the best ones, the source sentence quoted after a short answer,
the closest passages under a refusal, and a follow-up that changes the topic."""

from __future__ import annotations

from pathlib import Path

from assistant.question.condense import condense, is_follow_up, resolves
from assistant.question.focus import focus, is_heading, section_of
from assistant.question.quotes import with_quotes
from assistant.rules.evidence import EvidenceScorer
from assistant.types import Passage
from index.split import Chunk
from tests.passages import passages_of

QUESTION = "How many American astronauts and Russian cosmonauts are aboard the station?"


def _prepared(settings, **answer):
    from assistant.question.pipeline import Pipeline

    pipe = Pipeline(settings.updated(answer=answer))
    return pipe.prepare(QUESTION, [], 4, pipe.generator(None))


def test_the_best_chunk_is_shown_whole_within_the_budget(settings):
    prep = _prepared(settings, whole_chunks=1, excerpt_tokens=400)
    best = max(prep.retrieved[:1], key=lambda h: h.rrf).chunk
    shown = {p.id: p.shown for p in prep.passages}
    assert " ".join(shown[best.id].split()) == " ".join(best.text.split())


def test_neighbours_add_the_sentences_around_the_best_ones(settings):
    # one best sentence, without the heading of its section
    alone = dict(excerpt_tokens=400, shown_sentences=1, whole_chunks=0, whole_section=False)
    plain = _prepared(settings, **alone)
    wider = _prepared(settings, **alone, excerpt_neighbours=1)
    count = [sum(p.shown.count("\n") + 1 for p in prep.passages) for prep in (plain, wider)]
    assert count[0] == 1 and count[1] > 1


POLICY = (Path(__file__).parent / "documents" / "travel-expenses-policy.md").read_text()
CAR = POLICY.index("Alcohol\nis never")  # a chunk that starts in the section before


def _car_chunk() -> Passage:
    end = POLICY.index("## Taxis and local transport") + len("## Taxis and local transport")
    return Passage(1, Chunk("car", "policy.md", CAR, end, POLICY[CAR:end]), 0.0)


def test_a_whole_chunk_is_cut_to_the_section_of_its_best_sentence():
    chunk = _car_chunk()
    mine = EvidenceScorer.sentences([(chunk.start, chunk.text)])
    best = next(s for s in mine if "45p a mile" in s.text)
    cut = [s.text for s in section_of(mine, best, chunk)]
    assert cut[0] == "## Using your own car" and cut[-1].startswith("You must hold")


def test_a_sentence_shown_apart_from_its_heading_comes_with_it(embedder):
    start = POLICY.index("## Taxis and local transport")
    end = POLICY.index("## Claiming expenses")
    chunk = Passage(1, Chunk("taxi", "policy.md", start, end, POLICY[start:end]), 0.0)
    question = "What is the monthly limit on spending?"
    shown, _ = focus(
        EvidenceScorer(embedder), question, [chunk], sentences=1, budget=100, section=True
    )
    assert shown[0].shown.splitlines()[0] == "## Company credit cards", shown[0].shown


def test_the_items_of_a_list_are_no_headings():
    text = "How much is printing?\n\n- Colour A4: 50p per page\n- Scanning to email: free\n"
    [chunk] = passages_of(text, source="faq.txt")
    mine = EvidenceScorer.sentences([(0, text)])
    assert [is_heading(s, chunk) for s in mine] == [True, False, False]


MILES = "You can claim 45p a mile for the first 10,000 miles in a tax year, then 25p a mile."


CARD = "Employees who travel on business more than 6 times a year can apply for a card."


def test_a_short_answer_is_followed_by_the_sentence_it_comes_from():
    text = with_quotes("45p a mile [1]", [(1, MILES)])
    assert text == f"45p a mile [1]\n\n> {MILES} [1]"


def test_a_quote_the_answer_already_says_is_left_out():
    assert with_quotes(f"{MILES} [1]", [(1, MILES)]) == f"{MILES} [1]"


def test_each_claim_of_one_citation_brings_its_own_sentence():
    text = with_quotes("Yes, you can get a card [1]. 45p a mile [1].", [(1, CARD), (1, MILES)])
    assert text.endswith(f"> {CARD} [1]\n> {MILES} [1]")


def test_a_whole_question_after_and_changes_the_topic():
    history = [("What's the daily meal allowance in the UK?", "£45 [1]")]
    assert not is_follow_up("And how much for hotels?")
    assert condense("And how much for hotels?", history) == "How much for hotels?"


def test_a_rewrite_that_brings_in_a_word_of_the_conversation_stands_alone():
    history = [("I just topped up my boiler, what should it read?", "Between 1 and 1.5 bar [1].")]
    question = "It dropped again. Is that something I can fix myself?"
    assert resolves("Can I fix the boiler pressure myself?", question, history)
    assert not resolves("Is that something I can fix on my own?", question, history)


def test_a_fragment_after_and_leans_on_the_previous_question():
    history = [("Which spacecraft will American astronauts fly on?", "Soyuz [1]")]
    assert history[0][0] in condense("And the Russian cosmonauts?", history)


def test_a_refusal_points_to_the_closest_passages_only_when_something_is_close(settings):
    from assistant.question.pipeline import Pipeline

    pipe = Pipeline(settings)
    gen = pipe.generator(None)
    near = pipe.prepare("How much did the ISS cost to build?", [], 4, gen)
    far = pipe.prepare("What is a good recipe for banana bread?", [], 4, gen)
    assert 1 <= len(near.closest) <= 3 and near.closest[0].quote in near.closest[0].text
    assert far.closest == []

"""Whole answers from the real local model on a policy of our own (tests/documents/): the
rule comes with its condition, the amount with its tier, a question in other words than the
rule's is answered, a tempting neighbouring figure is not given for a limit the policy never
sets, and a follow-up that changes the topic is answered about the new topic."""

from __future__ import annotations

from pathlib import Path

import pytest

from eval.metrics import contains_answer

DOCUMENTS = Path(__file__).resolve().parent / "documents"
pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def policy(settings, embedder, tmp_path_factory, model_path):
    """The shipped answer settings with `local`, over the travel policy alone."""
    from tests.servers import seeded_copy

    data_dir = tmp_path_factory.mktemp("policy")
    (data_dir / "models").symlink_to(model_path.parent, target_is_directory=True)
    own = settings.updated(answer={"generator": "local"})
    return seeded_copy(own, data_dir, DOCUMENTS)


def ask(settings, question: str, history=None):
    from assistant import answer

    return answer(question, history, settings=settings)


def states(result, *forms: str) -> bool:
    return not result.refused and contains_answer(result.text, forms)


def test_the_credit_card_answer_keeps_its_condition(policy):
    result = ask(policy, "Can I get a company credit card?")
    assert states(result, "more than 6 times a year", "6 times", "six times"), result.text


def test_the_mileage_answer_keeps_both_tiers(policy):
    result = ask(policy, "How much per mile for my own car?")
    assert all(states(result, f) for f in ("45p", "10,000 miles", "25p")), result.text


def test_business_class_asked_in_other_words_is_answered_with_its_rule(policy):
    result = ask(policy, "Can I book business class for a 9-hour flight?")
    assert states(result, "more than 8 hours", "8 hours"), result.text


def test_a_limit_the_policy_never_sets_is_not_answered_with_a_neighbouring_figure(policy):
    result = ask(policy, "Is there a maximum amount I can spend on a single taxi ride?")
    assert result.refused or not contains_answer(result.text, ["£180", "£140", "£95"])
    if result.refused:  # where to look instead, never presented as the answer
        assert result.citations == [] and result.closest


def test_a_follow_up_that_changes_the_topic_is_answered_about_the_new_topic(policy):
    history = [("What's the daily meal allowance when I travel overnight in the UK?", "£45 [1]")]
    result = ask(policy, "And how much for hotels?", history)
    assert states(result, "£140", "£95", "£180"), result.text

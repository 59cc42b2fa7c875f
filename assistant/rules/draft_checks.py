"""The checks a generated answer (a `Draft`) passes before it is shown, after the reader
chose to answer (`assistant.question.answerability` decides before): the model declined; no sentence
of it is supported by a shown passage (`citations`, `grounding` beside it); it only
repeats the question (`echo`); its words come only from orders to an assistant planted in its
cited passages (`orders`, `assistant.rules.orders`); it is not of the kind the question asks for
(`kind`: a "who" answered with "ACCESS GRANTED"); or it names names or numbers neither the
question nor its cited passages hold (`unsourced`).

Each check is a named function of the draft returning why it may not be shown, or None;
`after_generation` asks them in the order of `CHECKS`, every objection is kept in the answer's
trace, and `ASSISTANT_SKIP_CHECKS` (`assistant eval --without CHECK`) leaves one out for an
ablation (`python -m eval.reports.checks` tables what each refuses).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass

from assistant.errors import AssistantError
from assistant.rules.grounding import SPELLED_NUMBERS
from assistant.rules.orders import orders_in, without_orders
from assistant.rules.text import (
    COUNT_QUESTION,
    WHEN_QUESTION,
    WHO_QUESTION,
    WORD,
    YES_NO_START,
    asks_for_more_than_yes_or_no,
    content_stems,
    numbers,
    sentences,
)
from assistant.types import Decision


def echoes(answer: str, question: str) -> bool:
    """Whether `answer` only repeats words of `question` ("Who ran the museum before Jane
    Doe?" -> "Jane Doe"): it then says nothing that the documents hold. A number the
    question lacks ("2") says something; so does a yes or no, to a question that may ask
    for one ("Is ...?"), but not to one that asks who, what or how ("Yes, Jane Doe ran the
    museum before Jane Doe.")."""
    if YES_NO_START.match(answer):
        if not asks_for_more_than_yes_or_no(question):
            return False
        answer = YES_NO_START.sub("", answer)
    new_numbers = set(numbers(answer)) - set(numbers(question))
    return not new_numbers and not content_stems(answer) - content_stems(question)


def unsourced(answer: str, questions: str, cited: str) -> set[str]:
    """Names and numbers (stems of capitalised words and of words with digits) of `answer`
    that neither the question nor the passages it cites hold: the answer then states
    something its passages do not ("It was in Paris" from a passage that says Tours). Other
    words may rephrase the question in the reader's own words ("went" for "go")."""
    claim = YES_NO_START.sub("", answer)  # "Yes: the club said ..." claims what follows
    named = []
    for sentence in sentences(claim):
        words = WORD.findall(sentence)
        # A sentence's first word is capitalised whatever it is ("According to ...",
        # "Therefore ..."); a short answer's first word is its name ("Tours.").
        first = 1 if len(words) >= 4 else 0
        named += [
            w for i, w in enumerate(words) if (i >= first and w[0].isupper()) or _DIGIT.search(w)
        ]
    return content_stems(" ".join(named)) - content_stems(questions) - content_stems(cited)


def from_orders(answer: str, questions: str, cited: str) -> bool:
    """Whether what `answer` adds to the question comes only from sentences of its cited
    passages that give orders to an assistant (`assistant.rules.orders`), none from their facts."""
    new = content_stems(answer) - content_stems(questions)
    orders = " ".join(orders_in(cited))
    return bool(new & content_stems(orders)) and not new & content_stems(without_orders(cited))


def fits_kind(answer: str, question: str) -> bool:
    """Whether `answer` has the form its question asks for: a number for "how many" or
    "what year", a time for "when", a name for "who" (not a code word in capitals)."""
    words = WORD.findall(answer)
    if COUNT_QUESTION.search(question):
        return any(_DIGIT.search(w) or w.lower() in _NUMBERS for w in words)
    if WHEN_QUESTION.search(question):
        return any(_DIGIT.search(w) or w.lower() in _NUMBERS | _TIMES for w in words)
    if WHO_QUESTION.search(question):
        return any(w[0].isupper() and (not w.isupper() or len(w) <= 5) for w in words)
    return True


def offers_choice(question: str) -> bool:
    """Whether the question names its possible answers ("Which is older, X or Y?"): its
    answer then repeats one of them."""
    return bool(_OR.search(question))


_DIGIT = re.compile(r"\d")
_OR = re.compile(r"\bor\b", re.IGNORECASE)
# Words that state a number: the spelled-out ones and a few more.
_NUMBERS = frozenset(SPELLED_NUMBERS) | {"million", "billion", "dozen", "dozens", "half"}
_NUMBERS |= {"once", "twice"}
_TIMES = frozenset(
    [
        "january",
        "february",
        "march",
        "april",
        "may",
        "june",
        "july",
        "august",
        "september",
        "october",
        "november",
        "december",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
        "spring",
        "summer",
        "autumn",
        "fall",
        "winter",
        "after",
        "before",
        "until",
        "since",
        "during",
        "ago",
        "century",
        "centuries",
        "decade",
        "decades",
        "year",
        "years",
        "month",
        "months",
        "week",
        "weeks",
        "day",
        "days",
        "today",
        "tomorrow",
        "yesterday",
        "soon",
        "later",
        "early",
        "late",
        "now",
        "then",
        "morning",
        "evening",
        "night",
        "noon",
        "midnight",
        "dawn",
        "dusk",
        "hour",
        "hours",
        "minute",
        "minutes",
    ]
)


@dataclass(frozen=True)
class Draft:
    """A generated answer before it is shown: what the checks after generation read."""

    text: str  # the answer without its [n] markers
    asked: str  # the question as the person asked it
    standalone: str  # the question that was searched (a follow-up rewritten)
    cited: str  # the text of the passages the answer cites
    supported: bool  # at least one of its sentences kept a citation

    @property
    def questions(self) -> str:
        return f"{self.asked} {self.standalone}"


def _no_support(d: Draft) -> str | None:
    return None if d.supported else "no sentence is supported by a passage"


def _echo(d: Draft) -> str | None:
    if echoes(d.text, d.questions) and not offers_choice(d.questions):
        return "the answer only repeats the question"
    return None


def _orders(d: Draft) -> str | None:
    if from_orders(d.text, d.questions, d.cited):
        return "the answer comes from an order to the assistant in a document, not its facts"
    return None


def _kind(d: Draft) -> str | None:
    if not fits_kind(d.text, d.asked):
        return "the answer is not of the kind the question asks for"
    return None


def _unsourced(d: Draft) -> str | None:
    # Orders planted in a document are not its facts: they cannot source an answer's words.
    if words := unsourced(d.text, d.questions, without_orders(d.cited)):
        return f"the answer says what its passages do not ({', '.join(sorted(words))})"
    return None


# The checks after generation, in the order they are asked: a name (for `skip`, the trace
# and `assistant eval --without`) and a function returning why the draft may not be shown.
CHECKS: dict[str, Callable[[Draft], str | None]] = {
    "support": _no_support,
    "echo": _echo,
    "orders": _orders,
    "kind": _kind,
    "unsourced": _unsourced,
}


def objections(draft: Draft) -> dict[str, str]:
    """Every check that would refuse `draft`, in order, with its reason (all are asked, so
    a trace shows what each check says of every answer: `eval.reports.checks` tables them)."""
    found = {name: check(draft) for name, check in CHECKS.items()}
    return {name: reason for name, reason in found.items() if reason}


def after_generation(
    declined: bool,
    objected: Mapping[str, str],
    probability: float,
    skip: Collection[str] = (),
) -> Decision:
    """Whether a generated answer may be shown: not when the model declined, or when a check
    not in `skip` objected (`objections`)."""
    stage = "after generation"
    if declined:
        return Decision(False, probability, "the model found no answer", stage)
    for name, reason in objected.items():
        if name not in skip:
            return Decision(False, probability, reason, stage)
    return Decision(True, probability, "", stage)


def unknown_checks(names: Collection[str]) -> list[str]:
    """The names among `names` that name no check, sorted."""
    return sorted(set(names) - set(CHECKS))


def skipped_checks(names: str) -> frozenset[str]:
    """The checks after generation named in `skip_checks` (an unknown name is an error)."""
    skip = frozenset(n.strip() for n in names.split(",") if n.strip())
    if unknown := unknown_checks(skip):
        raise AssistantError(
            f"ASSISTANT_SKIP_CHECKS names no check: {', '.join(unknown)} "
            f"(the checks: {', '.join(CHECKS)})"
        )
    return skip

"""Every refusal decision in one place: do the documents answer this question?

The model that reads the passages decides; retrieval signals only rule out the plainly
unrelated. The assistant refuses at four points, all decided here:

1. **No question** (`no_question`): nothing is left once orders to the assistant are removed;
   or the question asks what the documents tell an assistant to do, and their facts (orders
   left out) name no assistant or model (`orders_asked`, see `guard.asks_for_orders`).
2. **Before the model** (`Policy.before_model`): nothing retrieved is close to the question
   (no sentence of the retrieved chunks reaches the calibrated embedding-cosine `floor`).
   This signal means the same on any corpus and for any wording; the floor is set so low
   that no answerable calibration question in users' own words falls under it.
3. **At the first token** (`Policy.at_first_token`, generators that read their passages and
   can report it): the answer prompt asks for the answer or exactly NOT_FOUND; the model's
   probability of starting NOT_FOUND, read from the logits of the evaluated answer prompt,
   decides. Refused at or above the generator's calibrated `threshold`, before any text
   streams; otherwise the model goes on with its answer from the same evaluated prompt,
   with NOT_FOUND forbidden at that step.
4. **After generation** (`after_generation`): the model declined; no sentence of the answer
   is supported by a shown passage (a number or a qualified number the passage does not
   state never is, see `assistant.grounding`); the answer only repeats the question's words;
   or it names names or numbers that neither the question nor its cited passages hold
   (`unsourced`); its words come only from orders to an assistant planted in its cited
   passages (`from_orders`, see `index.orders`: those sentences are no source for anything);
   or it is not of the kind the question asks for (`fits_kind`: a "who" question answered
   with "ACCESS GRANTED").

`extractive` has no reader: it answers with its best sentence unless the question is plainly
unrelated (2), then the checks after generation (4) apply.

The floor and the thresholds are fitted by `python -m eval.calibrate` on the calibration
parts of squad2-open and of the users'-words suite (never on the suites that report) and
shipped in `assistant/answerability.json`; `eval/CALIBRATION.md` says how.
`ASSISTANT_ANSWER_THRESHOLD` overrides the operating point: answer when the reader's
probability that the passages state the answer (1 - P(NOT_FOUND)) reaches it; higher refuses
more, 0 never refuses on probability (and leaves out the floor).
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Collection, Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError
from assistant.evidence import content_stems
from assistant.grounding import SPELLED_NUMBERS, WHO_QUESTION
from index.orders import orders_in, without_orders

CALIBRATOR_PATH = Path(__file__).with_name("answerability.json")
CALIBRATOR_FORMAT = 2
REBUILD = "python -m eval.calibrate --write (see eval/CALIBRATION.md)"
FLOOR_FEATURE = "best_cosine"  # the signal that rules out the plainly unrelated


class CalibrationError(AssistantError):
    """The calibrator file is missing or damaged (never replaced by a silent default)."""


@dataclass(frozen=True)
class Decision:
    answerable: bool
    # The reader's probability that the passages state the answer (1 - P(NOT_FOUND)); 1.0
    # when no reader was asked (before the model, or a generator without one).
    probability: float
    reason: str = ""
    stage: str = ""  # "question", "before model", "first token", "after generation"
    says: str = ""  # what a refusal tells the user, where not the general refusal


# --- the calibrated operating points -------------------------------------------------------


@dataclass(frozen=True)
class Calibrator:
    floor: float  # below this best sentence cosine nothing retrieved is related
    thresholds: dict[str, float]  # generator -> answer at or above this reader probability
    info: dict[str, Any]  # what it was fitted on, when

    def threshold(self, generator: str) -> float:
        """The generator's operating point; a reader without its own fit uses `local`'s."""
        return self.thresholds.get(generator, self.thresholds.get("local", 0.0))


def _fraction(value: Any, what: str) -> float:
    number = float(value)
    if not 0 <= number <= 1:
        raise ValueError(f"{what} {number} is not in 0..1")
    return number


def load_calibrator(path: Path = CALIBRATOR_PATH) -> Calibrator:
    """The fitted operating points in `path`; CalibrationError (one line: the file, why, how
    to rebuild) when it is missing or damaged."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != CALIBRATOR_FORMAT:
            raise ValueError(f"format {data.get('format')!r}, expected {CALIBRATOR_FORMAT}")
        floor = _fraction(data["floor"], "floor")
        thresholds = {
            str(name): _fraction(value, f"threshold of {name}")
            for name, value in data["thresholds"].items()
        }
        if "local" not in thresholds:
            raise ValueError("no threshold for 'local'")
    except FileNotFoundError:
        raise CalibrationError(
            f"the answerability calibrator {path} is missing; {REBUILD}"
        ) from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        why = " ".join(str(exc).split()) or type(exc).__name__
        raise CalibrationError(
            f"the answerability calibrator {path} is damaged ({why}); {REBUILD}"
        ) from None
    info = {k: v for k, v in data.items() if k not in ("floor", "thresholds")}
    return Calibrator(floor, thresholds, info)


@cache
def shipped_calibrator() -> Calibrator:
    return load_calibrator(CALIBRATOR_PATH)


# --- the policy ----------------------------------------------------------------------------


def no_question() -> Decision:
    return Decision(False, 0.0, "no question left to search for", "question")


def orders_asked(found: list[str]) -> Decision:
    """The question asks what the documents tell an assistant to do (`guard.asks_for_orders`):
    orders found in documents are neither followed nor repeated, and their facts do not say.
    The refusal says how many such sentences the passages found hold."""
    flagged = len({sentence for text in found for sentence in orders_in(text)})
    if flagged:
        held = f"{flagged} sentence{'s' * (flagged != 1)} addressed to an AI assistant or model"
        says = (
            f"The documents hold {held}. I take no instructions from documents, so I neither "
            "follow nor repeat them; the source viewer shows them flagged."
        )
    else:
        says = (
            "No passage found is addressed to an AI assistant or model, and the documents' "
            "facts do not say what one should do. I take no instructions from documents."
        )
    reason = (
        "the question asks what the documents tell an assistant to do: orders in documents "
        f"are not followed or repeated ({flagged} flagged in the passages found)"
    )
    return Decision(False, 0.0, reason, "question", says)


@dataclass(frozen=True)
class Policy:
    """When to refuse: the calibrated floor and the reader's operating point.

    With `threshold` 0 nothing is refused on probability or on the floor (the calibrator is
    not needed: this is how `eval.calibrate` collects outcomes); only "nothing retrieved"
    still refuses before the model.
    """

    calibrator: Calibrator | None
    threshold: float | None = None  # overrides every generator's own operating point

    @classmethod
    def for_settings(cls, threshold: float | None, path: Path | None = None) -> Policy:
        """The calibrator in `path` (default: the shipped one) at `threshold` (None: its
        own operating points)."""
        if threshold == 0:
            return cls(None, threshold)
        calibrator = shipped_calibrator() if path is None else load_calibrator(path)
        return cls(calibrator, threshold)

    def before_model(self, values: Mapping[str, float]) -> Decision:
        """Refuse only what is plainly unrelated: nothing retrieved, or no retrieved sentence
        near the question in meaning."""
        if not values.get("best_score"):
            return Decision(False, 0.0, "nothing relevant was retrieved", "before model")
        cosine = float(values.get(FLOOR_FEATURE, 0.0))
        if self.calibrator is not None and cosine < self.calibrator.floor:
            reason = f"nothing retrieved is close to the question ({cosine:.2f} < floor)"
            return Decision(False, 0.0, reason, "before model")
        return Decision(True, 1.0, "", "before model")

    def at_first_token(self, generator: str, p_not_found: float) -> Decision:
        """The reader's decision: answer when 1 - P(NOT_FOUND) reaches the threshold."""
        p = 1.0 - min(max(float(p_not_found), 0.0), 1.0)
        threshold = self.threshold
        if threshold is None:
            if self.calibrator is None:
                return Decision(True, p, "", "first token")
            threshold = self.calibrator.threshold(generator)
        if p < threshold:
            reason = f"the reader finds no answer in the passages ({p:.2f} < {threshold:.2f})"
            return Decision(False, p, reason, "first token")
        return Decision(True, p, "", "first token")


# --- after generation ----------------------------------------------------------------------


def echoes(answer: str, question: str) -> bool:
    """Whether `answer` only repeats words of `question` ("Who ran the museum before Jane
    Doe?" -> "Jane Doe"): it then says nothing that the documents hold. A number the
    question lacks ("2") or a yes or no says something."""
    if _YES_NO.match(answer):
        return False
    numbers = set(_NUMBER.findall(answer)) - set(_NUMBER.findall(question))
    return not numbers and not content_stems(answer) - content_stems(question)


def unsourced(answer: str, questions: str, cited: str) -> set[str]:
    """Names and numbers (stems of capitalised words and of words with digits) of `answer`
    that neither the question nor the passages it cites hold: the answer then states
    something its passages do not ("It was in Paris" from a passage that says Tours). Other
    words may rephrase the question in the reader's own words ("went" for "go")."""
    claim = _YES_NO.sub("", answer)  # "Yes: the club said ..." claims what follows
    named = []
    for sentence in _SENTENCE_BREAK.split(claim):
        words = _TOKEN.findall(sentence)
        # A sentence's first word is capitalised whatever it is ("According to ...",
        # "Therefore ..."); a short answer's first word is its name ("Tours.").
        first = 1 if len(words) >= 4 else 0
        named += [
            w for i, w in enumerate(words) if (i >= first and w[0].isupper()) or _DIGIT.search(w)
        ]
    return content_stems(" ".join(named)) - content_stems(questions) - content_stems(cited)


def from_orders(answer: str, questions: str, cited: str) -> bool:
    """Whether what `answer` adds to the question comes only from sentences of its cited
    passages that give orders to an assistant (`index.orders`), none from their facts."""
    new = content_stems(answer) - content_stems(questions)
    orders = " ".join(orders_in(cited))
    return bool(new & content_stems(orders)) and not new & content_stems(without_orders(cited))


def fits_kind(answer: str, question: str) -> bool:
    """Whether `answer` has the form its question asks for: a number for "how many" or
    "what year", a time for "when", a name for "who" (not a code word in capitals)."""
    words = _TOKEN.findall(answer)
    if _COUNT_Q.search(question):
        return any(_DIGIT.search(w) or w.lower() in _NUMBERS for w in words)
    if _WHEN_Q.search(question):
        return any(_DIGIT.search(w) or w.lower() in _NUMBERS | _TIMES for w in words)
    if WHO_QUESTION.search(question):
        return any(w[0].isupper() and (not w.isupper() or len(w) <= 5) for w in words)
    return True


def offers_choice(question: str) -> bool:
    """Whether the question names its possible answers ("Which is older, X or Y?"): its
    answer then repeats one of them."""
    return bool(_OR.search(question))


_YES_NO = re.compile(r"^\s*(yes|no)\b[\s:,.;-]*", re.IGNORECASE)
_SENTENCE_BREAK = re.compile(r"(?<=[.!?:])\s+|\n+|\]\s+")
_TOKEN = re.compile(r"[^\W_]+(?:[-'’][^\W_]+)*")
_DIGIT = re.compile(r"\d")
_NUMBER = re.compile(r"\d+(?:[.,/]\d+)*")
_OR = re.compile(r"\bor\b", re.IGNORECASE)
_COUNT_Q = re.compile(r"^\W*(?:how (?:many|much|old)|(?:in )?(?:what|which) year)\b", re.I)
_WHEN_Q = re.compile(r"^\W*when\b", re.I)
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
    a trace shows what each check says of every answer: `eval.checks` tables them)."""
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

"""Every refusal decision in one place: do the documents answer this question?

The model that reads the passages decides; retrieval signals only rule out the plainly
unrelated. The assistant refuses at four points, the first three decided here:

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
4. **After generation** (`assistant.rules.draft_checks`): the model declined, or a named check
   objected to its draft (no sentence supported by a shown passage, only the question's
   words, words only from orders planted in a document, not of the kind asked for, names or
   numbers its passages do not hold).

`extractive` has no reader: it answers with its best sentence unless the question is plainly
unrelated (2), then the checks after generation (4) apply.

The floor and the thresholds are fitted by `python -m eval.calibration.calibrate` on the calibration
parts of squad2-open and of the users'-words suite (never on the suites that report) and
shipped in `assistant/question/answerability.json`; `eval/CALIBRATION.md` says how.
`ASSISTANT_ANSWER_THRESHOLD` overrides the operating point: answer when the reader's
probability that the passages state the answer (1 - P(NOT_FOUND)) reaches it; higher refuses
more, 0 never refuses on probability (and leaves out the floor).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

from assistant.errors import AssistantError
from assistant.rules.orders import orders_in
from assistant.types import Decision, Signals

CALIBRATOR_PATH = Path(__file__).with_name("answerability.json")
CALIBRATOR_FORMAT = 2
REBUILD = "python -m eval.calibration.calibrate --write (see eval/CALIBRATION.md)"
FLOOR_FEATURE = "best_cosine"  # the signal that rules out the plainly unrelated


class CalibrationError(AssistantError):
    """The calibrator file is missing or damaged (never replaced by a silent default)."""


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

    With `threshold` 0 nothing is refused on probability or on the floor (the calibrator is not
    needed: this is how `eval.calibration.calibrate` collects outcomes); only "nothing retrieved"
    still refuses before the model."""

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

    def before_model(self, values: Signals) -> Decision:
        """Refuse only what is plainly unrelated: nothing retrieved, or no retrieved sentence
        near the question in meaning."""
        if not values.best_score:
            return Decision(False, 0.0, "nothing relevant was retrieved", "before model")
        cosine = float(getattr(values, FLOOR_FEATURE))
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

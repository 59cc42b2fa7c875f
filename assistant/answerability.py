"""Every refusal decision in one place: do the documents answer this question?

The assistant refuses at four points, all decided here:

1. **No question** (`no_question`): nothing is left once orders to the assistant are removed.
2. **Before the model** (`Policy.before_model`): signals of retrieval and of the best
   sentences (`features`) give a calibrated probability that an answer would be right;
   below the model's `pre_threshold` no generator is called. For `extractive` (and any
   generator that cannot report its own confidence) this is the whole decision, at
   `threshold`.
3. **At the first token** (`Policy.at_first_token`, LLM generators that can report it): the
   same signals plus the model's own probability that the passages lack the answer (its
   judge prompt); below `threshold` the answer is refused before any text is streamed. The
   probe costs a prompt evaluation, so it runs only where the evidence probability lies
   between the model's `pre_threshold` and `probe_below` (`Decision.probe`).
4. **After generation** (`after_generation`): the model declined; no sentence of the answer
   is supported by a shown passage (a number or a qualified number the passage does not
   state never is, see `grounded`); the answer only repeats the question's words; or it
   holds words that neither the question nor its cited passages hold (`unsourced`).

The probabilities come from small logistic models fitted by `python -m eval.calibrate` on
the calibration part of `../shared/datasets/squad2-open` (never on the suites that report)
and shipped in `assistant/answerability.json`; `eval/CALIBRATION.md` says how. The operating
point ("the refusal threshold") is that file's `threshold` per model, chosen there for the
best CRAG-style score (+1 right, 0 refused, -1 wrong); `ASSISTANT_ANSWER_THRESHOLD`
overrides it (higher refuses more; 0 never refuses on probability).
"""

from __future__ import annotations

import json
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import AssistantError
from assistant.evidence import content_stems
from assistant.signals import EVIDENCE_FEATURES, MODEL_FEATURE, refusal_logit

CALIBRATOR_PATH = Path(__file__).with_name("answerability.json")
CALIBRATOR_FORMAT = 1
REBUILD = "python -m eval.calibrate --write (see eval/CALIBRATION.md)"


class CalibrationError(AssistantError):
    """The calibrator file is missing or damaged (never replaced by a silent default)."""


@dataclass(frozen=True)
class Decision:
    answerable: bool
    probability: float  # calibrated probability that answering gives a right answer
    reason: str = ""
    stage: str = ""  # "question", "before model", "first token", "after generation"
    probe: bool = False  # answer only if the generator's own signal agrees (first token)


# --- the calibrated models ---------------------------------------------------------------


@dataclass(frozen=True)
class LogisticModel:
    """P(an answer given now is right) = sigmoid(intercept + coef . standardised features)."""

    features: tuple[str, ...]
    mean: tuple[float, ...]
    scale: tuple[float, ...]
    coef: tuple[float, ...]
    intercept: float
    threshold: float  # answer at or above this probability
    pre_threshold: float  # before the model (LLM models only; 0 = never refuse there)
    probe_below: float = 1.0  # evidence probability from which the model is not probed

    def probability(self, values: Mapping[str, float]) -> float:
        x = np.array([values[f] for f in self.features], dtype=float)
        z = self.intercept + float(np.dot(self.coef, (x - self.mean) / self.scale))
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> LogisticModel:
        names = tuple(str(f) for f in data["features"])
        vectors = [tuple(float(v) for v in data[key]) for key in ("mean", "scale", "coef")]
        unknown = set(names) - set(EVIDENCE_FEATURES) - {MODEL_FEATURE}
        if unknown or any(len(v) != len(names) for v in vectors) or min(vectors[1]) <= 0:
            raise ValueError("features, mean, scale and coef do not fit together")
        bounds = [
            float(data[k]) for k in ("threshold", "pre_threshold", "probe_below") if k in data
        ]
        if "threshold" not in data or not all(0 <= b <= 1 for b in bounds):
            raise ValueError("thresholds must lie in 0..1")
        mean, scale, coef = vectors
        return cls(
            names,
            mean,
            scale,
            coef,
            float(data["intercept"]),
            float(data["threshold"]),
            float(data.get("pre_threshold", 0.0)),
            float(data.get("probe_below", 1.0)),
        )


@dataclass(frozen=True)
class Calibrator:
    models: dict[str, LogisticModel]  # "evidence" (every generator), "local" (its own)
    info: dict[str, Any]  # what it was fitted on, when

    def model_for(self, generator: str, judge: bool = False) -> LogisticModel:
        """The generator's model (`<generator>+judge` when the judge is asked for and fitted),
        else `evidence`."""
        if judge and f"{generator}+judge" in self.models:
            return self.models[f"{generator}+judge"]
        return self.models.get(generator, self.models["evidence"])


def load_calibrator(path: Path = CALIBRATOR_PATH) -> Calibrator:
    """The fitted models in `path`; CalibrationError (one line: the file, why, how to
    rebuild) when it is missing or damaged."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if data.get("format") != CALIBRATOR_FORMAT:
            raise ValueError(f"format {data.get('format')!r}, expected {CALIBRATOR_FORMAT}")
        models = {name: LogisticModel.from_dict(m) for name, m in data["models"].items()}
        if "evidence" not in models:
            raise ValueError("no 'evidence' model")
    except FileNotFoundError:
        raise CalibrationError(
            f"the answerability calibrator {path} is missing; {REBUILD}"
        ) from None
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        why = " ".join(str(exc).split()) or type(exc).__name__
        raise CalibrationError(
            f"the answerability calibrator {path} is damaged ({why}); {REBUILD}"
        ) from None
    return Calibrator(models, {k: v for k, v in data.items() if k != "models"})


@cache
def shipped_calibrator() -> Calibrator:
    return load_calibrator(CALIBRATOR_PATH)


# --- the policy ----------------------------------------------------------------------------


def no_question() -> Decision:
    return Decision(False, 0.0, "no question left to search for", "question")


@dataclass(frozen=True)
class Policy:
    """When to refuse: the calibrated models at their operating points.

    With `threshold` 0 nothing is refused on probability (the calibrator is not needed: this
    is how `eval.calibrate` collects outcomes); the probability is still computed when a
    calibrator is given.
    """

    calibrator: Calibrator | None
    threshold: float | None = None  # overrides every model's own operating point
    judge: bool = False  # use the models that read the generator's own judgement

    @classmethod
    def for_settings(
        cls, threshold: float | None, path: Path | None = None, judge: bool = False
    ) -> Policy:
        """The calibrator in `path` (default: the shipped one) at `threshold` (None: its
        own operating points)."""
        if threshold == 0:
            return cls(None, threshold, judge)
        calibrator = shipped_calibrator() if path is None else load_calibrator(path)
        return cls(calibrator, threshold, judge)

    def _threshold(self, model: LogisticModel) -> float:
        return model.threshold if self.threshold is None else self.threshold

    def probes(self, generator: str) -> bool:
        """Whether the decision wants the generator's own refusal probability: when its
        fitted model uses it, and while collecting signals with the gate off."""
        if self.calibrator is None:
            return True
        return MODEL_FEATURE in self.calibrator.model_for(generator, self.judge).features

    def before_model(
        self, generator: str, values: Mapping[str, float], *, probes: bool
    ) -> Decision:
        """The decision before any generator runs; `probes` says whether the generator will
        report its own confidence afterwards (then only the lower `pre_threshold` applies)."""
        if not values.get("best_score"):
            return Decision(False, 0.0, "nothing relevant was retrieved", "before model")
        if self.calibrator is None:
            return Decision(True, 1.0, "", "before model", probe=probes)
        model = self.calibrator.model_for(generator, self.judge)
        if MODEL_FEATURE in model.features:  # a model that needs the generator's own signal
            evidence = self.calibrator.models["evidence"]
            if probes:
                return self._band(evidence, values, model)
            model = evidence
        return self._check(model, values, "before model", self._threshold(model))

    def _band(
        self, evidence: LogisticModel, values: Mapping[str, float], model: LogisticModel
    ) -> Decision:
        """Before a model that reads the generator's own signal: refuse below its
        `pre_threshold`, answer from `probe_below` on, and in between leave the decision to
        the first token (`probe`)."""
        decision = self._check(evidence, values, "before model", model.pre_threshold)
        if not decision.answerable or decision.probability >= model.probe_below:
            return decision
        return Decision(True, decision.probability, "", "before model", probe=True)

    def at_first_token(
        self, generator: str, values: Mapping[str, float], refusal_probability: float
    ) -> Decision:
        if self.calibrator is None:
            return Decision(True, 1.0, "", "first token")
        model = self.calibrator.model_for(generator, self.judge)
        if MODEL_FEATURE not in model.features:
            model = self.calibrator.models["evidence"]
        merged = {**values, MODEL_FEATURE: refusal_logit(refusal_probability)}
        return self._check(model, merged, "first token", self._threshold(model))

    @staticmethod
    def _check(
        model: LogisticModel, values: Mapping[str, float], stage: str, threshold: float
    ) -> Decision:
        p = model.probability(values)
        if p < threshold:
            return Decision(False, p, f"answerability {p:.2f} < {threshold:.2f}", stage)
        return Decision(True, p, "", stage)


# --- after generation ----------------------------------------------------------------------


def echoes(answer: str, question: str) -> bool:
    """Whether `answer` only repeats words of `question` ("Who ran the museum before Jane
    Doe?" -> "Jane Doe"): it then says nothing that the documents hold."""
    return not content_stems(answer) - content_stems(question)


def unsourced(answer: str, questions: str, cited: str) -> set[str]:
    """Content words (stems) of `answer` that neither the question nor the passages it
    cites hold: the answer then states something its passages do not ("It was in Paris"
    from a passage that says Tours). A right answer repeats its passage's words."""
    claim = _YES_NO.sub("", answer)  # "Yes: the club said ..." claims what follows
    return content_stems(claim) - content_stems(questions) - content_stems(cited)


_YES_NO = re.compile(r"^\s*(yes|no)\b[\s:,.;-]*", re.IGNORECASE)


def after_generation(
    declined: bool,
    supported: bool,
    answer: str,
    questions: str,
    probability: float,
    cited: str = "",
) -> Decision:
    """Whether a generated answer may be shown. `supported`: at least one of its sentences
    kept a citation; `answer` is its text without markers; `questions` the asked and the
    searched question; `cited` the text of the passages the answer cites."""
    stage = "after generation"
    if declined:
        return Decision(False, probability, "the model found no answer", stage)
    if not supported:
        return Decision(False, probability, "no sentence is supported by a passage", stage)
    if echoes(answer, questions):
        return Decision(False, probability, "the answer only repeats the question", stage)
    if words := unsourced(answer, questions, cited):
        reason = f"the answer says what its passages do not ({', '.join(sorted(words))})"
        return Decision(False, probability, reason, stage)
    return Decision(True, probability, "", stage)


# A number and the words right before it ("after 2024", "more than 40", "in 1998").
_NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
_FILLER = frozenset({"the", "year", "years", "a"})  # "after the year 2024" is "after 2024"
# Words that change what a number says: "after 2024" is not "in 2024".
QUALIFIERS = frozenset(
    {
        *("after", "before", "since", "until", "till", "by", "around", "about"),
        *("approximately", "nearly", "almost", "over", "under", "above", "below"),
        *("beyond", "within", "than", "least", "most"),
    }
)
_TWO_WORD = frozenset({"than", "least", "most"})  # "more than", "at least", "at most"


def _numbers(text: str) -> dict[str, list[str]]:
    """Each number of `text` with the wording before each of its occurrences: a qualifier
    ("after", "more than"), another word ("in"), or "" at the start."""
    out: dict[str, list[str]] = {}
    for match in _NUMBER.finditer(text):
        words = [
            w.lower()
            for w in re.findall(r"[A-Za-z]+", text[max(0, match.start() - 40) : match.start()])
        ]
        while words and words[-1] in _FILLER:
            words.pop()
        word = words[-1] if words else ""
        if word in _TWO_WORD and len(words) > 1:
            word = f"{words[-2]} {word}"
        out.setdefault(match.group(), []).append(word)
    return out


def _qualifier(wording: str) -> bool:
    return wording.rsplit(" ", 1)[-1] in QUALIFIERS


def grounded(claim: str, passage: str) -> tuple[bool, str]:
    """Whether the numbers of `claim` are stated in `passage` as the claim states them, and
    the claim in the passage's own qualifiers where only a plain preposition differs.

    A number the passage lacks is not grounded ("in 2022" from a passage giving no year).
    A number the passage only states qualified ("after 2024") is grounded with that
    qualifier: "in 2024" is re-worded to "after 2024"; a claim qualifier the passage does
    not use ("before 2024" against "after 2024") is not grounded.
    """
    stated = _numbers(passage)
    if not set(_NUMBER.findall(claim)) <= set(stated):
        return False, claim
    for number, wordings in _numbers(claim).items():
        wording = wordings[0]
        if wording in stated[number] or wording.rsplit(" ", 1)[-1] in stated[number]:
            continue
        if _qualifier(wording):
            return False, claim  # a qualifier the passage does not use: another claim
        qualifiers = [w for w in stated[number] if _qualifier(w)]
        if not qualifiers or len(qualifiers) < len(stated[number]):
            continue  # the passage also states the number plainly
        claim = _requalify(claim, number, wording, qualifiers[0])
    return True, claim


_PLAIN = frozenset({"in", "on", "at", "during", "of", "for"})


def _requalify(claim: str, number: str, wording: str, wanted: str) -> str:
    """`claim` with the plain preposition before `number` replaced by `wanted` (or `wanted`
    put before the number)."""
    n = re.escape(number)
    if wording in _PLAIN:
        return re.sub(
            rf"\b{re.escape(wording)}(\s+){n}\b",
            rf"{wanted}\g<1>{number}",
            claim,
            count=1,
            flags=re.IGNORECASE,
        )
    return re.sub(rf"(?<![\w.,]){n}\b", f"{wanted} {number}", claim, count=1)

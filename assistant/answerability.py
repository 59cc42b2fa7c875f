"""Every refusal decision in one place: do the documents answer this question?

The assistant refuses at four points, all decided here:

1. **No question** (`no_question`): nothing is left once orders to the assistant are removed.
2. **Before the model** (`Policy.before_model`): signals of retrieval and of the best
   sentences (`features`) give a calibrated probability that an answer would be right;
   below the model's `pre_threshold` no generator is called. For `extractive` (and any
   generator that cannot report its own confidence) this is the whole decision, at
   `threshold`.
3. **At the first token** (`Policy.at_first_token`, LLM generators that can report it): the
   same signals plus the model's own probability of starting the "not in the documents"
   reply; below `threshold` the answer is refused before any text is streamed.
4. **After generation** (`after_generation`): the model declined; no sentence of the answer
   is supported by a shown passage (a number or a qualified number the passage does not
   state never is, see `grounded`); or the answer only repeats the question's words.

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
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import AssistantError
from assistant.evidence import EvidenceScorer, Scored, content_stems, coverage, topic_words

CALIBRATOR_PATH = Path(__file__).with_name("answerability.json")
CALIBRATOR_FORMAT = 1
REBUILD = "python -m eval.calibrate --write (see eval/CALIBRATION.md)"
TOP_SENTENCES = 4  # sentences whose words count as "shown" for the coverage signals

# Signals available before any model runs, for every generator (see `features`).
EVIDENCE_FEATURES = (
    "best_score",
    "best_cosine",
    "best_coverage",
    "shown_coverage",
    "closeness",
    "dense_top",
    "rrf_top",
    "agreement",
)
MODEL_FEATURE = "refusal_logit"  # log-odds of the model starting its "not covered" reply


class CalibrationError(AssistantError):
    """The calibrator file is missing or damaged (never replaced by a silent default)."""


@dataclass(frozen=True)
class Decision:
    answerable: bool
    probability: float  # calibrated probability that answering gives a right answer
    reason: str = ""
    stage: str = ""  # "question", "before model", "first token", "after generation"


# --- signals -----------------------------------------------------------------------------


def closeness(scorer: EvidenceScorer, question: str, shown_text: str) -> float:
    """How close the question's least-matched topic word comes (word-embedding cosine) to a
    word of the shown sentences; 1.0 when each of its topic words occurs in them."""
    present = content_stems(shown_text)
    missing = [w for w in topic_words(question) if not content_stems(w) <= present]
    candidates = topic_words(shown_text)
    if not missing or not candidates:
        return 1.0
    return float((scorer.vectors(missing) @ scorer.vectors(candidates).T).max(axis=1).min())


def features(
    scorer: EvidenceScorer,
    question: str,
    ranked: Sequence[Scored],
    hits: Sequence[Any],
) -> dict[str, float]:
    """The retrieval and evidence signals of one question (all 0 when nothing was found).

    `ranked` are the retrieved chunks' sentences scored against the question, best first;
    `hits` the fused retrieval hits (`.dense`, `.rrf`, `.dense_rank`, `.bm25_rank`).
    """
    if not ranked or not hits:
        return dict.fromkeys(EVIDENCE_FEATURES, 0.0)
    shown = " ".join(s.sentence.text for s in ranked[:TOP_SENTENCES])
    top = hits[0]
    agreement = 0.0
    if top.dense_rank is not None and top.bm25_rank is not None:
        agreement = 1.0 / (1 + abs(top.dense_rank - top.bm25_rank))
    return {
        "best_score": ranked[0].score,
        "best_cosine": max(s.cosine for s in ranked),
        "best_coverage": max(s.coverage for s in ranked[:TOP_SENTENCES]),
        "shown_coverage": coverage(question, shown),
        "closeness": closeness(scorer, question, shown),
        "dense_top": max(h.dense for h in hits),
        "rrf_top": top.rrf * 61 / 2,  # 1.0 = first in both rankings (RRF constant 60)
        "agreement": agreement,
    }


def refusal_logit(probability: float) -> float:
    p = min(max(probability, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


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
        threshold, pre = float(data["threshold"]), float(data.get("pre_threshold", 0.0))
        if not (0 <= threshold <= 1 and 0 <= pre <= 1):
            raise ValueError("thresholds must lie in 0..1")
        mean, scale, coef = vectors
        return cls(names, mean, scale, coef, float(data["intercept"]), threshold, pre)


@dataclass(frozen=True)
class Calibrator:
    models: dict[str, LogisticModel]  # "evidence" (every generator), "local" (its own)
    info: dict[str, Any]  # what it was fitted on, when

    def model_for(self, generator: str) -> LogisticModel:
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

    @classmethod
    def for_settings(cls, threshold: float | None, path: Path | None = None) -> Policy:
        """The calibrator in `path` (default: the shipped one) at `threshold` (None: its
        own operating points)."""
        if threshold == 0:
            return cls(None, threshold)
        return cls(shipped_calibrator() if path is None else load_calibrator(path), threshold)

    def _threshold(self, model: LogisticModel) -> float:
        return model.threshold if self.threshold is None else self.threshold

    def probes(self, generator: str) -> bool:
        """Whether the decision wants the generator's own refusal probability: when its
        fitted model uses it, and while collecting signals with the gate off."""
        if self.calibrator is None:
            return True
        return MODEL_FEATURE in self.calibrator.model_for(generator).features

    def before_model(
        self, generator: str, values: Mapping[str, float], *, probes: bool
    ) -> Decision:
        """The decision before any generator runs; `probes` says whether the generator will
        report its own confidence afterwards (then only the lower `pre_threshold` applies)."""
        if not values.get("best_score"):
            return Decision(False, 0.0, "nothing relevant was retrieved", "before model")
        if self.calibrator is None:
            return Decision(True, 1.0, "", "before model")
        model = self.calibrator.model_for(generator)
        if MODEL_FEATURE in model.features:  # a model that needs the generator's own signal
            evidence = self.calibrator.models["evidence"]
            if probes:
                return self._check(evidence, values, "before model", model.pre_threshold)
            model = evidence
        return self._check(model, values, "before model", self._threshold(model))

    def at_first_token(
        self, generator: str, values: Mapping[str, float], refusal_probability: float
    ) -> Decision:
        if self.calibrator is None:
            return Decision(True, 1.0, "", "first token")
        model = self.calibrator.model_for(generator)
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


def after_generation(
    declined: bool, supported: bool, answer: str, questions: str, probability: float
) -> Decision:
    """Whether a generated answer may be shown. `supported`: at least one of its sentences
    kept a citation; `answer` is its text without markers; `questions` the asked and the
    searched question."""
    if declined:
        return Decision(False, probability, "the model found no answer", "after generation")
    if not supported:
        return Decision(
            False, probability, "no sentence is supported by a passage", "after generation"
        )
    if echoes(answer, questions):
        return Decision(
            False, probability, "the answer only repeats the question", "after generation"
        )
    return Decision(True, probability, "", "after generation")


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

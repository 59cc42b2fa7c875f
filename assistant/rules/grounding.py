"""An answer's numbers and names as its passage states them: "in 2024" is not what "after
2024" says, and "Russia" is not who "the President of Russia Vladimir Putin" is.

Used by `assistant.rules.citations` when it checks that a cited passage supports a claim: a number
the passage lacks is unsupported, a plain preposition before a number the passage only
states with a qualifier is re-worded to that qualifier, and a bare name that answers "who"
is given in full when the supporting sentence holds it inside a longer name.
"""

from __future__ import annotations

import re

from assistant.rules.text import NUMBER, WHO_QUESTION, numbers, plain_words

# A number and the words right before it ("after 2024", "more than 40", "in 1998").
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


# Numbers the passages may spell out ("eight lines" answers "8").
SPELLED_NUMBERS = {
    w: str(n)
    for n, w in enumerate(
        [
            "zero",
            "one",
            "two",
            "three",
            "four",
            "five",
            "six",
            "seven",
            "eight",
            "nine",
            "ten",
            "eleven",
            "twelve",
            "thirteen",
            "fourteen",
            "fifteen",
            "sixteen",
            "seventeen",
            "eighteen",
            "nineteen",
            "twenty",
        ]
    )
} | {"thirty": "30", "forty": "40", "fifty": "50", "sixty": "60", "seventy": "70"}
SPELLED_NUMBERS |= {"eighty": "80", "ninety": "90", "hundred": "100", "thousand": "1000"}
_SPELLED_WORD = re.compile(r"\b(" + "|".join(SPELLED_NUMBERS) + r")\b", re.IGNORECASE)


def _digits(text: str) -> str:
    """`text` with the numbers it spells out also written as digits."""
    return _SPELLED_WORD.sub(lambda m: f"{m.group()} {SPELLED_NUMBERS[m.group().lower()]}", text)


def _numbers(text: str) -> dict[str, list[str]]:
    """Each number of `text` with the wording before each of its occurrences: a qualifier
    ("after", "more than"), another word ("in"), or "" at the start."""
    out: dict[str, list[str]] = {}
    for match in NUMBER.finditer(text):
        before = text[max(0, match.start() - 40) : match.start()]
        words = [w for w in plain_words(before) if w.isalpha()]
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
    for number, wordings in _numbers(_digits(passage)).items():
        stated.setdefault(number, [w for w in wordings if w not in SPELLED_NUMBERS])
    if not set(numbers(claim)) <= set(stated):
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


# A run of capitalised words, joined by the lower-case particles of names ("President of
# Russia Vladimir Putin", "Ludwig van Beethoven").
_NAME = re.compile(
    r"[A-Z][\w'’.-]*(?:\s+(?:(?:of|de|da|del|van|von|der|den|la|le|bin|al)\s+)*[A-Z][\w'’.-]*)*"
)


def full_name(claim: str, quote: str, question: str) -> str:
    """The claim as the quote names it when `question` asks "who" and the claim is one
    capitalised word that the quote holds inside a longer name ("Russia" in "... to the
    President of Russia Vladimir Putin ..."): one word of a name may not say who."""
    bare = claim.strip().rstrip(".")
    if not WHO_QUESTION.match(question) or _NAME.fullmatch(bare) is None or " " in bare:
        return claim
    for run in _NAME.findall(quote):
        if len(run.split()) > 1 and bare in run.split():
            return claim.replace(bare, run.rstrip("."), 1)
    return claim

"""Whole answers scored by the facts they must state (nugget evaluation, as the TREC 2024 RAG
track does it: Pradeep et al. 2024, "Initial Nugget Evaluation Results for the TREC 2024 RAG
Track with the AutoNuggetizer Framework"), without a model judge.

An item's `nuggets` are the vital facts of a complete answer, most important first, each a
list of short acceptable surface forms (the first standing verbatim in the evidence): a rule's
condition and its exception are nuggets of their own ("45p" / "10,000 miles" / "25p"). A
nugget is *stated* when the answer holds one of its forms on token boundaries (SQuAD
normalisation, `eval.scoring.metrics.contains_answer`). An answer is

- **right** when its first nugget is stated,
- **complete** when every nugget is,
- **faithful** when every nugget it states is stated in a claim whose cited passages hold it
  too (a claim is the text up to the `[n]` markers that follow it; text after the last marker
  is uncited).

An item without nuggets has one: its `answers`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from eval.scoring.metrics import citation_numbers, contains_answer

Nugget = Sequence[str]
# A claim ends with the run of citation markers that follows it.
_CLAIM = re.compile(r"(.*?)((?:\s*\[\s*\d+(?:\s*,\s*\d+)*\s*\])+)", re.DOTALL)


@dataclass(frozen=True)
class NuggetScore:
    stated: int  # how many nuggets the answer states
    total: int
    right: bool
    complete: bool
    faithful: bool

    @property
    def share(self) -> float:
        return self.stated / self.total if self.total else 0.0


def claims(text: str) -> list[tuple[str, list[int]]]:
    """The answer cut into claims, each with the citation numbers that follow it; the text
    after the last marker is a claim citing nothing."""
    out: list[tuple[str, list[int]]] = []
    end = 0
    for match in _CLAIM.finditer(text):
        out.append((match.group(1), citation_numbers(match.group(2))))
        end = match.end()
    if text[end:].strip():
        out.append((text[end:], []))
    return out


def is_stated(text: str, nugget: Nugget) -> bool:
    return contains_answer(text, nugget)


def score(text: str, passages: Mapping[int, str], nuggets: Sequence[Nugget]) -> NuggetScore:
    """The nugget figures of answer `text` whose citation `n` points to `passages[n]`."""
    stated = [is_stated(text, n) for n in nuggets]
    pieces = claims(text)
    faithful = all(
        any(
            is_stated(claim, nugget)
            and any(is_stated(passages.get(n, ""), nugget) for n in numbers)
            for claim, numbers in pieces
        )
        for nugget, said in zip(nuggets, stated, strict=True)
        if said
    )
    return NuggetScore(
        stated=sum(stated),
        total=len(nuggets),
        right=bool(stated) and stated[0],
        complete=bool(stated) and all(stated),
        faithful=any(stated) and faithful,
    )


def nugget_problems(nuggets: object, evidence: Sequence[str]) -> list[str]:
    """What is wrong with an answerable item's `nuggets` (empty when they are sound): a
    non-empty list of non-empty lists of short strings, each nugget's first form inside the
    evidence (ignoring case and spacing)."""
    if not isinstance(nuggets, list) or not nuggets:
        return ["nuggets must be a non-empty list of lists of strings"]
    inside = " ".join(" ".join(evidence).split()).casefold()
    problems = []
    for i, nugget in enumerate(nuggets, start=1):
        if (
            not isinstance(nugget, list)
            or not nugget
            or not all(isinstance(f, str) and f.strip() for f in nugget)
        ):
            problems.append(f"nugget {i} must be a non-empty list of strings")
            continue
        if " ".join(nugget[0].split()).casefold() not in inside:
            problems.append(f"nugget {i}'s first form {nugget[0]!r} is not inside the evidence")
        long = [f for f in nugget if len(f.split()) > 8]
        if long:
            problems.append(f"nugget {i}: a form of {len(long[0].split())} words; keep forms short")
    return problems

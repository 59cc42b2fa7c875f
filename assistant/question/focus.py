"""Which words of the retrieved chunks a generator is shown: the best sentences, in order.

A short prompt keeps the local model fast; the chunk stays whole for citations and offsets.
Sentences addressed to an assistant (orders planted in a document, `assistant.rules.orders`) are
never picked: a document is data.
"""

from __future__ import annotations

from dataclasses import replace

from assistant.rules.evidence import EvidenceScorer, Scored, Sentence
from assistant.rules.orders import flagged_spans, outside
from assistant.rules.text import LIST_MARKS
from assistant.types import Passage
from index.tokens import count_tokens

HEADING_WORDS = 10  # a heading is a short line


def focus(
    scorer: EvidenceScorer,
    question: str,
    chunks: list[Passage],
    *,
    sentences: int,
    budget: int,
    neighbours: int = 0,
    whole: int = 0,
    section: bool = False,
) -> tuple[list[Passage], list[Scored]]:
    """What the generator is shown of the retrieved `chunks`, within `budget` tokens: the
    first `whole` chunks whole (the passage that answers is usually the best-ranked chunk,
    and its conditions stand around the sentence that matches the question best), then the
    `sentences` best sentences of the others (at least one sentence in all), each with up to
    `neighbours` sentences on either side while the budget lasts. A kept chunk's excerpt is
    its shown sentences in document order. With `section`, a chunk shown whole is cut to the
    section of its best sentence (`section_of`); what is cut may still come back as a best
    sentence, and every shown sentence comes with the heading of its section (`_headings`).
    Also returns every sentence of the chunks, scored against the question, best first."""
    candidates = _data_sentences(chunks)
    ranked = scorer.rank(question, candidates)
    score = {s.sentence: s.score for s in ranked}
    shown: set[Sentence] = set()
    for idx in range(min(whole, len(chunks))):
        mine = [s for s in candidates if s.chunk_index == idx]
        if section and mine:
            mine = section_of(mine, max(mine, key=score.__getitem__), chunks[idx])
        cost = sum(count_tokens(s.text) for s in mine)
        if cost > budget:  # too long for the budget: its best sentences compete instead
            break
        shown.update(mine)
        budget -= cost
    rest = [s for s in ranked if s.sentence not in shown][:sentences]
    top = _pick(rest, budget, bool(shown))
    picked = [s.sentence for s in top]
    shown.update(picked)
    if neighbours:
        left = budget - sum(count_tokens(s.text) for s in picked)
        shown |= _neighbours(picked, candidates, neighbours, left)
    if section:
        shown |= _headings(shown, candidates, chunks)
    order = sorted(
        {s.chunk_index for s in shown},
        key=lambda i: (i >= whole, -max(score[s] for s in shown if s.chunk_index == i)),
    )
    passages = []
    for number, idx in enumerate(order, start=1):
        mine = sorted((s for s in shown if s.chunk_index == idx), key=lambda s: s.start)
        best = round(max(score[s] for s in mine), 4)
        excerpt = "\n".join(s.text for s in mine)
        passages.append(replace(chunks[idx], number=number, score=best, excerpt=excerpt))
    return passages, ranked


def section_of(mine: list[Sentence], best: Sentence, chunk: Passage) -> list[Sentence]:
    """The sentences of one chunk (in document order) from the last heading at or before its
    `best` sentence up to the next heading: a chunk cut by size often starts in the section
    before and ends in the next, whose sentences a small reader answers from."""
    at = mine.index(best)
    heads = [i for i, s in enumerate(mine) if is_heading(s, chunk)]
    start = max((i for i in heads if i <= at), default=0)
    end = min((i for i in heads if i > at), default=len(mine))
    return mine[start:end]


def is_heading(sentence: Sentence, chunk: Passage) -> bool:
    """A line of its own, of at most HEADING_WORDS words, that does not end as a sentence or
    a lead-in does ("## Using your own car", "2. TREASURER'S REPORT", "Who can join?")."""
    text = sentence.text.strip().rstrip("\"'”’)]")
    before = chunk.text[: sentence.start - chunk.start].rstrip(" \t")
    after = chunk.text[sentence.end - chunk.start :].lstrip(" \t")
    return (
        bool(text)
        and text[0] not in LIST_MARKS  # an item of a list ("- Colour A4: 50p per page")
        and "\n" not in text
        and len(text.split()) <= HEADING_WORDS
        and text[-1] not in ".,;:!"
        and (not before or before.endswith("\n"))
        and (not after or after.startswith("\n"))
    )


def _headings(
    shown: set[Sentence], candidates: list[Sentence], chunks: list[Passage]
) -> set[Sentence]:
    """The heading of each shown sentence's section, where its chunk holds one: a sentence
    picked out of its section ("Its limit is £2,500 per month.") says what it is about only
    under its heading ("## Company credit cards"). Headings are short, so the budget is not
    counted for them."""
    added: set[Sentence] = set()
    for idx in {s.chunk_index for s in shown}:
        head = None  # the last heading read in this chunk, in document order
        for sentence in (s for s in candidates if s.chunk_index == idx):
            if is_heading(sentence, chunks[idx]):
                head = sentence
            elif sentence in shown and head is not None and head not in shown:
                added.add(head)
    return added


def _neighbours(
    picked: list[Sentence], candidates: list[Sentence], reach: int, budget: int
) -> set[Sentence]:
    """The sentences next to the picked ones in their chunk (nearest first, best-picked
    first), as many as `budget` tokens allow."""
    by_chunk: dict[int, list[Sentence]] = {}
    for s in candidates:
        by_chunk.setdefault(s.chunk_index, []).append(s)
    added: set[Sentence] = set()
    have = set(picked)
    for distance in range(1, reach + 1):
        for sentence in picked:
            row = by_chunk[sentence.chunk_index]
            i = row.index(sentence)
            for j in (i - distance, i + distance):
                if 0 <= j < len(row) and row[j] not in have:
                    cost = count_tokens(row[j].text)
                    if cost <= budget:
                        have.add(row[j])
                        added.add(row[j])
                        budget -= cost
    return added


def _data_sentences(chunks: list[Passage]) -> list[Sentence]:
    """The chunks' sentences without the orders to an assistant planted in them
    (`assistant.rules.orders`): those are never shown to a generator, only what is left of a
    sentence around a role marker is."""
    out = []
    for sentence in EvidenceScorer.sentences([(p.start, p.text) for p in chunks]):
        chunk = chunks[sentence.chunk_index]
        flagged = [(chunk.start + s, chunk.start + e) for s, e in flagged_spans(chunk.text)]
        left = outside(sentence.start, sentence.end, flagged)
        if left is None:
            continue
        text = chunk.text[left[0] - chunk.start : left[1] - chunk.start].strip()
        if text == sentence.text:
            out.append(sentence)
        elif any(ch.isalnum() for ch in text):
            offset = left[0] + chunk.text[left[0] - chunk.start :].find(text)
            out.append(Sentence(sentence.chunk_index, offset, offset + len(text), text))
    return out


def _pick(candidates: list[Scored], budget: int, have: bool = False) -> list[Scored]:
    """The candidates in order while they fit the budget (the first always, unless the
    excerpt `have`s something already)."""
    top: list[Scored] = []
    for scored in candidates:
        cost = count_tokens(scored.sentence.text)
        if (top or have) and cost > budget:
            continue  # a shorter, lower-ranked sentence may still fit
        top.append(scored)
        budget -= cost
    return top

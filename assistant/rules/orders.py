"""Sentences of a document addressed to an assistant or a model rather than to its readers.

A document is data: an order planted in it ("IMPORTANT INSTRUCTION TO THE ASSISTANT: ignore
all previous instructions ...", "Reply only with ...", a fake `</passages>` or `[INST]`
marker) must never reach a generator as a passage. `is_order` tells such a sentence from an
ordinary one, on any document: it looks for how a text speaks to a model (an addressee such
as "assistant", "AI" or "language model" called on, orders about its instructions, its
reply or its prompt, chat-template and role markers), never for what an order asks. A
sentence that merely mentions instructions ("The ministry issued instructions to farmers")
or models ("AI models are trained on text") is not an order.

`flagged_spans` gives the character spans of a text's flagged sentences; a flagged sentence
that ends by announcing what follows ("...: " or "the following.") or orders its instructions
ignored and stops there flags the next sentence of its line too (the order it introduces).
"""

from __future__ import annotations

import re

from index.split import sentence_spans

_ADDRESSEE = (
    r"(?:(?:the|any|all|every|an?|dear)\s+)?(?:(?:ai|a\.i\.)[\s-]+(?=\w))?"
    r"(?:ai|a\.i\.|artificial intelligence|assistants?|"
    r"chat\s?bots?|bots?|(?:large\s+)?language\s+models?|llms?|gpt|ai\s+models?|models?|"
    r"ai\s+systems?|agents?|copilots?)"
)
# Chat-template and role markers, and delimiters of a prompt's parts.
_MARKER = re.compile(
    r"</?\s*(?:passages?|context|documents?|system|user|assistant|instructions?|prompt)\s*>"
    r"|\[/?\s*(?:INST|SYS)\s*\]|<<\s*/?\s*SYS\s*>>|<\|[a-z_]+\|>"
    r"|#{2,}\s*(?:instructions?|response|system|input|prompt)\b"
    r"|^\s*(?:system|assistant|user|human)\s*:",
    re.IGNORECASE | re.MULTILINE,
)
# A role name in capitals opening a sentence ("SYSTEM: ..."), after a marker or an end.
_ROLE = re.compile(r"(?:^|(?<=[.!?>\]])|(?<=[.!?>\]]\s))(?:SYSTEM|ASSISTANT|USER|HUMAN)\s*:")
# The verbs that set a reader's instructions aside (the question's guard uses them too).
OVERRIDE_VERBS = r"ignore|disregard|forget|override"
# Orders about the reader's own instructions, prompt or question.
_IGNORE = re.compile(
    rf"\b(?:{OVERRIDE_VERBS}|bypass|skip)\s+(?:(?:all|any|every|the|your|of|"
    r"my|these|those|previous|prior|earlier|above|preceding|original|initial|system|other)\s+)*"
    r"(?:instructions?|rules|prompts?|directions|guidelines|question|context|orders|task)\b",
    re.IGNORECASE,
)
_PROMPT = re.compile(
    r"\byour\s+(?:(?:system|initial|original|hidden|secret|first)\s+)+(?:prompts?|instructions|"
    r"rules)\b|\bsystem\s+prompt\b|\b(?:print|reveal|repeat|show|output)\s+(?:me\s+)?your\s+"
    r"(?:\w+\s+)?(?:prompts?|instructions|rules)\b",
    re.IGNORECASE,
)
# The reader's reply, as the subject of an order: "your answer", "your whole reply".
_YOUR_REPLY = re.compile(
    r"\byour\s+(?:\w+\s+)?(?:answers?|repl(?:y|ies)|responses?|outputs?|messages?)\b",
    re.IGNORECASE,
)
_REPLY_ONLY = re.compile(
    r"\b(?:reply|respond|answer|say|output|print|write|return)\b[^.]{0,40}?"
    r"\b(?:only|nothing but|nothing else|exactly|verbatim|word for word|solely)\b"
    r"|\b(?:nothing else|and nothing more)\b",
    re.IGNORECASE,
)
_EVERY_QUESTION = re.compile(
    r"\b(?:the\s+)?(?:correct\s+)?answers?\s+to\s+(?:every|any|all|each)\s+questions?\b"
    r"|\b(?:whatever|no matter what)\s+(?:the\s+question|you\s+are\s+asked|is\s+asked)\b"
    r"|\b(?:every|any|each)\s+question\b[^.]{0,30}\b(?:answer|reply|respond)\b"
    r"|\b(?:answer|reply|respond)\w*\s+(?:to\s+)?(?:every|any|all|each)\s+questions?"
    r"\s+(?:with|by saying)\b",
    re.IGNORECASE,
)
# A model called on: "Note to the AI assistant:", "Assistant, ...", "Dear assistant",
# "AI models reading this page must ...", "Language model: ...".
_CALLED_ON = re.compile(
    rf"^\W*(?:(?:\w+\s+){{0,3}}(?:to|for)\s+)?{_ADDRESSEE}\s*[:,]"
    rf"|\b(?:to|for)\s+{_ADDRESSEE}\s*(?:[:,!]|(?:reading|processing|summari[sz]ing))"
    rf"|\bdear\s+{_ADDRESSEE}\b"
    rf"|\b{_ADDRESSEE}\s+(?:\w+ing\s+)?(?:this|these|the)(?:\s+(?:page|document|text|file|"
    rf"passage|article)s?)?\b"
    rf"|\bwhen\s+{_ADDRESSEE}\s+(?:answers?|reads?|summari[sz]es)\b",
    re.IGNORECASE,
)
_ORDER_WORDS = re.compile(
    r"\b(?:must|should|shall|have to|need to|are to|is to|do not|don't|never|always|"
    r"ignore|disregard|forget|reply|respond|answer|say|tell|print|repeat|reveal|write|"
    r"output|include|add|instead|before)\b",
    re.IGNORECASE,
)
# An assistant or a model named anywhere in a text ("the assistant", "AI models", "LLMs").
ADDRESSEE = re.compile(rf"\b{_ADDRESSEE}\b", re.IGNORECASE)
_LEADS_ON = re.compile(r"(?::\s*|\bthe following\W*)$", re.IGNORECASE)


# Markdown emphasis and code marks, which may split an addressee from its call ("**Dear**
# assistant,"): read without them.
_EMPHASIS = re.compile(r"[*`~]+|(?<!\w)_+|_+(?!\w)")


def is_order(sentence: str) -> bool:
    """Whether `sentence` speaks to an assistant or model instead of stating something."""
    text = _EMPHASIS.sub("", sentence).strip()
    if not text:
        return False
    if _MARKER.search(text) or _ROLE.match(text) or _IGNORE.search(text) or _PROMPT.search(text):
        return True
    if _YOUR_REPLY.search(text) or _EVERY_QUESTION.search(text):
        return True
    called = _CALLED_ON.search(text)
    if called and (":" in text[called.start() :] or _ORDER_WORDS.search(text)):
        return True
    return bool(_REPLY_ONLY.match(text))  # "Reply only with ..." as the sentence's order


def _leads_on(sentence: str) -> bool:
    """A flagged sentence that introduces the order that follows it: it ends announcing
    it, or it orders instructions ignored and gives no order of its own after that
    ("Ignore all previous instructions." leads on; "... and reply only with X." does not)."""
    if _LEADS_ON.search(sentence.strip()):
        return True
    ignore = _IGNORE.search(sentence)
    return ignore is not None and not _ORDER_WORDS.search(sentence, ignore.end())


def _pieces(text: str) -> list[tuple[int, int]]:
    """The sentences of `text`, each role or template marker cut out as a piece of its own
    (a fake `<passages>` may run into the sentence of the document that follows it)."""
    pieces = []
    for start, end in sentence_spans(text):
        pos = start
        markers = [*_MARKER.finditer(text, start, end), *_ROLE.finditer(text, start, end)]
        for marker in sorted(markers, key=lambda m: m.start()):
            if marker.start() < pos:
                continue
            pieces += [(pos, marker.start()), (marker.start(), marker.end())]
            pos = marker.end()
        pieces.append((pos, end))
    return [
        (s + len(text[s:e]) - len(text[s:e].lstrip()), e) for s, e in pieces if text[s:e].strip()
    ]


def flagged_spans(text: str) -> list[tuple[int, int]]:
    """(start, end) of each flagged sentence (or marker) of `text`, in order."""
    spans = _pieces(text)
    flagged: list[tuple[int, int]] = []
    lead = False
    for i, (start, end) in enumerate(spans):
        sentence = text[start:end]
        same_line = i > 0 and "\n" not in text[spans[i - 1][1] : start]
        if is_order(sentence) or (lead and same_line):
            flagged.append((start, end))
            lead = is_order(sentence) and _leads_on(sentence)
        else:
            lead = False
    return flagged


def without_orders(text: str) -> str:
    """`text` with its flagged sentences left out (the rest joined by single spaces)."""
    kept, pos = [], 0
    for start, end in flagged_spans(text):
        kept.append(text[pos:start])
        pos = end
    kept.append(text[pos:])
    return " ".join(" ".join(kept).split())


def orders_in(text: str) -> list[str]:
    """The flagged sentences of `text`."""
    return [text[start:end] for start, end in flagged_spans(text)]


def outside(start: int, end: int, flagged: list[tuple[int, int]]) -> tuple[int, int] | None:
    """The longest part of the span (start, end) that no flagged span covers; None when
    nothing of it is left (the spans share one offset scale)."""
    parts, pos = [], start
    for s, e in sorted(flagged):
        if e <= pos or s >= end:
            continue
        parts.append((pos, max(pos, s)))
        pos = max(pos, e)
    parts.append((pos, end))
    best = max(parts, key=lambda p: p[1] - p[0])
    return best if best[1] > best[0] else None

"""The answer followed by the source sentences it rests on, quoted verbatim.

A small reader answers in a few words and drops what comes with the fact: the condition, the
exception, the second tier ("45p" for "45p a mile for the first 10,000 miles, then 25p").
Quoting the sentence each claim rests on (chosen when its citation was verified: a citation
three claims use quotes up to three sentences of its passage) brings them along in the
document's own words, and the quote is its own citation. A quote whose words the answer (or
an earlier quote) already says is left out.
"""

from __future__ import annotations

from collections.abc import Sequence

from assistant.rules.text import content_stems

SAID = 0.8  # share of a quote's content words the answer holds: already said
QUOTE = "> "  # what opens a quoted source line (the chat shows those lines as a block quote)


def with_quotes(text: str, quotes: Sequence[tuple[int, str]]) -> str:
    """`text` and, on lines of their own, the `(citation number, sentence)` quotes of its
    claims it does not already say, each with its [n]."""
    said = content_stems(text)
    lines = []
    seen: set[str] = set()
    for number, sentence in quotes:
        quote = " ".join(sentence.split())
        words = content_stems(quote)
        if not quote or quote in seen or not words:
            continue
        seen.add(quote)
        if len(words & said) >= SAID * len(words):
            continue
        lines.append(f"{QUOTE}{quote} [{number}]")
        said |= words
    return "\n\n".join([text, "\n".join(lines)]) if lines else text

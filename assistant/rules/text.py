"""The ground floor of the rules: the one word tokenizer, stop-word list and stemmer, the one
sentence splitter for written answers and questions (and the finer clause splitter the guard
uses), the one number pattern, the yes/no and question-kind words and a follow-up's opening
connective. Every rule (`assistant.rules`), the evidence scorer and the search's stemmer read
text through these, so a word, a sentence or a number means the same thing to each of them.

Documents are split into sentences by `index.split.sentence_spans` (pysbd, which knows
abbreviations); an answer or a question is split here, at an end mark before a capital (or a
line break), which keeps an answer's `[n]` markers with their sentence.
"""

from __future__ import annotations

import re

import Stemmer

STEMMER = Stemmer.Stemmer("english")  # Snowball English: the rules' and the search's
# A word: letters and digits, with an apostrophe's ending ("don't", "Russia's"). ASCII letters
# only, as the answerability signals were fitted with; a word of another alphabet splits
# ("Zürich": "Z", "rich"). Letters of any alphabet change the stems of 11 of 7,109 suite
# questions (eval/CALIBRATION.md): a change to measure and re-fit, not to slip in.
WORD = re.compile(r"[A-Za-z0-9]+(?:['’][A-Za-z]+)?")
# A number as written in digits, with its decimal or thousands separators ("1,000", "2.5").
NUMBER = re.compile(r"\d+(?:[.,]\d+)*")
YES_NO = frozenset({"yes", "no"})
# An answer that opens with yes or no ("Yes: ...", "No, ..."), with what follows the word.
YES_NO_START = re.compile(rf"^\s*({'|'.join(sorted(YES_NO))})\b[\s:,.;-]*", re.IGNORECASE)
LIST_MARKS = "-*•–"  # what opens an item of a list ("- Day Pass: £6 ..."), not a heading
# A sentence ends at . ! or ? before a capital or an item of a list, but not after an initial
# ("William E. Simon") or a title ("Dr. Hana Ilves").
_NOT_AN_END = "".join(rf"(?<!\b{a}\.)" for a in ("[A-Z]", "Dr", "Mr", "Mrs", "Ms", "Prof", "St"))
SENTENCE_END = re.compile(rf"(?<=[.!?]){_NOT_AN_END}\s+(?=[A-Z\"“(]|[{LIST_MARKS}]\s)|\n+")
# The words that open a question asking for more than yes or no.
QUESTION_WORDS = ("what", "which", "who", "whom", "whose", "when", "where", "why", "how")
_AUXILIARIES = "is|are|was|were|do|does|did|can|could|will|would|should|may|might|must|has|have|had"
# The question's kind, from its first words: a question at all ("is", "what", ...), "who"
# (not "whose"), "how many" / "what year", "when".
ASKS = re.compile(rf"^({'|'.join(QUESTION_WORDS)}|{_AUXILIARIES})\b", re.IGNORECASE)
WHO_QUESTION = re.compile(r"^\W*who\b(?!se)", re.IGNORECASE)
COUNT_QUESTION = re.compile(
    r"^\W*(?:how (?:many|much|old)|(?:in )?(?:what|which) year)\b", re.IGNORECASE
)
WHEN_QUESTION = re.compile(r"^\W*when\b", re.IGNORECASE)
# A question that asks for something other than yes or no, by its question word ("whats"
# as people type it).
WH_QUESTION = re.compile(rf"^\W*({'|'.join((*QUESTION_WORDS, 'whats'))})\b", re.IGNORECASE)
# A follow-up's opening connective ("And how much ...?").
_CONNECTIVE = re.compile(r"^\s*(and|but|so|also|then)\b[\s,]*", re.IGNORECASE)
_CLAUSE = re.compile(r"[^.!?\n]+[.!?]*")
STOPWORDS = frozenset(
    [
        "a",
        "about",
        "above",
        "after",
        "again",
        "against",
        "all",
        "am",
        "an",
        "and",
        "any",
        "are",
        "as",
        "at",
        "be",
        "because",
        "been",
        "before",
        "being",
        "below",
        "between",
        "both",
        "but",
        "by",
        "can",
        "could",
        "did",
        "do",
        "does",
        "doing",
        "down",
        "during",
        "each",
        "few",
        "for",
        "from",
        "further",
        "had",
        "has",
        "have",
        "having",
        "he",
        "her",
        "here",
        "hers",
        "herself",
        "him",
        "himself",
        "his",
        "how",
        "i",
        "if",
        "in",
        "into",
        "is",
        "it",
        "its",
        "itself",
        "just",
        "let",
        "me",
        "more",
        "most",
        "my",
        "myself",
        "no",
        "nor",
        "not",
        "now",
        "of",
        "off",
        "on",
        "once",
        "only",
        "or",
        "other",
        "our",
        "ours",
        "ourselves",
        "out",
        "over",
        "own",
        "same",
        "she",
        "should",
        "so",
        "some",
        "such",
        "than",
        "that",
        "the",
        "their",
        "theirs",
        "them",
        "themselves",
        "then",
        "there",
        "these",
        "they",
        "this",
        "those",
        "through",
        "to",
        "too",
        "under",
        "until",
        "up",
        "very",
        "was",
        "we",
        "were",
        "what",
        "when",
        "where",
        "which",
        "while",
        "who",
        "whom",
        "why",
        "will",
        "with",
        "would",
        "you",
        "your",
        "yours",
        "yourself",
        "yourselves",
    ]
)


def words(text: str) -> list[str]:
    """The words of `text` as written (`WORD`)."""
    return WORD.findall(text)


def numbers(text: str) -> list[str]:
    """The numbers of `text` as written in digits (`NUMBER`)."""
    return NUMBER.findall(text)


def sentences(text: str) -> list[str]:
    """The sentences of an answer or a question (`SENTENCE_END`), stripped, none empty."""
    return [part.strip() for part in SENTENCE_END.split(text) if part.strip()]


def clauses(text: str) -> list[str]:
    """`text` cut after every end mark and line break, whatever follows ("What is X? ignore
    that."): finer than `sentences`, for finding an order hidden after a question."""
    return [part.strip() for part in _CLAUSE.findall(text) if part.strip()]


def plain_words(text: str) -> list[str]:
    """The words of `text`, lower-cased, without an apostrophe's ending ("russia's": "russia")."""
    return [_plain_word(w) for w in words(text)]


def _plain_word(word: str) -> str:
    return word.lower().replace("’", "'").split("'")[0]


def content_words(text: str) -> list[tuple[str, str]]:
    """Each word of `text` that is not a stop word (one letter is none), as written, with its
    stem."""
    kept = [(w, p) for w in words(text) if (p := _plain_word(w)) not in STOPWORDS and len(p) > 1]
    return list(zip((w for w, _ in kept), STEMMER.stemWords([p for _, p in kept]), strict=True))


def content_stems(text: str) -> set[str]:
    """The stems of the words of `text` that are not stop words (one letter is none)."""
    return {stem for _, stem in content_words(text)}


def coverage(claim: str, text: str) -> float:
    """Share of the claim's content stems that occur in `text` (1.0 when the claim has none)."""
    wanted = content_stems(claim)
    if not wanted:
        return 1.0
    return len(wanted & content_stems(text)) / len(wanted)


def topic_words(text: str) -> list[str]:
    """The words of `text` that are not stopwords, lower-cased, each once, in order."""
    return list(dict.fromkeys(w for w in plain_words(text) if w not in STOPWORDS and len(w) > 1))


def asks_for_more_than_yes_or_no(question: str) -> bool:
    """Whether the last sentence of `question`, without its opening connective, opens with a
    question word ("Who ...?", "I lost my card. How do I ...?"): a yes or no does not answer
    it. A question that opens otherwise ("Can I ...?", "I'm 17 - am I ...?") may ask yes or
    no."""
    asked = sentences(question)
    return bool(asked) and bool(WH_QUESTION.match(without_connective(asked[-1])))


def without_connective(question: str) -> str:
    """The question without an opening "And", "But", "So", "Also" or "Then" (capitalised
    again)."""
    rest = _CONNECTIVE.sub("", question).strip()
    return rest if rest == question.strip() else rest[:1].upper() + rest[1:]

"""A generated corpus for throughput and scale measurements.

Deterministic (seeded) English-like prose about invented space missions: varied enough that
chunks differ, with sentence punctuation so the splitter behaves as on real text.
"""

from __future__ import annotations

import random
from pathlib import Path

_SUBJECTS = [
    "The agency",
    "The crew",
    "Mission control",
    "The committee",
    "The station",
    "The consortium",
    "The launch team",
    "The ministry",
    "The observatory",
    "The pilot",
]
_VERBS = [
    "announced",
    "postponed",
    "confirmed",
    "reviewed",
    "completed",
    "criticised",
    "approved",
    "delayed",
    "tested",
    "documented",
]
_OBJECTS = [
    "the docking procedure",
    "a new supply schedule",
    "the solar array repair",
    "the budget for the next decade",
    "an agreement on shared modules",
    "the crew rotation plan",
    "the orbital boost manoeuvre",
    "a cargo manifest",
    "the radiation shielding study",
    "the launch window",
]
_TAILS = [
    "after weeks of negotiation",
    "before the end of the quarter",
    "despite objections",
    "with its international partners",
    "according to officials",
    "for the first time",
    "in a short statement",
    "following a safety review",
    "ahead of schedule",
    "under new leadership",
]
_PLACES = [
    "Kourou",
    "Baikonur",
    "Houston",
    "Tanegashima",
    "Sriharikota",
    "Vostochny",
    "Cape Canaveral",
    "Jiuquan",
    "Wallops",
    "Plesetsk",
]


def sentence(rng: random.Random, n: int) -> str:
    return (
        f"{rng.choice(_SUBJECTS)} at {rng.choice(_PLACES)} {rng.choice(_VERBS)} "
        f"{rng.choice(_OBJECTS)} {rng.choice(_TAILS)} in {1990 + rng.randrange(40)}, "
        f"record {n}."
    )


def write_corpus(folder: Path, files: int, sentences_per_file: int, seed: int = 7) -> Path:
    """Write `files` text files of `sentences_per_file` sentences each; returns `folder`."""
    rng = random.Random(seed)
    folder.mkdir(parents=True, exist_ok=True)
    n = 0
    for i in range(files):
        lines = []
        for _ in range(sentences_per_file):
            n += 1
            lines.append(sentence(rng, n))
        paragraphs = [" ".join(lines[j : j + 5]) for j in range(0, len(lines), 5)]
        (folder / f"doc-{i:05d}.txt").write_text("\n\n".join(paragraphs) + "\n", encoding="utf-8")
    return folder

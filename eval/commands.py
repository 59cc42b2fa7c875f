"""The commands `eval` adds to `assistant`: `assistant eval` and `assistant bench`.

pyproject.toml registers them in the `assistant.commands` entry-point group, which
`assistant/plugins.py` reads, so the assistant package never imports `eval` (eval ->
assistant, never back). Each is called with the arguments after its name and returns the exit
code; the first line of its docstring is its help in `assistant --help`. The modules behind
them load only when the command runs.
"""

from __future__ import annotations


def evaluate(argv: list[str]) -> int:
    """score the assistant on a question-answer suite (eval/qa.jsonl, squad2-open, your own)"""
    from eval.harness import main

    return int(main(argv))


def bench(argv: list[str]) -> int:
    """measure speed, scale and memory"""
    from eval.bench.run import main

    return int(main(argv))

"""The fixed question-answer suite (qa.jsonl), the harness that scores it, and the benchmark.

`python -m eval` (or `assistant eval`) runs `eval.harness.main`.
"""

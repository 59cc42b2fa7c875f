"""Reports of a run: `text` (what `assistant eval` prints), `files` (the JSON, Markdown and
charts it writes under the data dir), `charts`, `curve` (complete answers against first-token
time) and `checks` (what each check after generation refused, `python -m
eval.reports.checks`). May import `eval.scoring` and `eval.suites`.
"""

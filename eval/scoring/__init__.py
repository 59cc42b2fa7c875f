"""Scoring: `metrics` (span metrics, CRAG, hit@k), `nuggets` (the facts an answer must state),
`item` (one item's result from its Answer), `aggregate` (a run's figures), `gate` (the run
against its baseline and thresholds) and `compare` (two runs item for item). Imports nothing
of eval's other rooms but `eval.suites.suite` (the item type).
"""

"""`assistant bench`: `run` (the command and its stages), one module per stage (`ingest`,
`retrieval`, `answers`, `scale`, `conversations`, `team`), `tools` (the shared context and
timing), `report` (the printed tables) and `langchain_baseline` (the reference pipeline).
May import `eval.deploy` (a whole deployment) and `eval.suites`.
"""

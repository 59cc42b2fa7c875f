"""The suites: what is asked and what a right answer states. `suite` reads a suite file
(eval/qa.jsonl's format) and names the suites, `check` validates one against its documents,
`index` builds a suite's own index; each suite with a folder of data
is a package beside it: `squad2_open` (with squad2_open.toml), `users_words`, `everyday`,
`injection`. May import `assistant` and `eval.scoring`; never `eval.reports` or `eval.bench`.
"""

"""The question path: what happens between a question and its answer, in order.

`checks` (the question, history and k are valid), `condense` (a follow-up becomes a
standalone question), `retrieve` (dense + BM25, fused), `rerank`, `focus` (what the reader is
shown, its sentences scored by `assistant.rules.evidence`), `signals` and `answerability`
(whether to answer), `whole_corpus` (a small corpus shown whole), `quotes`, `trace`, and
`pipeline`, which runs them once per question. It may import `assistant.rules`,
`assistant.stores` (which documents the asker may read), `assistant.generators`,
`assistant.types`, `index` and `prompts`; never the chat, the command line or eval; and
nothing below it imports it.
"""

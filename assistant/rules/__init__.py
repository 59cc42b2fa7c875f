"""The rules an answer passes: one place for each, over one text module.

`text` is the ground floor: the word tokenizer, the answer's sentence splitter, the number
pattern and the yes/no words every rule here reads. Above it: `guard` (the question's
markup and orders to the assistant), `orders` (orders planted in documents, flagged and never
shown), `grounding` (numbers and names as the passage says them), `citations` (each `[n]`
checked against its passage: the support check) and `draft_checks` (the named checks a
written answer passes before it is shown). Rules import `index` (sentences of documents),
`assistant.question.evidence` (the sentence scorer, which reads words through `text` too) and
`assistant.types`; nothing here imports the pipeline, the chat or the generators.
"""

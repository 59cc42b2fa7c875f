"""The rules an answer passes: one place for each, over one text module.

`text` is the ground floor: the word tokenizer, stop words and stemmer, the sentence and clause
splitters, the number pattern, the yes/no words and a follow-up's opening connective that
every rule here reads. Beside it `evidence`, the sentence scorer (embedding cosine and content
words) that the support check, the question path and the extractive generator share. Above
them: `guard` (the question's markup and orders to the assistant), `orders` (orders planted in
documents, flagged and never shown), `grounding` (numbers and names as the passage says them),
`citations` (each `[n]` checked against its passage: the support check) and `draft_checks`
(the named checks a written answer passes before it is shown). Rules import `index`
(sentences of documents, the embedder) and `assistant.types`; nothing here imports the
question path, the stores, the chat or the generators.
"""

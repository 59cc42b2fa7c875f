"""What the assistant keeps: the indexed documents (`corpus`, over `index`'s Chroma store),
and in one database (`db`: SQLite in the data dir, or PostgreSQL; `tables`, `migrations`)
the conversations, the feedback on answers and who owns each uploaded document (`owners`,
with `access`: who may read, remove or share it). It may import `assistant.settings`,
`assistant.errors`, `assistant.types`, `assistant.rules` and `index`; never the question
path, the chat or eval.
"""

"""A deployment on loopback, for the bench and the tests: `servers` (chroma run,
llama_cpp.server, an `assistant chat` process), `postgres` (a PostgreSQL of its own) and
`team` (all of them as one deployment of two app processes). Imports only `assistant`.
"""

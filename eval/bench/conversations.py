"""The bench's conversations stage: the chat sidebar's list load time with 1,000 stored
conversations of one user (each with a few answered turns, traces included) among other
users' conversations, in the data dir's SQLite database (assistant/stores/conversations.py).

Two figures: the store's query alone, and the list as the page gets it (the sidebar's
`conversation_list`: the query plus the choices it sends). Target: p50 <= 50 ms.
"""

from __future__ import annotations

import json
import time

from eval.bench.tools import Context, stats, timed

CONVERSATIONS, OTHERS, TURNS = 1000, 1000, 4
TARGET_MS = 50.0


def _turn(n: int) -> dict:
    """An answered turn about as big as the chat stores one (answer, citations, trace)."""
    passage = "Yuri Borisov, the new head of Roscosmos, announced the withdrawal. " * 8
    citation = {
        "number": 1, "source": "russia-iss-withdrawal.txt", "start": 0, "end": len(passage),
        "text": passage, "quote": passage[:70], "score": 0.8, "page": None,
    }  # fmt: skip
    hits = [{"rank": r, "id": f"c{r}", "source": "x.txt", "text": passage} for r in range(10)]
    answer = {
        "text": f"Answer {n}: Yuri Borisov [1].", "refused": False, "citations": [citation],
        "timings": {"total": 0.2}, "generator": "extractive", "question": f"Question {n}?",
        "flagged": [], "trace": {"question": f"Question {n}?", "retrieved": hits},
    }  # fmt: skip
    return {"q": f"Question {n}?", "a": answer, "note": ""}


def conversations(ctx: Context) -> None:
    from assistant.chat.sidebar import conversation_list
    from assistant.settings import Settings
    from assistant.stores.conversations import Conversations

    data = ctx.work / "conversations"
    store = Conversations(data)
    turns = [_turn(n) for n in range(TURNS)]
    started = time.perf_counter()
    for n in range(CONVERSATIONS + OTHERS):
        owner = "user:bench" if n % 2 == 0 else f"user:other{n % 7}"
        store.create(owner, f"Conversation {n}", turns=turns)
    written = time.perf_counter() - started
    settings = Settings(  # the SQLite file whatever ASSISTANT_DATABASE_URL says
        index={"data_dir": data, "database_url": None}, answer={"generator": "extractive"}
    )
    repeats = 20 if ctx.args.quick else 200
    listed = len(store.list("user:bench"))
    query = timed(lambda: store.list("user:bench"), repeats)
    page = timed(lambda: conversation_list(settings, "user:bench", None), repeats)
    db_mb = (data / "assistant.db").stat().st_size / 1e6
    ctx.results["conversations"] = {
        "conversations": listed,
        "all_conversations": CONVERSATIONS + OTHERS,
        "turns_each": TURNS,
        "write_seconds": written,
        "db_mb": db_mb,
        "store_list": stats(query),
        "page_list": stats(page),
        "target_ms": TARGET_MS,
    }
    ctx.say(json.dumps({"conversation list p50 ms": stats(page)["p50"] * 1000}))

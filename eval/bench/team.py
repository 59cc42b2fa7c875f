"""The bench's team stage: people asking at once through two app processes of one deployment
(eval/deploy/team.py: `chroma run`, PostgreSQL, `llama_cpp.server` over the bundled model, two
`assistant chat` processes with data dirs of their own).

USERS people, each signed in through `gradio_client` on app n % 2, start together and each
asks QUESTIONS_EACH seed questions in turn (a different first one per person; each a new
conversation, not a follow-up) with the `openai` generator, i.e. the model server. Figures:
each whole answer's time as its asker waits for it (p50, p95), answers per minute over the
run, and errors: a call that fails, or an answer not written by the model server (there
must be none). Refusals are counted apart (the reader deciding the passages do not answer
is an answer).
"""

from __future__ import annotations

import re
import secrets
import threading
import time
from collections import Counter
from typing import Any

from eval.bench.tools import Context, stats, suite_rows

USERS, APPS, QUESTIONS_EACH = 16, 2, 2
GENERATOR = "openai"


def questions() -> list[str]:
    """The seed suite's answerable questions that need no history."""
    return [r["question"] for r in suite_rows() if r["answerable"] and not r["history"]]


def ask(client: Any, question: str) -> tuple[float, str | None, str | None]:
    """One answer through the `chat` endpoint: its seconds, the error (None), and why it was
    refused (None when answered)."""
    started = time.perf_counter()
    try:
        answer = client.predict(question, GENERATOR, api_name="/chat")
    except Exception as exc:  # the client's AppError, a dropped connection, a timeout
        return time.perf_counter() - started, " ".join(str(exc).split())[:200] or repr(exc), None
    seconds = time.perf_counter() - started
    if not isinstance(answer, dict) or answer.get("generator") != GENERATOR:
        return seconds, f"not answered by {GENERATOR}: {str(answer)[:200]}", None
    if not answer.get("refused"):
        return seconds, None, None
    decision = (answer.get("trace") or {}).get("decision") or {}
    return seconds, None, re.sub(r"[\d.]+", "N", str(decision.get("reason") or "(no reason)"))


def person(asking: list[tuple[Any, str]], start: threading.Barrier, out: list[tuple]) -> None:
    start.wait()
    for client, question in asking:
        out.append(ask(client, question))


def crowd(urls: list[str], users: list[tuple[str, str]], each: int) -> dict[str, Any]:
    """Everyone signed in first (a session per question), then all asking at once."""
    from gradio_client import Client

    pool = questions()
    plans = [
        [
            (Client(urls[n % len(urls)], auth=user, verbose=False), pool[(n + i) % len(pool)])
            for i in range(each)
        ]
        for n, user in enumerate(users)
    ]
    start = threading.Barrier(len(plans) + 1)
    results: list[tuple[float, str | None, str | None]] = []
    threads = [threading.Thread(target=person, args=(p, start, results)) for p in plans]
    for thread in threads:
        thread.start()
    start.wait()
    began = time.perf_counter()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    errors = [error for _, error, _ in results if error]
    return {
        "users": len(users),
        "apps": len(urls),
        "questions_each": each,
        "answers": len(results) - len(errors),
        "refused": sum(bool(refused) for _, error, refused in results if not error),
        "refusals": Counter(r for _, error, r in results if r and not error).most_common(3),
        "errors": len(errors),
        "error_lines": sorted(set(errors))[:3],
        "total": stats([seconds for seconds, error, _ in results if not error] or [0.0]),
        "wall_seconds": wall,
        "per_minute": (len(results) - len(errors)) / wall * 60,
    }


def team(ctx: Context) -> None:
    from assistant.generators.model_file import ensure_model
    from assistant.settings import Settings
    from eval.deploy.team import Deployment

    if ctx.args.no_local:
        ctx.results["team"] = {"error": "skipped (--no-local: no model server)"}
        return
    users = [(f"person{n:02d}", secrets.token_urlsafe(12)) for n in range(USERS)]
    each = 1 if ctx.args.quick else QUESTIONS_EACH
    try:
        model = ensure_model(Settings().index.data_dir / "models")
        with Deployment(ctx.work / "team", users, model=model, apps=APPS) as deployment:
            ctx.say(f"bench: team: {USERS} people over {APPS} apps, {each} question(s) each")
            crowd(deployment.urls, users[:APPS], 1)  # warm-up: each app's first answer
            figures = crowd(deployment.urls, users, each)
    except RuntimeError as exc:  # a server that did not come up (one line)
        ctx.results["team"] = {"error": str(exc)}
        return
    ctx.results["team"] = figures
    ctx.say(f"bench: team: {figures['answers']} answers, {figures['errors']} errors")

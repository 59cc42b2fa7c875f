"""The answer loop behind the page: one answer per browser session, stoppable, with progress.

`Pipeline.stream()` runs in a worker thread; the page's handler reads its events from a
queue and, between events, shows the stage and the elapsed seconds. Stop sets the session's
flag: the handler returns the text so far at once (marked as stopped), and the worker closes
the pipeline's stream at its next event, which ends the local model's generation and frees
it for the next question.

A session answers one question at a time: a second one (an example clicked while an answer
is being written) is turned away with a note instead of racing the first for the chat.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from assistant.settings import Settings
from assistant.types import Answer

K_MIN, K_MAX = 1, 20  # the page's k range
TICK = 0.25  # seconds between progress updates
STAGE_SEARCH = "Searching the documents\u2026"
STAGE_WRITE = "Writing the answer\u2026"
STAGE_CHECK = "Checking the citations\u2026"


@dataclass
class Turn:
    """One question of a session being answered."""

    stop: threading.Event = field(default_factory=threading.Event)


_active: dict[str, Turn] = {}
_active_lock = threading.Lock()


def begin(session: str) -> Turn | None:
    """Mark the session busy; None when it already has a question being answered."""
    with _active_lock:
        if session in _active:
            return None
        turn = _active[session] = Turn()
        return turn


def current(session: str) -> Turn | None:
    with _active_lock:
        return _active.get(session)


def end(session: str) -> None:
    with _active_lock:
        _active.pop(session, None)


def stop(session: str) -> bool:
    """Ask the session's answer to stop; False when nothing is being answered."""
    turn = current(session)
    if turn is None:
        return False
    turn.stop.set()
    return True


def clamp_k(k: Any) -> tuple[int, str]:
    """k within the page's range, and a note saying so when it was not."""
    try:
        value = round(float(k))
    except (TypeError, ValueError):
        return 4, f"k {k!r} is not a number; used 4"
    if value < K_MIN or value > K_MAX:
        used = min(max(value, K_MIN), K_MAX)
        return used, f"k {value} is outside {K_MIN}-{K_MAX}; used {used}"
    return value, ""


@dataclass
class Event:
    """What the page shows next: progress, text, the Answer, a stop, or an error."""

    kind: str  # "progress" | "text" | "answer" | "stopped" | "error"
    raw: str = ""  # the streamed text so far
    stage: str = ""
    elapsed: float = 0.0
    answer: Answer | None = None
    error: BaseException | None = None


_DONE = object()


def run(
    settings: Settings,
    question: str,
    pairs: list[tuple[str, str]],
    generator: str | None,
    k: int,
    turn: Turn,
) -> Iterator[Event]:
    """Answer in a worker thread; yield what to show, at least every TICK seconds."""
    from assistant.pipeline import get_pipeline

    events: queue.Queue[object] = queue.Queue()
    cancel = threading.Event()

    def work() -> None:
        stream = None
        try:
            pipeline = get_pipeline(settings)
            stream = pipeline.stream(question, pairs, generator=generator or None, k=k)
            for event in stream:
                if cancel.is_set():
                    break
                events.put(event)
        except BaseException as exc:  # handed to the page, which shows one line
            events.put(exc)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # ends the model's generation now and frees it
            events.put(_DONE)

    started = time.perf_counter()
    worker = threading.Thread(target=work, name="chat-answer", daemon=True)
    worker.start()
    raw, stage = "", STAGE_SEARCH
    try:
        while True:
            if turn.stop.is_set():
                cancel.set()
                yield Event("stopped", raw, elapsed=time.perf_counter() - started)
                return
            try:
                item = events.get(timeout=TICK)
            except queue.Empty:
                yield Event("progress", raw, stage, time.perf_counter() - started)
                continue
            elapsed = time.perf_counter() - started
            if item is _DONE:
                return
            if isinstance(item, Answer):
                yield Event("answer", raw, elapsed=elapsed, answer=item)
            elif isinstance(item, BaseException):
                yield Event("error", raw, elapsed=elapsed, error=item)
            elif isinstance(item, str):
                raw += item
                stage = STAGE_WRITE
                yield Event("text", raw, stage, elapsed)
    finally:
        cancel.set()  # the page went away or stopped: let the worker end the generation

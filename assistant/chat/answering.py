"""The answer loop behind the page: one answer per browser session, stoppable, with progress.

`Pipeline.ask()` runs in a worker thread; the page's handler reads its events from a
queue and, between events, shows the stage and the elapsed seconds. Stop sets the session's
flag: the handler returns the text so far at once (marked as stopped), and the worker closes
the pipeline's stream at its next event, which ends the local model's generation and frees
it for the next question.

A session answers one question at a time: a second one (an example clicked while an answer
is being written) is turned away with a note instead of racing the first for the chat.
"""

from __future__ import annotations

import contextlib
import queue
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from assistant.generators import NOT_FOUND
from assistant.settings import K_DEFAULT, K_MAX, K_MIN, Settings
from assistant.types import Answer

TICK = 0.25  # seconds between progress updates
STAGE_SEARCH = "Searching the documents\u2026"
STAGE_READ = "Reading the passages\u2026"
STAGE_WRITE = "Writing the answer\u2026"

BUSY = "An answer is still being written: wait for it, or press Stop."


@dataclass
class Turn:
    """One question of a session being answered."""

    stop: threading.Event = field(default_factory=threading.Event)
    cleared: bool = False  # stopped by clearing the chat: nothing of it is to be shown


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


def clear(session: str) -> bool:
    """Stop the session's answer because its chat was cleared; False when none runs."""
    turn = current(session)
    if turn is None:
        return False
    turn.cleared = True
    turn.stop.set()
    return True


def clamp_k(k: Any, configured: int = K_DEFAULT) -> tuple[int, str]:
    """k within the page's range, and a note saying so when it was not; the `configured` k
    (`ASSISTANT_K`) where it is no number at all."""
    try:
        value = round(float(k))
    except (TypeError, ValueError):
        return configured, f"k {k!r} is not a number; used {configured}"
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


class _Worker(threading.Thread):
    """Runs the pipeline's stream and hands its events (or its error) over a queue."""

    def __init__(
        self,
        settings: Settings,
        question: str,
        pairs: list[tuple[str, str]],
        generator: str | None,
        k: int,
        sources: list[str] | None = None,
        reader: str | None = None,
    ) -> None:
        super().__init__(name="chat-answer", daemon=True)
        self.ask = (settings, question, pairs, generator, k)
        self.sources = sources or None  # the documents searched (None: all)
        self.reader = reader  # whose documents may be read (assistant.stores.access)
        self.events: queue.Queue[object] = queue.Queue()
        self.cancel = threading.Event()

    def run(self) -> None:
        from assistant.question.pipeline import get_pipeline

        settings, question, pairs, generator, k = self.ask
        stream = None
        try:
            stream = get_pipeline(settings).ask(
                question,
                pairs,
                generator=generator or None,
                k=k,
                sources=self.sources,
                reader=self.reader,
            )
            for event in stream:
                if self.cancel.is_set():
                    break
                self.events.put(event)
        except BaseException as exc:  # handed to the page, which shows one line
            self.events.put(exc)
        finally:
            close = getattr(stream, "close", None)
            if close is not None:
                close()  # ends the model's generation now and frees it
            self.events.put(_DONE)


def visible(raw: str) -> str:
    """What of the streamed text to show: nothing while it may still be the model's "not in
    the documents" reply (NOT_FOUND), which the refusal box replaces anyway."""
    text = " ".join(raw.split()).casefold()
    return "" if text and NOT_FOUND.casefold().startswith(text) else raw


def _event(item: object, raw: str, stage: str, elapsed: float) -> Event:
    if isinstance(item, Answer):
        return Event("answer", raw, elapsed=elapsed, answer=item)
    if isinstance(item, BaseException):
        return Event("error", raw, elapsed=elapsed, error=item)
    return Event("text", visible(raw), stage, elapsed)


def run(
    settings: Settings,
    question: str,
    pairs: list[tuple[str, str]],
    generator: str | None,
    k: int,
    turn: Turn,
    sources: list[str] | None = None,
    reader: str | None = None,
) -> Iterator[Event]:
    """Answer in a worker thread (searching only `sources`, when given, of what `reader` may
    read); yield what to show,
    at least every TICK seconds, until the answer (or an error) has been shown or the turn is
    stopped."""
    worker = _Worker(settings, question, pairs, generator, k, sources, reader)
    started = time.perf_counter()
    worker.start()
    raw, stage = "", STAGE_SEARCH
    try:
        while not turn.stop.is_set():
            try:
                item = worker.events.get(timeout=TICK)
            except queue.Empty:
                yield Event("progress", visible(raw), stage, time.perf_counter() - started)
                continue
            if item is _DONE:
                return
            if isinstance(item, str):
                raw, stage = raw + item, STAGE_WRITE if raw + item else STAGE_READ
            yield _event(item, raw, stage, time.perf_counter() - started)
        yield Event("stopped", raw, elapsed=time.perf_counter() - started)
    finally:
        worker.cancel.set()  # stopped, or the page went away: the worker ends the generation
        if worker.ident is not None:  # and the model stops now, even inside a prompt
            from assistant.question.pipeline import get_pipeline

            with contextlib.suppress(Exception):
                get_pipeline(settings).cancel(worker.ident)

"""llama.cpp runtime tricks for the local model, measured and kept in one place.

- one `Llama` per process and configuration, shared by threads under a lock, freed at exit;
- the weights' file pages released while and after llama.cpp copies them (less resident);
- saved prompt states without the logits matrix (`LeanStateLlama`), kept in a RAM cache and
  in a file next to the model so a new process restores the answer prefix at once;
- an abort callback so Stop ends even a prompt evaluation;
- the probability of a continuation read from the evaluated prompt's logits.

Several of these reach into llama-cpp-python's private fields (`_ctx`, `_seed`,
`_requires_eval`, `input_ids`, `LlamaState`). `runtime_problem` checks the installed version
and those fields once; when they changed, the model runs on the plain path (no saved states,
Stop between tokens, no probe) and one log line says why, instead of misbehaving.
"""

from __future__ import annotations

import atexit
import contextlib
import json
import logging
import os
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from assistant.errors import GeneratorUnavailable

log = logging.getLogger("assistant")

TESTED_VERSION = "0.3.36"  # the llama-cpp-python these tricks were written and measured on
_PRIVATE_FIELDS = ("_ctx", "_seed", "_requires_eval", "input_ids", "n_tokens", "cache")
_API = (
    "llama_state_get_size",
    "llama_state_get_data",
    "llama_state_set_data",
    "ggml_abort_callback",
    "llama_set_abort_callback",
    "llama_get_logits_ith",
    "LlamaRAMCache",
)


def runtime_problem(llama_cpp: Any) -> str:
    """Why the tricks cannot run on this llama-cpp-python ("" when they can)."""
    version = getattr(llama_cpp, "__version__", "unknown")
    if version != TESTED_VERSION:
        return f"llama-cpp-python {version} is not the tested {TESTED_VERSION}"
    missing = [name for name in _API if not hasattr(llama_cpp, name)]
    if not hasattr(getattr(llama_cpp, "llama", None), "LlamaState"):
        missing.append("llama.LlamaState")
    return f"llama-cpp-python lacks {', '.join(missing)}" if missing else ""


def _fields_problem(llama: Any) -> str:
    missing = [name for name in _PRIVATE_FIELDS if not hasattr(llama, name)]
    return f"llama-cpp-python's Llama lacks {', '.join(missing)}" if missing else ""


# Evaluated prompt states kept in memory (about 28 KB per token for this model, 11-17 MB per
# prompt): enough for the last few answer and condense prompts, whose fixed prefixes are
# then reused.
STATE_CACHE_BYTES = 96 * 1024 * 1024


@dataclass
class SharedLlama:
    llama: Any  # llama_cpp.Llama
    lock: threading.Lock
    load_seconds: float
    warmed: bool = False
    tricks: bool = True  # False: the plain path (see `runtime_problem`)
    # Stopping an answer: llama.cpp asks `abort` between its compute steps (also while it
    # evaluates a prompt, which no token loop can interrupt) whether to give up.
    abort: threading.Event = field(default_factory=threading.Event)
    owner: int | None = None  # the thread whose generation holds the model
    _owner_lock: threading.Lock = field(default_factory=threading.Lock)
    _callback: Any = None  # keeps the ctypes callback alive

    @contextlib.contextmanager
    def hold(self) -> Iterator[Any]:
        """The model, for this thread alone; a `cancel` for this thread aborts its work."""
        with self.lock:
            self._own(threading.get_ident())
            try:
                yield self.llama
            finally:
                self._own(None)

    def _own(self, owner: int | None) -> None:
        with self._owner_lock:
            self.owner = owner
            self.abort.clear()

    def cancel(self, thread_id: int) -> bool:
        """Abort what the thread `thread_id` is running on the model now (a prompt being
        evaluated or tokens being generated); False when it holds no model."""
        with self._owner_lock:
            if self.owner != thread_id:
                return False
            self.abort.set()
            return True

    def watch_abort(self, llama_cpp: Any) -> None:
        self._callback = llama_cpp.ggml_abort_callback(lambda _data: self.abort.is_set())
        llama_cpp.llama_set_abort_callback(self.llama.ctx, self._callback, None)


_MODELS: dict[tuple[str, int, int], SharedLlama] = {}
_MODELS_LOCK = threading.Lock()


@atexit.register
def _close_models() -> None:
    """Free the models before interpreter teardown (llama.cpp's own __del__ runs too late)."""
    with _MODELS_LOCK:
        for shared in _MODELS.values():
            with contextlib.suppress(Exception):
                shared.llama.close()
        _MODELS.clear()


def shared_llama(model_path: str, *, n_ctx: int, n_threads: int) -> SharedLlama:
    """The process-wide `Llama` for this file and configuration, loaded on first use."""
    key = (str(Path(model_path).resolve()), n_ctx, n_threads)
    with _MODELS_LOCK:
        shared = _MODELS.get(key)
        if shared is None:
            shared = _load(*key)
            _MODELS[key] = shared
        return shared


def import_llama_cpp() -> Any:
    try:
        import llama_cpp
    except ImportError as exc:
        raise GeneratorUnavailable(
            "llama-cpp-python is not installed: run `make install-local` or "
            "pip install '.[local]' (or use --generator extractive)"
        ) from exc
    return llama_cpp


def _load(model_path: str, n_ctx: int, n_threads: int) -> SharedLlama:
    llama_cpp = import_llama_cpp()
    problem = runtime_problem(llama_cpp)
    start = time.perf_counter()
    loaded = threading.Event()
    # While llama.cpp copies the weights out of the mapped file, keep releasing the pages it
    # has read, so they never all sit in memory at once beside the copy.
    releaser = threading.Thread(target=_release_until, args=(model_path, loaded), daemon=True)
    releaser.start()
    try:
        llama = (llama_cpp.Llama if problem else _lean_state_class(llama_cpp))(
            model_path=model_path,
            n_ctx=n_ctx,
            n_threads=n_threads,
            n_threads_batch=n_threads,
            verbose=False,
        )
    except (ValueError, RuntimeError) as exc:
        message = " ".join(str(exc).split())
        raise GeneratorUnavailable(f"cannot load the local model {model_path}: {message}") from exc
    finally:
        loaded.set()
        releaser.join()
    release_file_pages(model_path)
    problem = problem or _fields_problem(llama)
    shared = SharedLlama(llama, threading.Lock(), time.perf_counter() - start, tricks=not problem)
    if problem:
        log.warning("%s: the local model runs without its speed-ups (see llama_runtime)", problem)
        return shared
    llama.set_cache(llama_cpp.LlamaRAMCache(capacity_bytes=STATE_CACHE_BYTES))
    shared.watch_abort(llama_cpp)
    return shared


_MADV_DONTNEED = 4


def release_file_pages(path: str) -> int:
    """Unmap the resident pages of `path`'s mappings in this process (Linux; elsewhere a
    no-op); returns how many mappings were released.

    llama.cpp maps the GGUF and copies most weights into a buffer repacked for the CPU, but
    the mapping keeps every page it read resident beside that copy (1.8 GB instead of 1.1).
    Released pages that are still used (the token embeddings) come back on demand from the
    page cache. Mapping and releasing loads faster than reading the file (1.96-2.05 s
    against 2.17-2.83 s, alternating runs on this machine) and leaves less resident
    (1,221 MB, 388 of them clean file pages, against 1,333 MB after a 450-token prompt).
    """
    import ctypes
    import ctypes.util

    target = os.path.realpath(path)
    try:
        with open("/proc/self/maps", encoding="utf-8", errors="replace") as fh:
            ranges = [
                tuple(int(x, 16) for x in fields[0].split("-"))
                for fields in (line.split(maxsplit=5) for line in fh)
                if len(fields) == 6 and fields[5].strip() == target
            ]
        libc = ctypes.CDLL(ctypes.util.find_library("c"), use_errno=True)
    except OSError:
        return 0
    libc.madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    released = 0
    for start, end in ranges:
        released += libc.madvise(start, end - start, _MADV_DONTNEED) == 0
    return released


def _release_until(path: str, done: threading.Event, every: float = 0.1) -> None:
    while not done.wait(every):
        release_file_pages(path)


def _lean_state_class(llama_cpp: Any) -> type:
    """`Llama` whose saved states leave out the logits matrix.

    The stock `save_state` copies `n_batch x n_vocab` floats (311 MB for this model) into
    every state and `load_state` scans that matrix again; only logprobs need it, and the
    prompt-state cache would otherwise cost a third of a gigabyte per entry. The KV cache
    and the token ids are what make a restored prefix reusable.
    """
    import ctypes

    class LeanStateLlama(llama_cpp.Llama):  # type: ignore[misc,name-defined]
        def save_state(self) -> Any:
            ctx = self._ctx.ctx
            size = llama_cpp.llama_state_get_size(ctx)
            buffer = (ctypes.c_uint8 * size)()
            written = llama_cpp.llama_state_get_data(ctx, buffer, size)
            return llama_cpp.llama.LlamaState(
                input_ids=self.input_ids[: self.n_tokens].copy(),  # only the live tokens
                scores=np.empty((0, self.n_vocab()), dtype=np.single),
                n_tokens=self.n_tokens,
                llama_state=ctypes.string_at(buffer, written),
                llama_state_size=written,
                seed=self._seed,
            )

        def load_state(self, state: Any) -> None:
            size = state.llama_state_size
            buffer = (ctypes.c_uint8 * size).from_buffer_copy(state.llama_state)
            if llama_cpp.llama_state_set_data(self._ctx.ctx, buffer, size) != size:
                raise RuntimeError("Failed to set llama state data")
            self.input_ids[: state.n_tokens] = state.input_ids
            self.n_tokens = state.n_tokens
            self._requires_eval = True  # logits are stale: generate() decodes a token first
            self._seed = state.seed

    return LeanStateLlama


_STATE_MAGIC = b"assistant-prefix-state-1\n"
KEPT_STATES = 3  # saved prompt states (about 13 MB plus 28 KB per corpus token each)


def save_prefix_state(llama: Any, path: Path) -> bool:
    """Write `llama`'s evaluated tokens and KV state to `path` (atomically), keeping the
    KEPT_STATES newest (the rules-only prefix and a corpus's whole prompt live side by
    side); False when the folder is not writable."""
    state = llama.save_state()
    ids = np.asarray(state.input_ids[: state.n_tokens], dtype=np.int32)
    header = json.dumps({"n_tokens": int(state.n_tokens), "state_size": state.llama_state_size})
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(_STATE_MAGIC + header.encode() + b"\n" + ids.tobytes() + state.llama_state)
        os.replace(tmp, path)
        states = sorted(path.parent.glob("prefix-*.state"), key=lambda p: p.stat().st_mtime)
        for old in states[:-KEPT_STATES]:
            old.unlink(missing_ok=True)
    except OSError as exc:
        tmp.unlink(missing_ok=True)
        log.debug("could not save the prompt-prefix state to %s: %s", path, exc)
        return False
    return True


def load_prefix_state(llama: Any, path: Path) -> bool:
    """Restore a state written by `save_prefix_state` into `llama` and its prompt cache;
    False when the file is missing, damaged or does not fit (`llama` then starts from an
    empty context)."""
    import llama_cpp

    try:
        data = path.read_bytes()
        if not data.startswith(_STATE_MAGIC):
            return False
        header_end = data.index(b"\n", len(_STATE_MAGIC))
        header = json.loads(data[len(_STATE_MAGIC) : header_end])
        n_tokens, size = int(header["n_tokens"]), int(header["state_size"])
        ids_end = header_end + 1 + 4 * n_tokens
        if not 0 < n_tokens <= llama.n_ctx() or len(data) != ids_end + size:
            return False
        state = llama_cpp.llama.LlamaState(
            input_ids=np.frombuffer(data[header_end + 1 : ids_end], dtype=np.int32).astype(np.intc),
            scores=np.empty((0, llama.n_vocab()), dtype=np.single),
            n_tokens=n_tokens,
            llama_state=data[ids_end:],
            llama_state_size=size,
            seed=llama._seed,
        )
        llama.load_state(state)
    except (OSError, ValueError, KeyError, RuntimeError) as exc:
        log.debug("prompt-prefix state %s not used: %s", path, exc)
        llama.reset()
        return False
    if llama.cache is not None:
        llama.cache[state.input_ids.tolist()] = state
    return True


class FirstTokenBan:
    """A llama.cpp logits processor that forbids `tokens` at the first generated position
    only (NOT_FOUND's spellings once the reader has decided to answer); later positions are
    left alone, so an answer may still say "not" further on."""

    def __init__(self, tokens: list[int]) -> None:
        self.tokens = np.array(sorted(set(tokens)), dtype=np.intc)
        self.first = True

    def __call__(self, input_ids: np.ndarray, scores: np.ndarray) -> np.ndarray:
        if self.first:
            self.first = False
            scores[self.tokens] = -np.inf
        return scores


def token_probability(logits: np.ndarray, token: int) -> float:
    """The softmax probability of `token` under one position's `logits`."""
    shifted = np.asarray(logits, dtype=np.float64) - float(np.max(logits))
    return float(np.exp(shifted[token]) / np.exp(shifted).sum())


def continuation_probability(llama: Any, tokens: list[int]) -> float:
    """P(the next tokens are `tokens`) after the evaluated prompt in `llama`, which is left
    as it was (the probe positions are dropped, the last prompt token is decoded again by
    the next generation)."""
    import llama_cpp

    n_tokens, n_vocab = llama.n_tokens, llama.n_vocab()
    probability = 1.0
    try:
        for i, token in enumerate(tokens):
            logits = np.ctypeslib.as_array(
                llama_cpp.llama_get_logits_ith(llama.ctx, -1), shape=(n_vocab,)
            )
            probability *= token_probability(logits, token)
            if i + 1 < len(tokens):
                llama.eval([token])
    finally:
        llama.n_tokens = n_tokens
        llama._requires_eval = True  # the logits now belong to a probe position
    return probability

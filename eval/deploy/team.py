"""One team's deployment on this machine, as README's "Serving a team" sets it up: a `chroma
run` store, PostgreSQL, an OpenAI-compatible model server (`python -m llama_cpp.server` over
the bundled model) and two (or more) `assistant chat` processes on ports of their own, each
with a data dir of its own as if on machines of their own, and sign-in for `users`. The
corpus (seeds/) is ingested once into the store, as `assistant ingest` with the same settings.

    with Deployment(work, [("ann", "pw-a"), ("bob", "pw-b")], model=gguf) as team:
        team.urls          # the chat apps, http://127.0.0.1:PORT/
        team.database_url  # postgresql://...

A running PostgreSQL or model server may be given instead (`database_url`, `model_url`).
Everything it started is stopped at the end; the logs stay under `work`, and a server that
does not come up is one line naming its log.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Sequence
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from types import TracebackType

from eval.deploy.postgres import PostgresServer
from eval.deploy.servers import MODEL_ALIAS, ROOT, ChatApp, ChromaServer, ModelServer, free_port

SEEDS = ROOT / "seeds"


@dataclass
class Deployment:
    work: Path
    users: Sequence[tuple[str, str]]
    model: Path | None = None  # the GGUF the model server loads (unless `model_url`)
    apps: int = 2
    admins: str = ""
    database_url: str | None = None  # a running PostgreSQL's database; else one is started
    model_url: str | None = None  # a running OpenAI-compatible /v1; else llama_cpp.server
    corpus: Path = SEEDS
    chroma_url: str = ""
    urls: list[str] = field(default_factory=list)
    _stack: ExitStack = field(default_factory=ExitStack)

    def __enter__(self) -> Deployment:
        try:
            self._start()
        except BaseException:
            self._stack.close()
            raise
        return self

    def __exit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self._stack.close()

    def env(self, data_dir: Path) -> dict[str, str]:
        """The settings of an app machine (or `assistant ingest`) whose data dir is `data_dir`."""
        return {
            "ASSISTANT_DATA_DIR": str(data_dir),
            "ASSISTANT_CHROMA_URL": self.chroma_url,
            "ASSISTANT_DATABASE_URL": self.database_url or "",
            "ASSISTANT_GENERATOR": "openai",
            "ASSISTANT_OPENAI_BASE_URL": self.model_url or "",
            "ASSISTANT_OPENAI_MODEL": MODEL_ALIAS,
            "ASSISTANT_OPENAI_TIMEOUT": "600",  # 16 people queue at one small model
            "ASSISTANT_ADMINS": self.admins,
        }

    def _start(self) -> None:
        self.work.mkdir(parents=True, exist_ok=True)
        chroma = ChromaServer(self.work / "chroma", free_port())
        chroma.launch()
        self._stack.callback(chroma.stop)
        model = self._model_server()
        if self.database_url is None:
            self.database_url = self._postgres().new_database()
        chroma.wait()
        self.chroma_url = chroma.url
        self._ingest()
        auth = self.work / "users.txt"
        auth.write_text("".join(f"{u}:{p}\n" for u, p in self.users), encoding="utf-8")
        apps = []
        for n in range(1, self.apps + 1):
            app = ChatApp(auth, self.env(self.work / f"app{n}"), self.work / f"app{n}.log")
            app.launch()
            self._stack.callback(app.stop)
            apps.append(app)
        if model is not None:
            model.wait(180)
        for app in apps:
            app.wait(240)
        self.urls = [app.url for app in apps]

    def _model_server(self) -> ModelServer | None:
        if self.model_url:
            return None
        if self.model is None:
            raise RuntimeError("a Deployment needs the model file (model=) or a model_url")
        server = ModelServer(self.model, self.work / "llama-server.log")
        server.launch()
        self._stack.callback(server.stop)
        self.model_url = server.url
        return server

    def _postgres(self) -> PostgresServer:
        bin_dir = PostgresServer.binaries()
        if bin_dir is None:
            raise RuntimeError(
                "PostgreSQL is not installed (no initdb): apt-get install postgresql"
            )
        server = PostgresServer(bin_dir).start()
        self._stack.callback(server.stop)
        return server

    def _ingest(self) -> None:
        """`assistant ingest` of the corpus into the store, as an administrator would."""
        done = subprocess.run(
            [sys.executable, "-m", "assistant", "ingest", "--quiet", str(self.corpus)],
            env={**os.environ, **self.env(self.work / "ingest")},
            cwd=ROOT,
            capture_output=True,
            text=True,
            timeout=600,
        )
        if done.returncode != 0:
            said = (done.stderr.strip().splitlines() or ["(nothing)"])[-1]
            raise RuntimeError(f"assistant ingest failed ({done.returncode}): {said}")

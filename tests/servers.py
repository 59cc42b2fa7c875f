"""Real servers on loopback for tests: the chat app in the test's own process, and a server that
never answers. `chroma run`, PostgreSQL and the model server are eval's (eval/deploy/servers.py,
eval/deploy/postgres.py), shared with the bench's team deployment, and named here too."""

from __future__ import annotations

import socket
from pathlib import Path

from eval.deploy.postgres import PostgresServer
from eval.deploy.servers import ChromaServer, free_port

__all__ = ["ChromaServer", "PostgresServer", "free_port"]


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

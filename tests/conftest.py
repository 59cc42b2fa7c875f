"""Shared fixtures: the real embedding model (loaded once), a real Chroma in a temp folder."""

from __future__ import annotations

import os
import socket
from pathlib import Path

import pytest

from index.offline import go_offline

go_offline()

pytest_plugins = ["tests.pages"]  # the browser fixtures (browser, page, outside)

ROOT = Path(__file__).resolve().parent.parent
SEEDS = ROOT / "seeds"
ARTICLE = SEEDS / "russia-iss-withdrawal.txt"


@pytest.fixture(scope="session")
def embedder():
    from index import shared_embedder

    return shared_embedder()


@pytest.fixture(scope="session")
def seeded_data_dir(tmp_path_factory, embedder) -> Path:
    """A data directory whose embedded Chroma holds the seed article (built once)."""
    from assistant.settings import Settings
    from index import Store, ingest

    data_dir = tmp_path_factory.mktemp("seeded")
    s = Settings()
    ingest(
        [SEEDS], Store(data_dir), embedder, progress=False,
        chunk_size=s.index.chunk_size, overlap=s.index.chunk_overlap,
    )  # fmt: skip
    return data_dir


@pytest.fixture(scope="session")
def settings(seeded_data_dir):
    from assistant.settings import Settings

    return Settings(index={"data_dir": seeded_data_dir}, answer={"generator": "extractive"})


@pytest.fixture(scope="session")
def open_settings(seeded_data_dir):
    """The seed index with the answerability gate off (`answer_threshold=0`): for tests of
    what happens to an answer (citations, follow-ups), whatever the calibrated gate says."""
    from assistant.settings import Settings

    return Settings(
        index={"data_dir": seeded_data_dir},
        answer={"generator": "extractive", "answer_threshold": 0.0},
    )


@pytest.fixture
def own_settings(settings, embedder, tmp_path):
    """A data dir of its own holding the seed article, for tests that add or remove
    documents."""
    from tests.servers import seeded_copy

    return seeded_copy(settings, tmp_path / "data", SEEDS)


@pytest.fixture(scope="session")
def postgres():
    """A PostgreSQL server the test session starts (eval/deploy/postgres.py), stopped at its end."""
    from tests.servers import PostgresServer

    bin_dir = PostgresServer.binaries()
    if bin_dir is None:
        pytest.skip("PostgreSQL is not installed (no initdb; `make test` installs it)")
    server = PostgresServer(bin_dir)
    try:
        yield server.start()
    finally:
        server.stop()


@pytest.fixture(scope="session")
def postgres_url(postgres) -> str:
    """The URL of the session's PostgreSQL server (its `postgres` database)."""
    return postgres.url()


@pytest.fixture(params=["sqlite", "postgresql"])
def database_url(request) -> str | None:
    """The stores' database, once each: None (SQLite in the data dir) and a fresh
    PostgreSQL database of the session's server."""
    if request.param == "sqlite":
        return None
    return request.getfixturevalue("postgres").new_database()


@pytest.fixture(scope="session")
def pipeline(settings):
    from assistant.question.pipeline import get_pipeline

    return get_pipeline(settings)


class NetworkBlocked(RuntimeError):
    """A test tried to reach a host that is not this machine."""


_LOOPBACK = ("127.", "::1", "localhost", "0.0.0.0")
_real_connect = socket.socket.connect
_real_connect_ex = socket.socket.connect_ex


def _checked(address) -> None:
    host = address[0] if isinstance(address, tuple) else address
    if isinstance(host, bytes):
        host = host.decode()
    if isinstance(host, str) and (host.startswith(_LOOPBACK) or host.startswith("/")):
        return
    raise NetworkBlocked(f"network access outside this machine attempted: {address!r}")


def _guarded_connect(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _checked(address)
    return _real_connect(self, address)


def _guarded_connect_ex(self, address):
    if self.family in (socket.AF_INET, socket.AF_INET6):
        _checked(address)
    return _real_connect_ex(self, address)


@pytest.fixture(autouse=True, scope="session")
def no_network_beyond_loopback():
    """Every test runs with outbound connections limited to loopback (like pytest-socket)."""
    socket.socket.connect = _guarded_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _guarded_connect_ex  # type: ignore[method-assign]
    yield
    socket.socket.connect = _real_connect  # type: ignore[method-assign]
    socket.socket.connect_ex = _real_connect_ex  # type: ignore[method-assign]


@pytest.fixture
def port() -> int:
    from tests.servers import free_port

    return free_port()


def pytest_report_header(config):
    return f"network check: {os.environ.get('ASSISTANT_NETWORK_CHECKED', 'unshare -n (if root)')}"


@pytest.fixture(scope="session")
def model_path() -> Path:
    """The real GGUF file, assembled once into the configured data directory."""
    from assistant.generators.model_file import ensure_model
    from assistant.settings import Settings

    return ensure_model(Settings().index.data_dir / "models")


@pytest.fixture(scope="session")
def local_generator(model_path: Path):
    """The real local model (short answers), loaded once per session."""
    from assistant.generators.local import LocalGenerator
    from assistant.settings import Settings

    return LocalGenerator(
        Settings(index={"data_dir": model_path.parent.parent}, local={"local_max_tokens": 48})
    )


@pytest.fixture(scope="session")
def llama_server(model_path: Path, tmp_path_factory):
    """llama.cpp's OpenAI-compatible server over the real model on loopback (its URL)."""
    pytest.importorskip("llama_cpp.server.app")
    from eval.deploy.servers import ModelServer

    server = ModelServer(model_path, tmp_path_factory.mktemp("llama-server") / "server.log")
    try:
        server.start(timeout=180)
    except RuntimeError as exc:
        pytest.fail(str(exc))
    try:
        yield server.url
    finally:
        server.stop()

"""Chroma storage for chunks, with a manifest that makes every document update atomic.

Two collections: `<name>` holds the chunks (our own embeddings, cosine space) and
`<name>_docs` the manifest: one record per document with the version whose chunks are live,
plus the document's full text (so citations can quote it). A chunk is visible only when its
version matches its document's manifest record, so a new version becomes visible in one
step (the manifest upsert) and an interrupted run never shows duplicates or orphans; the next
ingestion deletes whatever an interrupted one left behind.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlparse

import numpy as np

from index import stamp
from index.offline import go_offline
from index.split import Chunk

if TYPE_CHECKING:
    from chromadb.api import ClientAPI

_STATE_ID = "\u0000state"
_WRITE_BATCH = 1000
_READ_PAGE = 5000


class StoreError(Exception):
    """A store problem, with a one-line message that says what to do."""


@dataclass(frozen=True)
class DocRecord:
    source: str
    version: str
    sha256: str
    chunks: int
    path: str = ""  # absolute path of the file when it was ingested ("" in older indexes)


@dataclass(frozen=True)
class Commit:
    """A document version whose chunks are written and that is ready to go live."""

    source: str
    version: str
    sha256: str
    chunks: int
    text: str
    path: str = ""


@contextmanager
def _translated(action: str) -> Iterator[None]:
    try:
        yield
    except StoreError:
        raise
    except Exception as exc:  # chromadb raises many types; the user needs one line
        message = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise StoreError(f"Chroma failed while {action}: {message}") from exc


def _client(data_dir: Path | None, url: str | None) -> ClientAPI:
    go_offline()
    import chromadb
    from chromadb.config import Settings as ChromaSettings

    settings = ChromaSettings(anonymized_telemetry=False, allow_reset=False)
    if url:
        parsed = urlparse(url if "://" in url else f"http://{url}")
        if not parsed.hostname:
            raise StoreError(
                f"ASSISTANT_CHROMA_URL {url!r} is not a URL like http://127.0.0.1:8000"
            )
        try:
            client = chromadb.HttpClient(
                host=parsed.hostname,
                port=parsed.port or (443 if parsed.scheme == "https" else 8000),
                ssl=parsed.scheme == "https",
                settings=settings,
            )
            client.heartbeat()
        except Exception as exc:
            raise StoreError(
                f"cannot reach the Chroma server at {url} ({type(exc).__name__}); "
                "start it with `chroma run` or unset ASSISTANT_CHROMA_URL"
            ) from exc
        return client
    assert data_dir is not None
    path = data_dir / "chroma"
    try:
        return chromadb.PersistentClient(path=str(path), settings=settings)
    except Exception as exc:
        raise StoreError(
            f"{path} is not a usable Chroma store ({type(exc).__name__}); "
            "move it away and run `assistant ingest` again"
        ) from exc


class Store:
    """The chunk index. Open with a data directory (embedded) or a server URL."""

    def __init__(
        self,
        data_dir: Path | None = None,
        url: str | None = None,
        collection: str = "chunks",
        create: bool = True,
    ) -> None:
        if len(collection) < 3:
            raise StoreError("the collection name needs at least 3 characters")
        self.location = url or str(data_dir)
        # Embedded: the generation is also written to a small file beside the store, read in
        # microseconds instead of a Chroma read (0.2-0.5 ms) on every question.
        self._stamp = None if url else Path(data_dir or ".") / f".generation-{collection}"
        self._manifest_cache: tuple[float, dict[str, DocRecord]] | None = None
        if not url and not create and not (Path(data_dir or ".") / "chroma").exists():
            raise StoreError(f"no index in {data_dir}: run `assistant ingest` first")
        self._client = _client(data_dir, url)
        with _translated("opening the collections"):
            if create:
                self._chunks = self._client.get_or_create_collection(
                    collection, embedding_function=None, metadata={"hnsw:space": "cosine"}
                )
                self._docs = self._client.get_or_create_collection(
                    f"{collection}_docs", embedding_function=None
                )
            else:
                try:
                    self._chunks = self._client.get_collection(collection, embedding_function=None)
                    self._docs = self._client.get_collection(
                        f"{collection}_docs", embedding_function=None
                    )
                except Exception as exc:
                    if "does not exist" in str(exc) or "NotFound" in type(exc).__name__:
                        raise StoreError(
                            f"no index in {self.location}: run `assistant ingest` first"
                        ) from exc
                    raise

    # -- manifest -------------------------------------------------------------------------
    def manifest(self) -> dict[str, DocRecord]:
        with _translated("reading the manifest"):
            got = self._docs.get(include=["metadatas"])
        records = {}
        for id_, meta in zip(got["ids"], got["metadatas"] or [], strict=False):
            if id_ == _STATE_ID or meta is None:
                continue
            records[id_] = DocRecord(
                id_,
                str(meta["version"]),
                str(meta["sha256"]),
                int(meta["chunks"]),  # type: ignore[arg-type]
                str(meta.get("path", "")),
            )
        return records

    def document_text(self, source: str) -> str | None:
        with _translated("reading a document"):
            got = self._docs.get(ids=[source], include=["documents"])
        docs = got.get("documents") or []
        return docs[0] if docs else None

    def generation(self) -> float:
        """Changes whenever the visible content changes (used to refresh caches)."""
        stamped = stamp.read(self._stamp) if self._stamp is not None else None
        return self._chroma_generation() if stamped is None else stamped

    def _chroma_generation(self) -> float:
        with _translated("reading the index state"):
            got = self._docs.get(ids=[_STATE_ID], include=["metadatas"])
        metas = got.get("metadatas") or []
        return float(metas[0]["generation"]) if metas and metas[0] else 0.0  # type: ignore[arg-type]

    def _bump(self) -> None:
        generation = time.time()
        if self._stamp is not None:  # readers ask Chroma until the new value is written
            stamp.drop(self._stamp)
        self._docs.upsert(
            ids=[_STATE_ID],
            embeddings=np.zeros((1, 1), dtype=np.float32),
            metadatas=[{"generation": generation}],
            documents=[""],
        )
        if self._stamp is not None:  # the value as Chroma returns it (its floats lose a digit)
            stamp.write(self._stamp, self._chroma_generation(), self._chroma_generation)

    # -- writes ---------------------------------------------------------------------------
    def add_chunks(self, chunks: Sequence[Chunk], embeddings: np.ndarray) -> None:
        """Write chunks (invisible until their document is committed). Idempotent."""
        with _translated("writing chunks"):
            for i in range(0, len(chunks), _WRITE_BATCH):
                part = chunks[i : i + _WRITE_BATCH]
                self._chunks.upsert(
                    ids=[c.id for c in part],
                    embeddings=embeddings[i : i + _WRITE_BATCH],
                    documents=[c.text for c in part],
                    metadatas=[
                        {
                            "source": c.source,
                            "start": c.start,
                            "end": c.end,
                            "version": c.version,
                            "page": c.page,  # 0: the document has no pages
                        }
                        for c in part
                    ],
                )

    def commit_documents(self, commits: Sequence[Commit]) -> None:
        """Make each document's new version live, then drop old versions' chunks.

        Each manifest record flips one document from its old version to its new one, so a
        run killed in between leaves every document whole, in one version or the other.
        """
        if not commits:
            return
        with _translated("committing documents"):
            for i in range(0, len(commits), _WRITE_BATCH):
                part = commits[i : i + _WRITE_BATCH]
                self._docs.upsert(
                    ids=[c.source for c in part],
                    embeddings=np.ones((len(part), 1), dtype=np.float32),
                    metadatas=[
                        {
                            "version": c.version,
                            "sha256": c.sha256,
                            "chunks": c.chunks,
                            "path": c.path,
                        }
                        for c in part
                    ],
                    documents=[c.text for c in part],
                )
            self._bump()
            stale: list[dict[str, Any]] = [
                {"$and": [{"source": c.source}, {"version": {"$ne": c.version}}]} for c in commits
            ]
            for i in range(0, len(stale), 100):
                where = stale[i : i + 100]
                self._chunks.delete(where=where[0] if len(where) == 1 else {"$or": where})

    def remove_document(self, source: str) -> None:
        with _translated("removing a document"):
            self._docs.delete(ids=[source])
            self._bump()
            self._chunks.delete(where={"source": source})

    def collect_garbage(self) -> int:
        """Delete chunks that no manifest record points to (left by an interrupted run)."""
        manifest = self.manifest()
        with _translated("cleaning up"):
            if self._chunks.count() == sum(r.chunks for r in manifest.values()):
                return 0
            got = self._get_all(["metadatas"])
        stale = [
            id_
            for id_, meta in zip(got["ids"], got["metadatas"] or [], strict=False)
            if meta is None
            or manifest.get(str(meta["source"])) is None
            or manifest[str(meta["source"])].version != meta["version"]
        ]
        with _translated("cleaning up"):
            for i in range(0, len(stale), _WRITE_BATCH):
                self._chunks.delete(ids=stale[i : i + _WRITE_BATCH])
        return len(stale)

    # -- reads ----------------------------------------------------------------------------
    def count(self) -> int:
        with _translated("counting chunks"):
            return int(self._chunks.count())

    def _live_manifest(self, generation: float) -> dict[str, DocRecord]:
        """The manifest, re-read only when the generation moved (saves a read per query)."""
        cached = self._manifest_cache
        if cached is None or cached[0] != generation:
            cached = self._manifest_cache = (generation, self.manifest())
        return cached[1]

    def _visible(
        self,
        ids: Sequence[str],
        metas: Sequence[Any],
        docs: Sequence[str],
        generation: float,
    ) -> list[Chunk]:
        """The records of chunks that belong to a live document version, as the splitter
        made them."""
        manifest = self._live_manifest(generation)
        out = []
        for id_, meta, doc in zip(ids, metas, docs, strict=False):
            record = manifest.get(str(meta["source"]))
            if record is None or record.version != meta["version"]:
                continue
            start, end, page = int(meta["start"]), int(meta["end"]), int(meta.get("page", 0))
            out.append(Chunk(id_, str(meta["source"]), start, end, doc, record.version, page))
        return out

    def query(
        self, embedding: Sequence[float] | np.ndarray, n: int, generation: float | None = None
    ) -> list[Chunk]:
        """The `n` nearest visible chunks, nearest first (their distances: `nearest`).

        `generation` is this index's `generation()` when the caller has just read it.
        """
        if generation is None:
            generation = self.generation()
        with _translated("searching"):
            # Chroma 1.x returns what it holds when asked for more (or for anything from an
            # empty collection), so no count is read first.
            got = self._nearest_records(embedding, n, ["documents", "metadatas"])
        first = 0  # the results for our one query embedding
        hits = self._visible(
            got["ids"][first],
            (got["metadatas"] or [[]])[first],
            (got["documents"] or [[]])[first],
            generation,
        )
        return hits[:n]

    def nearest(
        self,
        embedding: Sequence[float] | np.ndarray,
        n: int,
        sources: Sequence[str] | None = None,
    ) -> list[tuple[str, float]]:
        """Ids and distances of about the `n` nearest chunk records, nearest first, visible or
        not (twice as many, so that `n` visible ones remain after a caller drops superseded
        records by its own map of the visible chunks, as `all_chunks` gives). Asking for no
        documents or metadata makes this read about 0.45 ms cheaper than `query`. With
        `sources`, only chunks of those documents (Chroma filters before ranking)."""
        with _translated("searching"):
            got = self._nearest_records(embedding, n, ["distances"], sources)
        return list(zip(got["ids"][0], (got["distances"] or [[]])[0], strict=False))

    def _nearest_records(
        self,
        embedding: Sequence[float] | np.ndarray,
        n: int,
        include: list[Any],
        sources: Sequence[str] | None = None,
    ) -> Any:
        """Chroma's records nearest to `embedding`, twice `n` and more, visible or not."""
        where: Any = None
        if sources:
            where = {"source": sources[0] if len(sources) == 1 else {"$in": list(sources)}}
        return self._chunks.query(
            query_embeddings=np.asarray(embedding, dtype=np.float32).reshape(1, -1),
            n_results=n * 2 + 8,
            include=include,
            where=where,
        )

    def _get_all(self, include: list[Any]) -> dict[str, list[Any]]:
        """Every chunk record, read in pages (one huge read exceeds SQLite's variable limit)."""
        out: dict[str, list[Any]] = {"ids": [], "documents": [], "metadatas": []}
        offset = 0
        while True:
            page = self._chunks.get(include=include, limit=_READ_PAGE, offset=offset)
            out["ids"] += page["ids"]
            out["documents"] += page.get("documents") or []
            out["metadatas"] += page.get("metadatas") or []
            if len(page["ids"]) < _READ_PAGE:
                return out
            offset += _READ_PAGE

    def all_chunks(self, generation: float | None = None) -> list[Chunk]:
        """Every visible chunk (`generation` as in `query`)."""
        if generation is None:
            generation = self.generation()
        with _translated("reading chunks"):
            got = self._get_all(["documents", "metadatas"])
        ids = got["ids"]
        return self._visible(ids, got["metadatas"], got["documents"], generation)

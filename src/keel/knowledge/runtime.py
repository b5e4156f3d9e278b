"""The knowledge service in the server: cached search indexes, the ingestion job, and retrieval for RAG.

Ingestion runs on the job worker: each source (an upload, a URL, each file in a zip export) is loaded,
chunked, embedded through the gateway (the knowledge base's embeddings model, traced like any call) and
swapped in atomically; a source that fails is recorded with its reason and the batch goes on. An unchanged
source (same content hash) is a no-op.
"""

import hashlib
import io
import threading
import time
import zipfile
from collections import OrderedDict
from pathlib import Path, PurePosixPath
from typing import Any

import numpy as np

from keel.core.auth import Principal, Role
from keel.core.errors import InvalidInput, PayloadTooLarge
from keel.knowledge import chunking, service
from keel.knowledge.fetch import fetch
from keel.knowledge.index import KnowledgeIndex
from keel.knowledge.loaders import Loaded, LoadError, known, load
from keel.knowledge.models import KnowledgeBase
from keel.knowledge.stores import FlatStore

EMBED_BATCH = 64
MAX_ZIP_MEMBERS = 5000
CACHED_INDEXES = 16


class Knowledge:
    def __init__(self, runtime: Any) -> None:
        self.runtime = runtime
        self.settings = runtime.settings
        self.loaders = runtime.plugins.loaders
        self.stores = runtime.plugins.vector_stores
        self.uploads = Path(runtime.settings.data_dir) / "uploads"
        self._indexes: OrderedDict[str, tuple[int, KnowledgeIndex]] = OrderedDict()
        self._lock = threading.Lock()

    def start(self) -> None:
        self.uploads.mkdir(parents=True, exist_ok=True)

    def stop(self) -> None:
        self._indexes.clear()

    # -- uploads: stored under a generated name, so no client-given path ever reaches the file system
    def save_upload(self, upload_id: str, content: bytes) -> None:
        if len(content) > self.settings.knowledge_max_document_bytes:
            raise PayloadTooLarge(
                f"the file is larger than {self.settings.knowledge_max_document_bytes} bytes "
                "(KEEL_KNOWLEDGE_MAX_DOCUMENT_BYTES)"
            )
        (self.uploads / upload_id).write_bytes(content)

    # -- embeddings through the gateway (the evaluation service owns the bridge to the event loop)
    def embed(self, principal: Principal, model: str, texts: list[str]) -> np.ndarray:
        evals = self.runtime.service("evals")
        vectors: list[list[float]] = []
        for offset in range(0, len(texts), EMBED_BATCH):
            batch = texts[offset : offset + EMBED_BATCH]
            vectors += evals.wait(evals.embed(principal, batch, model, {"keel.knowledge": "embed"}))
        matrix = np.asarray(vectors, dtype=np.float32)
        norms = np.linalg.norm(matrix, axis=1, keepdims=True)
        return matrix / np.where(norms == 0, 1, norms)

    def index(self, kb: KnowledgeBase) -> KnowledgeIndex:
        with self._lock:
            cached = self._indexes.get(kb.id)
            if cached is not None and cached[0] == kb.revision:
                self._indexes.move_to_end(kb.id)
                return cached[1]
        with self.runtime.sessions() as session:
            built = KnowledgeIndex(service.index_rows(session, kb.id))
        with self._lock:
            self._indexes[kb.id] = (kb.revision, built)
            while len(self._indexes) > CACHED_INDEXES:
                self._indexes.popitem(last=False)
        return built

    def search(
        self,
        principal: Principal,
        kb: KnowledgeBase,
        query: str,
        top_k: int,
        mode: str,
        filters: dict[str, Any],
        mmr: float | None,
    ) -> list[dict[str, Any]]:
        index = self.index(kb)
        vector = None
        if mode != "keyword" or mmr is not None:
            if not len(index):
                return []
            vector = self.embed(principal, kb.embedding_model, [query])[0]
            if index.matrix.shape[1] != vector.shape[0]:
                raise InvalidInput(
                    f"the query embedding has {vector.shape[0]} dimensions; "
                    f"the base was built with {index.matrix.shape[1]}"
                )
        external = None
        store = self.stores.get(kb.store)
        if vector is not None and mode != "keyword" and not isinstance(store, FlatStore):
            wanted = top_k * 10 if (filters or mmr is not None or mode == "hybrid") else top_k
            with self.runtime.sessions() as session:
                found = store.nearest(session, kb, vector, wanted)
            external = index.rows_of(found) if found is not None else None
        hits = index.search(query, vector, mode, top_k, filters, mmr, external)
        return [
            {
                "text": index.texts[h.row],
                "score": h.score,
                "source": index.sources[h.row],
                "document_id": index.document_ids[h.row],
                "chunk_id": index.ids[h.row],
                "metadata": index.metadata[h.row],
            }
            for h in hits
        ]

    def search_by_name(
        self, principal: Principal, name: str, query: str, top_k: int, mode: str
    ) -> list[dict[str, Any]]:
        with self.runtime.sessions() as session:
            kb = service.get(session, principal, name)
        return self.search(principal, kb, query, top_k, mode, {}, None)

    # -- the ingestion job
    def run_job(self, ctx: Any) -> dict[str, Any]:
        params = ctx.params
        principal = Principal(params.get("author", "job"), ctx.project_id, Role.member)
        with ctx.session() as session:
            kb = service.get_by_id(session, params["kb_id"])
            kb_id, model, chunk_settings, store = kb.id, kb.embedding_model, dict(kb.chunking), kb.store
        sources: list[tuple[str, Any]] = [("upload", u) for u in params.get("uploads", [])]
        sources += [("url", u) for u in params.get("urls", [])]
        report: dict[str, Any] = {"added": 0, "updated": 0, "unchanged": 0, "failed": [], "chunks": 0}
        for done, (kind, item) in enumerate(sources):
            ctx.check()
            for name, loaded_or_error in self._documents(kind, item):
                if isinstance(loaded_or_error, LoadError):
                    self._fail(ctx, kb_id, name, str(loaded_or_error), report)
                    continue
                try:
                    self._ingest(
                        ctx, principal, kb_id, (model, store), chunk_settings, name, loaded_or_error, report
                    )
                except (InvalidInput, LoadError, ValueError) as exc:
                    self._fail(ctx, kb_id, name, str(exc), report)
            ctx.progress((done + 1) / len(sources), f"{done + 1}/{len(sources)} sources")
        for upload in params.get("uploads", []):
            (self.uploads / upload["id"]).unlink(missing_ok=True)
        return report

    def _fail(self, ctx: Any, kb_id: str, name: str, reason: str, report: dict[str, Any]) -> None:
        report["failed"].append({"source": name, "reason": reason})
        ctx.log(f"{name}: {reason}", level="warning")
        with ctx.session() as session:
            service.record_failure(session, kb_id, name, reason)

    def _documents(self, kind: str, item: Any) -> list[tuple[str, Loaded | LoadError]]:
        """(source name, loaded text or the reason it cannot be) for an upload (zips expand) or a URL."""
        limit = self.settings.knowledge_max_document_bytes
        if kind == "url":
            try:
                allowlist = [
                    h.strip().lower() for h in self.settings.knowledge_url_allowlist.split(",") if h.strip()
                ]
                content, content_type = fetch(
                    item,
                    allow_private=self.settings.knowledge_allow_private_urls,
                    allowlist=allowlist,
                    max_bytes=limit,
                    timeout=self.settings.knowledge_fetch_timeout_seconds,
                )
                return [(item, load(content, _as_file(item, content_type, self.loaders), self.loaders))]
            except LoadError as exc:
                return [(item, exc)]
        name = item["name"]
        try:
            content = (self.uploads / item["id"]).read_bytes()
        except OSError:
            return [(name, LoadError(f"{name}: the upload is gone; upload it again"))]
        return self.read(content, name)

    def read(self, content: bytes, name: str) -> list[tuple[str, Loaded | LoadError]]:
        """A file's documents: a zip's readable members, or the file itself through its loader."""
        if PurePosixPath(name).suffix.lower() == ".zip":
            return self._zip(name, content, self.settings.knowledge_max_document_bytes)
        try:
            return [(name, load(content, name, self.loaders))]
        except LoadError as exc:
            return [(name, exc)]

    def _zip(self, name: str, content: bytes, limit: int) -> list[tuple[str, Loaded | LoadError]]:
        """A Notion (or any) export: each supported file is its own document; bombs are refused whole."""
        try:
            archive = zipfile.ZipFile(io.BytesIO(content))
            members = [m for m in archive.infolist() if not m.is_dir()]
        except zipfile.BadZipFile as exc:
            return [(name, LoadError(f"{name} is not a readable zip file: {exc}"))]
        total = sum(m.file_size for m in members)
        if len(members) > MAX_ZIP_MEMBERS or total > limit:
            return [
                (
                    name,
                    LoadError(
                        f"{name} unpacks to {total} bytes in {len(members)} files; the limit is {limit} bytes"
                    ),
                )
            ]
        found: list[tuple[str, Loaded | LoadError]] = []
        for member in members:
            inner = f"{name}/{member.filename}"
            suffix = PurePosixPath(member.filename).suffix.lower()
            if suffix not in self.loaders and suffix != ".csv":
                continue
            try:
                data = archive.read(member)
                as_name = member.filename if suffix != ".csv" else member.filename + ".txt"
                found.append((inner, load(data, as_name, self.loaders)))
            except LoadError as exc:
                found.append((inner, exc))
            except (zipfile.BadZipFile, OSError, RuntimeError) as exc:
                found.append((inner, LoadError(f"{inner}: cannot unpack: {exc}")))
        return found or [(name, LoadError(f"{name} holds no files Keel can read ({known(self.loaders)})"))]

    def _ingest(
        self,
        ctx: Any,
        principal: Principal,
        kb_id: str,
        model_and_store: tuple[str, str],
        settings: dict[str, Any],
        name: str,
        loaded: Loaded,
        report: dict[str, Any],
    ) -> None:
        model, store = model_and_store
        digest = hashlib.sha256(loaded.text.encode()).hexdigest()
        with ctx.session() as session:
            previous = service.document_hash(session, kb_id, name)
        if previous == digest:
            report["unchanged"] += 1
            return
        pieces = chunking.chunk(loaded.text, settings["mode"], settings["max_tokens"], settings["overlap"])
        started = time.perf_counter()
        vectors = self.embed(principal, model, [p.text for p in pieces])
        report.setdefault("embed_seconds", 0.0)
        report["embed_seconds"] += time.perf_counter() - started
        chunks = [
            service.NewChunk(p.text, {**p.metadata(), "title": loaded.title}, vectors[i].tobytes())
            for i, p in enumerate(pieces)
        ]
        with ctx.session() as session:
            service.replace_document(
                session,
                kb_id,
                name,
                loaded.title,
                digest,
                chunks,
                int(vectors.shape[1]),
                self.stores.get(store),
            )
        report["updated" if previous else "added"] += 1
        report["chunks"] += len(chunks)


def _as_file(url: str, content_type: str, loaders: Any) -> str:
    """A file name whose extension picks the loader for fetched content."""
    if "pdf" in content_type:
        return "page.pdf"
    if "html" in content_type or "xml" in content_type:
        return "page.html"
    suffix = PurePosixPath(url.split("?")[0]).suffix.lower()
    return f"page{suffix}" if suffix in loaders else "page.txt"

"""Vector stores: where a knowledge base keeps its vectors besides the in-memory index, by name.

A registry filled through `register_vector_stores` (the two built-ins come that way): `flat` keeps nothing
more than the chunks' own embeddings and searches the in-memory index; `pgvector` also writes each vector to
PostgreSQL and asks its HNSW index for the nearest chunks. The in-memory index always re-scores and applies
filters, hybrid fusion and MMR, so a store only has to say which chunks are near.
"""

from dataclasses import dataclass
from typing import Any, Protocol

import numpy as np

from keel.knowledge import queries


class VectorStore(Protocol):
    @property
    def name(self) -> str: ...

    @property
    def description(self) -> str: ...

    def unavailable(self, session: Any) -> str | None:
        """None when a base can use this store here, else why not (shown to whoever creates one)."""

    def write(self, session: Any, kb_id: str, rows: list[tuple[str, bytes]], dimensions: int) -> None:
        """Store (chunk id, float32 embedding bytes) pairs, in the caller's transaction."""

    def nearest(self, session: Any, kb: Any, query: Any, limit: int) -> list[tuple[str, float]] | None:
        """(chunk id, similarity) of the `limit` nearest chunks; None to search the in-memory index."""


@dataclass(frozen=True)
class FlatStore:
    name: str = "flat"
    description: str = "Exact search over the base's chunks in memory (numpy); any database."

    def unavailable(self, session: Any) -> str | None:
        return None

    def write(self, session: Any, kb_id: str, rows: list[tuple[str, bytes]], dimensions: int) -> None:
        return None

    def nearest(self, session: Any, kb: Any, query: Any, limit: int) -> list[tuple[str, float]] | None:
        return None


@dataclass(frozen=True)
class PgVectorStore:
    name: str = "pgvector"
    description: str = "Vectors in PostgreSQL with an HNSW index per base (needs the vector extension)."

    def unavailable(self, session: Any) -> str | None:
        return queries.available(session)

    def write(self, session: Any, kb_id: str, rows: list[tuple[str, bytes]], dimensions: int) -> None:
        vectors = [(chunk_id, np.frombuffer(embedding, dtype=np.float32)) for chunk_id, embedding in rows]
        queries.write(session, kb_id, vectors, dimensions)

    def nearest(self, session: Any, kb: Any, query: Any, limit: int) -> list[tuple[str, float]] | None:
        if kb.dimensions is None:
            return []
        return queries.search(session, kb.id, query, kb.dimensions, limit)


BUILT_IN: tuple[VectorStore, ...] = (FlatStore(), PgVectorStore())

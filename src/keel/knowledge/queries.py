"""SQL of the `pgvector` store: chunk vectors in PostgreSQL, searched by an HNSW index per knowledge base.

Available when Keel's database is PostgreSQL with the `vector` extension installable (`CREATE EXTENSION IF
NOT EXISTS vector`). The table is created on first use rather than by a migration, because a PostgreSQL
without pgvector must still run Keel. Vectors are written in the same transaction as their chunks (rows
cascade with them), and each base gets a partial HNSW index on `embedding::vector(dims)` with cosine distance.
"""

from typing import Any

from sqlalchemy import text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.orm import Session

from keel.core.errors import InvalidInput

_TABLE = """
CREATE TABLE IF NOT EXISTS knowledge_vectors (
    chunk_id VARCHAR(32) PRIMARY KEY REFERENCES knowledge_chunks(id) ON DELETE CASCADE,
    kb_id VARCHAR(32) NOT NULL,
    embedding vector NOT NULL
)
"""


def available(session: Session) -> str | None:
    """None when pgvector can be used here, else why not."""
    if session.get_bind().dialect.name != "postgresql":
        return "pgvector needs Keel's database to be PostgreSQL (KEEL_DATABASE_URL)"
    try:
        with session.begin_nested():
            session.execute(text("CREATE EXTENSION IF NOT EXISTS vector"))
            session.execute(text(_TABLE))
        session.commit()
    except DBAPIError as exc:
        session.rollback()
        return f"the PostgreSQL server has no pgvector extension: {str(exc.orig).splitlines()[0]}"
    return None


def _literal(vector: Any) -> str:
    return "[" + ",".join(f"{float(x):.7g}" for x in vector) + "]"


def _index(session: Session, kb_id: str, dimensions: int) -> None:
    name = f"ix_knowledge_vectors_{kb_id.lower()}"
    session.execute(
        text(
            f"CREATE INDEX IF NOT EXISTS {name} ON knowledge_vectors USING hnsw "
            f"((embedding::vector({dimensions})) vector_cosine_ops) WHERE kb_id = '{kb_id}'"
        )
    )


def write(session: Session, kb_id: str, rows: list[tuple[str, Any]], dimensions: int) -> None:
    """Store (chunk id, vector) pairs; part of the caller's transaction."""
    if not kb_id.replace("_", "").isalnum():
        raise InvalidInput(f"bad knowledge base id {kb_id!r}")
    _index(session, kb_id, dimensions)
    session.execute(
        text(
            "INSERT INTO knowledge_vectors (chunk_id, kb_id, embedding) "
            "VALUES (:chunk, :kb, CAST(:vector AS vector))"
        ),
        [{"chunk": chunk, "kb": kb_id, "vector": _literal(vector)} for chunk, vector in rows],
    )


def search(session: Session, kb_id: str, query: Any, dimensions: int, limit: int) -> list[tuple[str, float]]:
    """(chunk id, cosine similarity) of the `limit` nearest chunks, through the HNSW index."""
    dims = int(dimensions)
    session.execute(text(f"SET LOCAL hnsw.ef_search = {max(40, int(limit) * 4)}"))
    rows = session.execute(
        text(
            f"SELECT chunk_id, 1 - (embedding::vector({dims}) <=> CAST(:q AS vector({dims}))) AS score "
            "FROM knowledge_vectors WHERE kb_id = :kb "
            f"ORDER BY embedding::vector({dims}) <=> CAST(:q AS vector({dims})) LIMIT :limit"
        ),
        {"q": _literal(query), "kb": kb_id, "limit": limit},
    ).all()
    return [(str(r[0]), float(r[1])) for r in rows]

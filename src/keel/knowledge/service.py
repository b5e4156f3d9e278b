"""Knowledge bases and documents: create, list, replace a document's chunks atomically, delete, read chunks
for the search index. `revision` moves on every change so cached indexes know they are stale."""

from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from keel.core.auth import Principal, Role
from keel.core.clock import utcnow
from keel.core.errors import InvalidInput, NotFound
from keel.core.ids import new_id
from keel.db.named import add_unique, by_name
from keel.knowledge.models import Chunk, Document, KnowledgeBase
from keel.knowledge.schemas import KnowledgeBaseIn


def create(session: Session, principal: Principal, data: KnowledgeBaseIn, stores: Any) -> KnowledgeBase:
    principal.require(Role.member)
    if data.store not in stores:
        raise InvalidInput(f"unknown vector store {data.store!r}; known: {', '.join(stores)}", param="store")
    if (reason := stores.get(data.store).unavailable(session)) is not None:
        raise InvalidInput(reason, param="store")
    if data.chunking.overlap >= data.chunking.max_tokens:
        raise InvalidInput("chunking.overlap must be smaller than chunking.max_tokens", param="chunking")
    kb = KnowledgeBase(
        id=new_id("kb"),
        project_id=principal.project_id,
        name=data.name,
        description=data.description,
        embedding_model=data.embedding_model,
        chunking=data.chunking.model_dump(),
        store=data.store,
    )
    return add_unique(session, kb, f"a knowledge base named {data.name!r} already exists")


def get(session: Session, principal: Principal, name: str) -> KnowledgeBase:
    return by_name(session, KnowledgeBase, principal.project_id, name, "knowledge base")


def get_by_id(session: Session, kb_id: str) -> KnowledgeBase:
    return session.get_one(KnowledgeBase, kb_id)


def list_all(session: Session, principal: Principal) -> list[KnowledgeBase]:
    query = select(KnowledgeBase).where(KnowledgeBase.project_id == principal.project_id)
    return list(session.scalars(query.order_by(KnowledgeBase.name)))


def counts(session: Session, kb_id: str) -> tuple[int, int]:
    documents = session.scalar(
        select(func.count()).where(Document.kb_id == kb_id, Document.status == "ready")
    )
    chunks = session.scalar(select(func.count()).where(Chunk.kb_id == kb_id))
    return int(documents or 0), int(chunks or 0)


def documents(session: Session, kb: KnowledgeBase) -> list[Document]:
    return list(session.scalars(select(Document).where(Document.kb_id == kb.id).order_by(Document.source)))


def document_hash(session: Session, kb_id: str, source: str) -> str | None:
    return session.scalar(
        select(Document.content_hash).where(
            Document.kb_id == kb_id, Document.source == source, Document.status == "ready"
        )
    )


def _bump(session: Session, kb_id: str, dimensions: int | None = None) -> None:
    values: dict[str, Any] = {"revision": KnowledgeBase.revision + 1, "updated_at": utcnow()}
    if dimensions is not None:
        values["dimensions"] = dimensions
    session.execute(update(KnowledgeBase).where(KnowledgeBase.id == kb_id).values(**values))


@dataclass
class NewChunk:
    text: str
    metadata: dict[str, Any]
    embedding: bytes


def replace_document(
    session: Session,
    kb_id: str,
    source: str,
    title: str,
    content_hash: str,
    chunks: list[NewChunk],
    dimensions: int,
    store: Any = None,
) -> Document:
    """Swap a document's chunks in one transaction: searches see the old or the new chunks, never half."""
    try:
        document = session.scalar(select(Document).where(Document.kb_id == kb_id, Document.source == source))
        if document is None:
            document = Document(id=new_id("doc"), kb_id=kb_id, source=source)
            session.add(document)
        else:
            session.execute(delete(Chunk).where(Chunk.document_id == document.id))
        document.title, document.content_hash, document.chunk_count = title[:500], content_hash, len(chunks)
        document.status, document.error, document.updated_at = "ready", None, utcnow()
        session.flush()
        rows = [
            Chunk(
                id=new_id("chk"),
                kb_id=kb_id,
                document_id=document.id,
                position=position,
                text=chunk.text,
                chunk_metadata=chunk.metadata,
                embedding=chunk.embedding,
            )
            for position, chunk in enumerate(chunks)
        ]
        session.add_all(rows)
        if store is not None:  # a keel.knowledge.stores.VectorStore
            session.flush()
            store.write(session, kb_id, [(row.id, row.embedding) for row in rows], dimensions)
        _bump(session, kb_id, dimensions)
        session.commit()
    except Exception:
        session.rollback()
        raise
    return document


def record_failure(session: Session, kb_id: str, source: str, error: str) -> None:
    """A document that could not be ingested: a new one is listed as failed; an old one keeps its chunks."""
    document = session.scalar(select(Document).where(Document.kb_id == kb_id, Document.source == source))
    if document is None:
        session.add(
            Document(
                id=new_id("doc"),
                kb_id=kb_id,
                source=source,
                content_hash="",
                status="failed",
                error=error[:2000],
            )
        )
    else:
        document.error = error[:2000]
    session.commit()


def delete_document(session: Session, principal: Principal, kb: KnowledgeBase, document_id: str) -> None:
    principal.require(Role.member)
    document = session.get(Document, document_id)
    if document is None or document.kb_id != kb.id:
        raise NotFound(f"knowledge base {kb.name!r} has no document {document_id!r}")
    session.delete(document)
    _bump(session, kb.id)
    session.commit()


def delete_kb(session: Session, principal: Principal, name: str) -> None:
    principal.require(Role.admin)
    session.delete(get(session, principal, name))
    session.commit()


def index_rows(session: Session, kb_id: str) -> list[Any]:
    """Every chunk with its document's source, for building a search index."""
    query = (
        select(
            Chunk.id, Chunk.document_id, Chunk.text, Chunk.chunk_metadata, Chunk.embedding, Document.source
        )
        .join(Document, Document.id == Chunk.document_id)
        .where(Chunk.kb_id == kb_id)
        .order_by(Chunk.document_id, Chunk.position)
    )
    return list(session.execute(query).all())

"""Knowledge API under `/api/v1/knowledge`: bases, uploads, ingestion jobs, documents, search."""

from typing import Annotated

from fastapi import APIRouter, Body, Query, Response

from keel.core.auth import Role
from keel.core.errors import InvalidInput
from keel.core.ids import new_id
from keel.jobs import service as jobs
from keel.knowledge import service
from keel.knowledge.models import KnowledgeBase
from keel.knowledge.schemas import (
    DocumentOut,
    IngestIn,
    KnowledgeBaseIn,
    KnowledgeBaseOut,
    SearchHit,
    SearchIn,
    SearchOut,
)
from keel.server.deps import PrincipalDep, RuntimeDep, SessionDep

router = APIRouter(prefix="/api/v1/knowledge", tags=["knowledge"])


def out(session: SessionDep, kb: KnowledgeBase) -> KnowledgeBaseOut:
    documents, chunks = service.counts(session, kb.id)
    return KnowledgeBaseOut(
        id=kb.id,
        name=kb.name,
        description=kb.description,
        embedding_model=kb.embedding_model,
        dimensions=kb.dimensions,
        chunking=kb.chunking,
        store=kb.store,
        documents=documents,
        chunks=chunks,
        created_at=kb.created_at,
        updated_at=kb.updated_at,
    )


@router.get("/stores")
def stores(runtime: RuntimeDep, principal: PrincipalDep) -> dict[str, list[str]]:
    """The registered vector stores (`register_vector_stores`)."""
    return {"items": list(runtime.plugins.vector_stores)}


@router.post("", status_code=201)
def create(
    body: KnowledgeBaseIn, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> KnowledgeBaseOut:
    return out(session, service.create(session, principal, body, runtime.plugins.vector_stores))


@router.get("")
def list_all(session: SessionDep, principal: PrincipalDep) -> dict[str, list[KnowledgeBaseOut]]:
    return {"items": [out(session, kb) for kb in service.list_all(session, principal)]}


@router.get("/{name}")
def get(name: str, session: SessionDep, principal: PrincipalDep) -> KnowledgeBaseOut:
    return out(session, service.get(session, principal, name))


@router.delete("/{name}", status_code=204)
def delete(name: str, session: SessionDep, principal: PrincipalDep) -> Response:
    service.delete_kb(session, principal, name)
    return Response(status_code=204)


@router.post("/{name}/uploads", status_code=201)
def upload(
    name: str,
    filename: Annotated[str, Query(min_length=1, max_length=500)],
    runtime: RuntimeDep,
    session: SessionDep,
    principal: PrincipalDep,
    content: Annotated[bytes, Body(media_type="application/octet-stream")] = b"",
) -> dict[str, str]:
    """Store a file for ingestion (the body is the file); its name picks the loader and labels results."""
    principal.require(Role.member)
    service.get(session, principal, name)
    clean = filename.replace("\\", "/").rsplit("/", 1)[-1]
    if not clean or clean in (".", ".."):
        raise InvalidInput("filename must name a file", param="filename")
    upload_id = new_id("upl")
    runtime.service("knowledge").save_upload(upload_id, content)
    return {"id": upload_id, "name": clean}


@router.post("/{name}/ingest", status_code=202)
def ingest(name: str, body: IngestIn, session: SessionDep, principal: PrincipalDep) -> dict[str, str]:
    """Start an ingestion job for uploads and URLs; follow it at /api/v1/jobs/{job_id}."""
    kb = service.get(session, principal, name)
    if not body.uploads and not body.urls:
        raise InvalidInput("give uploads (ids from .../uploads) or urls")
    uploads = [u.model_dump() for u in body.uploads]
    params = {"kb_id": kb.id, "uploads": uploads, "urls": body.urls, "author": principal.key_id}
    job = jobs.submit(session, principal, "knowledge.ingest", params)
    return {"job_id": job.id}


@router.get("/{name}/documents")
def documents(name: str, session: SessionDep, principal: PrincipalDep) -> dict[str, list[DocumentOut]]:
    kb = service.get(session, principal, name)
    return {
        "items": [
            DocumentOut(
                id=d.id,
                source=d.source,
                title=d.title,
                content_hash=d.content_hash,
                chunk_count=d.chunk_count,
                status=d.status,
                error=d.error,
                updated_at=d.updated_at,
            )
            for d in service.documents(session, kb)
        ]
    }


@router.delete("/{name}/documents/{document_id}", status_code=204)
def delete_document(name: str, document_id: str, session: SessionDep, principal: PrincipalDep) -> Response:
    service.delete_document(session, principal, service.get(session, principal, name), document_id)
    return Response(status_code=204)


@router.post("/{name}/search")
def search(
    name: str, body: SearchIn, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> SearchOut:
    kb = service.get(session, principal, name)
    hits = runtime.service("knowledge").search(
        principal, kb, body.query, body.top_k, body.mode, body.filter, body.mmr
    )
    return SearchOut(items=[SearchHit(**hit) for hit in hits])

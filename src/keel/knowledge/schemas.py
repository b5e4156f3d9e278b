"""Knowledge base request and response bodies."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

KB_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class Chunking(BaseModel):
    model_config = ConfigDict(extra="forbid")

    mode: Literal["structure", "tokens"] = Field(
        default="structure", description="Headings/paragraphs, or a token window."
    )
    max_tokens: int = Field(default=256, ge=16, le=4096)
    overlap: int = Field(default=32, ge=0, le=1024)


class KnowledgeBaseIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, pattern=KB_NAME)
    description: str = Field(default="", max_length=2000)
    embedding_model: str = Field(
        default="local/all-minilm-l6-v2", description="Any gateway embeddings model."
    )
    chunking: Chunking = Field(default_factory=Chunking)
    store: str = Field(default="flat", description="Vector store (GET /api/v1/knowledge/stores).")


class KnowledgeBaseOut(BaseModel):
    id: str
    name: str
    description: str
    embedding_model: str
    dimensions: int | None
    chunking: dict[str, Any]
    store: str
    documents: int
    chunks: int
    created_at: datetime
    updated_at: datetime


class UploadRef(BaseModel):
    model_config = ConfigDict(extra="forbid")

    id: str = Field(pattern=r"^upl_[0-9A-Za-z]{10,40}$", description="An id from POST .../uploads.")
    name: str = Field(min_length=1, max_length=500, description="The file name (picks the loader).")


class IngestIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    uploads: list[UploadRef] = Field(default_factory=list, max_length=10_000)
    urls: list[str] = Field(default_factory=list, max_length=1000)


class DocumentOut(BaseModel):
    id: str
    source: str
    title: str
    content_hash: str
    chunk_count: int
    status: str
    error: str | None
    updated_at: datetime


class SearchIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    query: str = Field(min_length=1, max_length=10_000)
    top_k: int = Field(default=5, ge=1, le=100)
    mode: Literal["vector", "keyword", "hybrid"] = "hybrid"
    filter: dict[str, Any] = Field(default_factory=dict, description="source, document_id, or metadata keys.")
    mmr: float | None = Field(default=None, ge=0, le=1, description="MMR diversity λ (1 = relevance only).")


class SearchHit(BaseModel):
    text: str
    score: float
    source: str
    document_id: str
    chunk_id: str
    metadata: dict[str, Any]


class SearchOut(BaseModel):
    items: list[SearchHit]

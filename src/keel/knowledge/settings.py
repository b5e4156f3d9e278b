"""Knowledge base settings."""

from pydantic import BaseModel, Field


class KnowledgeSettings(BaseModel):
    knowledge_allow_private_urls: bool = Field(
        default=False,
        description="Let URL ingestion reach private, loopback and link-local addresses (off: no SSRF).",
    )
    knowledge_url_allowlist: str = Field(
        default="",
        description="Comma-separated hosts URL ingestion may fetch (and subdomains); empty: any public host.",
    )
    knowledge_max_document_bytes: int = Field(
        default=50 * 1024 * 1024,
        ge=1024,
        description="Largest file or page ingested (and largest unpacked zip).",
    )
    knowledge_fetch_timeout_seconds: float = Field(default=20.0, gt=0, description="Timeout per URL fetched.")

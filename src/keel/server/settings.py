"""Server settings: socket, bootstrap key, logging and request limits."""

from typing import Literal

from pydantic import BaseModel, Field, SecretStr


class ServerSettings(BaseModel):
    host: str = Field(default="127.0.0.1", description="Interface `keel serve` binds to.")
    port: int = Field(default=4141, ge=1, le=65535, description="Port `keel serve` listens on.")
    admin_key: SecretStr | None = Field(
        default=None,
        description="Bootstrap instance-admin API key. Unset: one is generated on first start, printed once "
        "and written to <data_dir>/admin.key (mode 0600).",
    )
    secret_key: SecretStr | None = Field(
        default=None,
        description="Fernet key that encrypts provider credentials at rest. Unset: generated once into "
        "<data_dir>/secret.key (mode 0600). Replicas sharing a database must share it.",
    )
    auth_cache_seconds: float = Field(
        default=5.0,
        ge=0,
        description="How long an authenticated key is trusted without a lookup; a revocation made on another "
        "replica takes effect within this. 0 disables the cache.",
    )
    log_format: Literal["text", "json"] = Field(
        default="text", description="`json` writes one JSON object per log line (with request_id)."
    )
    log_level: Literal["debug", "info", "warning", "error"] = Field(default="info", description="Log level.")
    max_request_bytes: int = Field(
        default=10 * 1024 * 1024, ge=1024, description="Largest request body accepted; larger gets 413."
    )
    shutdown_grace_seconds: float = Field(
        default=10.0, ge=0, description="On SIGTERM, seconds to let in-flight requests and jobs finish."
    )

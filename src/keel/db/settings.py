"""Store settings: where the data directory is and which database holds the metadata and traces."""

from pathlib import Path

from pydantic import BaseModel, Field


class StoreSettings(BaseModel):
    data_dir: Path = Field(
        default=Path(".keel"),
        description="Directory for the SQLite database, the generated admin key and local artefacts.",
    )
    database_url: str | None = Field(
        default=None,
        description="SQLAlchemy URL of the store. Unset: sqlite:///<data_dir>/keel.db. "
        "PostgreSQL: postgresql+psycopg://user:pass@host:5432/db.",
    )
    db_pool_size: int = Field(default=10, ge=1, le=200, description="Connections kept open per process.")
    db_connect_timeout: float = Field(
        default=5.0, gt=0, description="Seconds to wait for the database before startup fails."
    )

"""Datasets: versioned collections of items. Versions are snapshots without copies.

Every change (add, edit, delete, split) makes a new version. An item row is valid from the version that added
it until the version that removed it (`removed_in`, exclusive), so version N is the rows with
`added_in <= N < removed_in`; editing an item closes its row and adds a new one with the same `item_key`.
Experiments pin a version and always see the same items.
"""

from datetime import datetime
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from keel.core.clock import utcnow
from keel.db.base import Base, JSONType


class Dataset(Base):
    __tablename__ = "datasets"
    __table_args__ = (UniqueConstraint("project_id", "name", name="uq_datasets_project_name"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    project_id: Mapped[str] = mapped_column(ForeignKey("projects.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    description: Mapped[str] = mapped_column(Text, default="")
    latest_version: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class DatasetVersion(Base):
    __tablename__ = "dataset_versions"

    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"), primary_key=True)
    version: Mapped[int] = mapped_column(primary_key=True)
    message: Mapped[str] = mapped_column(Text, default="")
    item_count: Mapped[int]
    author: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)


class DatasetItem(Base):
    __tablename__ = "dataset_items"
    __table_args__ = (Index("ix_dataset_items_dataset_versions", "dataset_id", "added_in", "removed_in"),)

    id: Mapped[str] = mapped_column(String(32), primary_key=True)
    dataset_id: Mapped[str] = mapped_column(ForeignKey("datasets.id", ondelete="CASCADE"))
    item_key: Mapped[str] = mapped_column(String(32), index=True)
    input: Mapped[Any] = mapped_column(JSONType)
    expected: Mapped[Any | None] = mapped_column(JSONType)
    item_metadata: Mapped[dict[str, Any]] = mapped_column("metadata", JSONType)
    split: Mapped[str | None] = mapped_column(String(32))
    source_trace_id: Mapped[str | None] = mapped_column(String(64))
    added_in: Mapped[int]
    removed_in: Mapped[int | None]

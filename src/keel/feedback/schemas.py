"""Feedback bodies."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class FeedbackIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trace_id: str | None = Field(default=None, pattern=r"^[0-9a-fA-F]{32}$", description="A trace's hex id.")
    experiment_id: str | None = None
    item_key: str | None = None
    name: str = Field(min_length=1, max_length=100, pattern=NAME, description="e.g. thumbs, correctness")
    value: float | None = Field(default=None, description="A score (1/0 for thumbs up/down).")
    label: str | None = Field(
        default=None, max_length=200, description="A category instead of, or with, a score."
    )
    comment: str | None = Field(default=None, max_length=10_000)
    source: str = Field(default="api", max_length=32, description="api, sdk, ui, annotation, online-eval ...")

    @model_validator(mode="after")
    def _target(self) -> "FeedbackIn":
        on_item = self.experiment_id is not None or self.item_key is not None
        if (self.trace_id is None) == (not on_item):
            raise ValueError("give either trace_id, or experiment_id with item_key")
        if on_item and (self.experiment_id is None or self.item_key is None):
            raise ValueError("feedback on an experiment item needs both experiment_id and item_key")
        if self.value is None and self.label is None and self.comment is None:
            raise ValueError("give a value, a label or a comment")
        return self


class FeedbackOut(BaseModel):
    id: str
    trace_id: str | None
    experiment_id: str | None
    item_key: str | None
    name: str
    value: float | None
    label: str | None
    comment: str | None
    author: str
    source: str
    created_at: datetime


class FeedbackList(BaseModel):
    items: list[FeedbackOut]
    next_cursor: str | None


class FeedbackGroup(BaseModel):
    group: str | None
    name: str
    n: int
    mean: float | None
    labels: dict[str, int]


class FeedbackSummary(BaseModel):
    group_by: str
    items: list[FeedbackGroup]
    extra: dict[str, Any] = Field(default_factory=dict)


class QueueIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, pattern=NAME)
    description: str = Field(default="", max_length=2000)
    score_names: list[str] = Field(
        min_length=1, max_length=20, description="What reviewers score, e.g. correctness."
    )
    reviews_per_item: int = Field(
        default=1, ge=1, le=10, description="Reviews an item needs; >1 measures agreement."
    )


class QueueItemsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trace_ids: list[str] = Field(default_factory=list, max_length=10_000)
    experiment_id: str | None = None
    item_keys: list[str] = Field(default_factory=list, max_length=10_000)
    assignee: str | None = Field(default=None, description="A key id; unassigned items go to anyone.")

    @model_validator(mode="after")
    def _some(self) -> "QueueItemsIn":
        if not self.trace_ids and not (self.experiment_id and self.item_keys):
            raise ValueError("give trace_ids, or experiment_id with item_keys")
        return self


class ReviewIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    scores: dict[str, float] = Field(default_factory=dict)
    label: str | None = Field(default=None, max_length=200)
    comment: str | None = Field(default=None, max_length=10_000)
    skip: bool = Field(default=False, description="Pass on this item (it goes to someone else).")


class QueueItemOut(BaseModel):
    id: str
    trace_id: str | None
    experiment_id: str | None
    item_key: str | None
    assignee: str | None
    status: str
    reviews: int
    input: Any = None
    output: Any = None
    expected: Any = None


class QueueOut(BaseModel):
    id: str
    name: str
    description: str
    score_names: list[str]
    reviews_per_item: int
    total: int
    done: int
    pending: int
    reviewers: dict[str, int]
    agreement: dict[str, dict[str, Any]]
    created_at: datetime

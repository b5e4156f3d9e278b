"""Dataset request and response bodies."""

from datetime import datetime
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, field_validator

from keel.tracing.schemas import TraceFilters

DATASET_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
SPLIT_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"


class ItemIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: Any = Field(description="Messages, variables (an object) or text; required.")
    expected: Any = Field(default=None, description="The reference output, if any.")
    metadata: dict[str, Any] = Field(default_factory=dict)
    split: str | None = Field(default=None, max_length=32, pattern=SPLIT_NAME)
    source_trace_id: str | None = Field(default=None, max_length=64)

    @field_validator("input")
    @classmethod
    def _present(cls, value: Any) -> Any:
        if value is None or value == "" or value == {} or value == []:
            raise ValueError("input is required and must not be empty")
        return value


class ItemEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input: Any = None
    expected: Any = None
    metadata: dict[str, Any] | None = None
    split: str | None = Field(default=None, max_length=32, pattern=SPLIT_NAME)


class DatasetCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, pattern=DATASET_NAME)
    description: str = Field(default="", max_length=2000)
    items: list[ItemIn] = Field(default_factory=list, max_length=100_000)


class AddItems(BaseModel):
    model_config = ConfigDict(extra="forbid")

    items: list[ItemIn] = Field(min_length=1, max_length=100_000)
    message: str = Field(default="", max_length=2000)


class SplitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    test_fraction: float = Field(gt=0, lt=1, description="Share of items put in `test`; the rest in `train`.")
    seed: int = 0
    message: str = Field(default="", max_length=2000)


class FromTraces(BaseModel):
    model_config = ConfigDict(extra="forbid")

    trace_ids: list[str] = Field(min_length=1, max_length=10_000)
    output_as_expected: bool = Field(default=True, description="Use each trace's output as `expected`.")
    split: str | None = Field(default=None, max_length=32, pattern=SPLIT_NAME)
    message: str = Field(default="", max_length=2000)


class ItemOut(BaseModel):
    id: str
    item_key: str
    input: Any
    expected: Any
    metadata: dict[str, Any]
    split: str | None
    source_trace_id: str | None


class ItemList(BaseModel):
    items: list[ItemOut]
    next_cursor: str | None
    version: int


class DatasetOut(BaseModel):
    id: str
    name: str
    description: str
    latest_version: int
    item_count: int
    created_at: datetime
    updated_at: datetime


class DatasetList(BaseModel):
    items: list[DatasetOut]
    next_cursor: str | None


class VersionOut(BaseModel):
    version: int
    message: str
    item_count: int
    author: str
    created_at: datetime


class VersionList(BaseModel):
    items: list[VersionOut]


class ImportResult(BaseModel):
    dataset: str
    version: int
    added: int
    skipped: list[dict[str, Any]] = Field(description="Rows left out with `skip_invalid`: line and reason.")


class ScoreThreshold(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, description="a feedback or online-eval score name")
    min: float | None = Field(default=None, description="keep traces whose mean score is at least this")
    max: float | None = Field(default=None, description="keep traces whose mean score is at most this")


class Selector(BaseModel):
    """Which production traces become dataset items: filters, score thresholds, sampling, dedup by input."""

    model_config = ConfigDict(extra="forbid")

    filters: TraceFilters = Field(default_factory=TraceFilters)
    include_errors: bool = Field(default=False, description="also traces that ended in an error")
    scores: list[ScoreThreshold] = Field(
        default_factory=list,
        max_length=10,
        description="every threshold must hold (a trace without the score fails)",
    )
    fraction: float = Field(
        default=1.0, gt=0, le=1, description="a deterministic sample (by trace id and seed)"
    )
    seed: int = 0
    max_items: int = Field(default=1000, ge=1, le=100_000, description="newest first")
    dedup: bool = Field(default=True, description="one item per distinct input, also against the dataset")
    output_as_expected: bool = True
    expected_from: str | None = Field(
        default=None,
        max_length=110,
        pattern=r"^feedback:[A-Za-z0-9._-]+$",
        description="feedback:NAME: take `expected` from the label (or comment) of the latest feedback "
        "named NAME (a reviewer's correction) instead of the output; traces without one are skipped",
    )
    split: str | None = Field(default=None, max_length=32, pattern=SPLIT_NAME)


class SelectIn(Selector):
    dry_run: bool = Field(default=False, description="count and preview; write nothing")
    message: str = Field(default="", max_length=2000)


class SelectionOut(BaseModel):
    considered: int = Field(description="traces matching the filters (up to the scan limit)")
    scored_out: int = Field(description="dropped by a score threshold")
    sampled_out: int
    duplicates: int = Field(description="inputs already selected or already in the dataset")
    no_input: int = Field(description="traces with no recorded input (or no correction, with expected_from)")
    selected: int = Field(description="items the selector picked (what a dry run would add)")
    added: int
    version: int | None = Field(
        description="the new dataset version (null on a dry run or when nothing was added)"
    )
    trace_ids: list[str] = Field(description="the selected traces (first 100)")

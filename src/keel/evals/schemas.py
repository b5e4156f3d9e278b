"""Experiment request and response bodies, and the experiment config file (`keel eval run CONFIG.yaml`)."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator


class EvaluatorSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(description="A registered evaluator (GET /api/v1/evaluators).")
    params: dict[str, Any] = Field(default_factory=dict)


class TaskSpec(BaseModel):
    """What runs on each item: a registry prompt, a model, or the caller's own code (`client`)."""

    model_config = ConfigDict(extra="forbid")

    type: Literal["prompt", "model", "client", "retrieval"]
    prompt: str | None = Field(default=None, description="NAME[@VERSION|@LABEL] for type prompt.")
    knowledge: str | None = Field(default=None, description="Knowledge base a retrieval task searches.")
    model: str | None = Field(default=None, description="Model or route; overrides the prompt's.")
    params: dict[str, Any] = Field(default_factory=dict, description="temperature, max_tokens, ...")

    @model_validator(mode="after")
    def _complete(self) -> "TaskSpec":
        if self.type == "prompt" and not self.prompt:
            raise ValueError("a prompt task needs `prompt` (NAME, NAME@VERSION or NAME@LABEL)")
        if self.type == "model" and not self.model:
            raise ValueError("a model task needs `model`")
        if self.type == "retrieval" and not self.knowledge:
            raise ValueError("a retrieval task needs `knowledge` (a knowledge base name)")
        return self


class ExperimentCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(default="", max_length=200)
    dataset: str = Field(min_length=1, description="Dataset name.")
    version: int | None = Field(default=None, ge=1, description="Dataset version (default: latest).")
    split: str | None = Field(default=None, description="Only this split (e.g. test).")
    task: TaskSpec
    evaluators: list[EvaluatorSpec] = Field(min_length=1)
    concurrency: int = Field(default=8, ge=1, le=64)

    @field_validator("evaluators", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        """`["rouge", {"name": "regex", "params": {...}}]`: bare names are allowed."""
        if isinstance(value, list):
            return [{"name": v} if isinstance(v, str) else v for v in value]
        return value


class ResultIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    item_key: str
    output: Any = None
    error: str | None = None
    latency_ms: float | None = None
    trace_id: str | None = None


class ResultsIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    results: list[ResultIn] = Field(min_length=1, max_length=1000)


class ResultOut(BaseModel):
    item_key: str
    input: Any
    expected: Any
    output: Any
    error: str | None
    scores: dict[str, float]
    score_errors: dict[str, str]
    reasons: dict[str, str]
    trace_id: str | None
    latency_ms: float | None


class ResultList(BaseModel):
    items: list[ResultOut]
    next_cursor: str | None


class ExperimentOut(BaseModel):
    id: str
    name: str
    dataset: str
    dataset_version: int
    split: str | None
    task: dict[str, Any]
    evaluators: list[dict[str, Any]]
    concurrency: int
    status: str
    job_id: str | None
    total: int
    done: int
    failed: int
    summary: dict[str, Any]
    error: str | None
    created_at: datetime
    finished_at: datetime | None


class ExperimentList(BaseModel):
    items: list[ExperimentOut]
    next_cursor: str | None


class PendingItem(BaseModel):
    item_key: str
    input: Any
    expected: Any
    metadata: dict[str, Any]


class EvaluatorOut(BaseModel):
    name: str
    description: str
    metrics: list[str]
    needs_expected: bool
    params: dict[str, str]


class Comparison(BaseModel):
    baseline: str
    experiments: list[str]
    metrics: dict[str, dict[str, Any]] = Field(description="metric → experiment id → paired comparison")
    items: list[dict[str, Any]]


class OnlineRuleIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    filter: dict[str, Any] = Field(
        default_factory=dict,
        description="Trace filters: name, model, route, prompt_version, status, tag, user.",
    )
    sample_rate: float = Field(default=1.0, gt=0, le=1, description="Share of matching traces evaluated.")
    evaluators: list[EvaluatorSpec] = Field(min_length=1)
    enabled: bool = True

    @field_validator("evaluators", mode="before")
    @classmethod
    def _names(cls, value: Any) -> Any:
        if isinstance(value, list):
            return [{"name": v} if isinstance(v, str) else v for v in value]
        return value


class OnlineRuleOut(BaseModel):
    id: str
    name: str
    filter: dict[str, Any]
    sample_rate: float
    evaluators: list[dict[str, Any]]
    enabled: bool
    evaluated: int
    created_at: datetime

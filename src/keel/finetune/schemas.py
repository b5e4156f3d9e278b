"""Fine-tune configs, runs, metrics and registry bodies. `FineTuneCreate` is also the YAML `keel finetune
start` reads, so its defaults are the ones a user gets from a five-line config."""

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

MODEL_NAME = r"^[A-Za-z0-9][A-Za-z0-9._-]*$"
ALIAS_NAME = r"^[A-Za-z][A-Za-z0-9._-]*$"


class LoraParams(BaseModel):
    model_config = ConfigDict(extra="forbid")

    r: int = Field(default=8, ge=1, le=512, description="LoRA rank.")
    alpha: int = Field(default=16, ge=1, le=4096, description="LoRA alpha (scale = alpha / r).")
    dropout: float = Field(default=0.05, ge=0, lt=1)
    target_modules: list[str] = Field(default_factory=lambda: ["q_proj", "v_proj"], min_length=1)
    lr: float = Field(default=1e-3, gt=0, description="Peak learning rate.")
    epochs: float = Field(default=1.0, gt=0, le=100)
    max_steps: int | None = Field(default=None, ge=1, le=1_000_000, description="Overrides epochs.")
    batch_size: int = Field(default=4, ge=1, le=1024)
    gradient_accumulation_steps: int = Field(default=1, ge=1, le=1024)
    warmup_steps: int = Field(default=0, ge=0)
    weight_decay: float = Field(default=0.0, ge=0, le=1)
    lr_scheduler: Literal["linear", "cosine", "constant", "constant_with_warmup"] = "linear"
    max_length: int = Field(default=512, ge=16, le=131072, description="Tokens per example.")
    truncate: bool = Field(default=False, description="Cut longer examples instead of failing the job.")
    eval_steps: int = Field(default=10, ge=1)
    save_steps: int = Field(default=10, ge=1, description="Checkpoint every N steps (resume point).")


class EvaluateSpec(BaseModel):
    model_config = ConfigDict(extra="forbid")

    evaluators: list[Any] = Field(default_factory=lambda: ["exact_match", "contains", "rouge"], min_length=1)
    against: str | None = Field(
        default=None, description="Model to compare with; default: the `champion` alias, else the base model."
    )
    concurrency: int = Field(default=2, ge=1, le=64)
    max_tokens: int = Field(default=128, ge=1, le=4096)


class FineTuneCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(default="", max_length=200)
    base_model: str = Field(
        default="local/smollm2-135m-instruct",
        min_length=1,
        max_length=500,
        description="`local/smollm2-135m-instruct`, or a folder with a Hugging Face causal LM under "
        "KEEL_FINETUNE_MODEL_ROOTS.",
    )
    dataset: str = Field(min_length=1, description="`name` or `name@version`.")
    method: Literal["lora", "qlora"] = "lora"
    params: LoraParams = Field(default_factory=LoraParams)
    seed: int = Field(default=0, ge=0)
    train_split: str | None = Field(
        default=None, description="Default: `train` if the dataset has it, else all."
    )
    eval_split: str | None = Field(
        default=None,
        description="Held-out split for eval loss and the evaluation (default: `test` if present).",
    )
    register_as: str | None = Field(default=None, max_length=200, pattern=MODEL_NAME)
    evaluate: EvaluateSpec | bool = Field(
        default=True,
        description="After registering, compare the new version with the champion on eval_split.",
    )

    @field_validator("dataset")
    @classmethod
    def _dataset_ref(cls, value: str) -> str:
        name, at, version = value.partition("@")
        if not name or (at and not version.isdigit()):
            raise ValueError("dataset must be `name` or `name@version` (a number)")
        return value

    @model_validator(mode="after")
    def _splits_differ(self) -> "FineTuneCreate":
        if self.train_split and self.train_split == self.eval_split:
            raise ValueError("train_split and eval_split must differ")
        return self


class RunOut(BaseModel):
    id: str
    name: str
    job_id: str | None
    status: str
    progress: float
    progress_message: str | None
    error: str | None
    base_model: str
    dataset: str
    dataset_version: int
    method: str
    params: dict[str, Any]
    register_as: str | None
    system: dict[str, Any]
    summary: dict[str, Any]
    model_version: str | None
    created_at: datetime


class MetricOut(BaseModel):
    kind: str
    step: int
    values: dict[str, Any]
    at: datetime


class ModelCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, pattern=MODEL_NAME)
    description: str = Field(default="", max_length=10_000)


class VersionOut(BaseModel):
    id: str
    model: str
    version: int
    kind: str
    base_model: str
    aliases: list[str]
    run_id: str | None
    lineage: dict[str, Any]
    metrics: dict[str, Any]
    evaluations: list[Any]
    notes: str
    status: str = Field(default="ready", description="ready, or rejected (by a canary, with the reason)")
    status_reason: str | None = None
    author: str
    created_at: datetime


class ModelOut(BaseModel):
    id: str
    name: str
    description: str
    latest_version: int
    aliases: dict[str, int]
    created_at: datetime
    updated_at: datetime


class AliasIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    version: int = Field(ge=1)


class VersionEdit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    notes: str = Field(max_length=100_000, description="Stage notes: why this version, what was checked.")


class ExportIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    format: Literal["adapter", "merged"] = "merged"

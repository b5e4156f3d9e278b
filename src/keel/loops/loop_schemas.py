"""A closed loop as the API and `keel apply` write it, and its runs as they read.

selector → dataset version (split) → fine-tune → evaluation gate against the champion → canary on a route →
promoted or rolled back; triggered by a cron schedule, by enough new selected traces, or by hand.
"""

from datetime import datetime
from typing import Any, Literal

from croniter import croniter
from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from keel.datasets.schemas import DATASET_NAME, Selector
from keel.finetune.schemas import FineTuneCreate
from keel.gateway.canary_schemas import CanaryPlan


class GateIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    require: Literal["not_worse", "better"] = Field(
        default="not_worse",
        description="not_worse: no gate metric significantly worse than the champion; better: and one better",
    )
    metrics: list[str] | None = Field(default=None, description="the gate metrics that count (default all)")


class LoopCanary(CanaryPlan):
    route: str = Field(min_length=1, max_length=200, description="the route whose targets are the baseline")


class TriggerIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    schedule: str | None = Field(default=None, max_length=100, description="a cron expression (UTC)")
    min_new_traces: int | None = Field(
        default=None, ge=1, le=10_000_000, description="run once the selector finds this many new traces"
    )

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str | None) -> str | None:
        if value is not None and not croniter.is_valid(value):
            raise ValueError(f"{value!r} is not a cron expression (e.g. '0 3 * * *')")
        return value


class LoopIn(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100, pattern=r"^[A-Za-z0-9][A-Za-z0-9._-]*$")
    description: str = Field(default="", max_length=2000)
    dataset: str = Field(
        min_length=1, max_length=200, pattern=DATASET_NAME, description="written by the selector"
    )
    selector: Selector = Field(default_factory=Selector)
    test_fraction: float = Field(default=0.2, ge=0, lt=1, description="held out for the gate (0: no split)")
    finetune: dict[str, Any] = Field(description="a fine-tune config (keel finetune start) without `dataset`")
    gate: GateIn = Field(default_factory=GateIn)
    canary: LoopCanary | None = Field(
        default=None, description="unset: stop once the candidate passes the gate"
    )
    trigger: TriggerIn = Field(default_factory=TriggerIn)
    enabled: bool = True

    @model_validator(mode="after")
    def _finetune(self) -> "LoopIn":
        if "dataset" in self.finetune:
            raise ValueError("finetune.dataset is set by the loop (each run trains on its new version)")
        config = FineTuneCreate.model_validate({**self.finetune, "dataset": self.dataset})
        if not config.register_as:
            raise ValueError("finetune.register_as is required: each run registers its candidate there")
        if config.evaluate is False:
            raise ValueError("finetune.evaluate must not be false: the gate reads its comparison")
        return self

    def finetune_config(self, version: int) -> FineTuneCreate:
        return FineTuneCreate.model_validate({**self.finetune, "dataset": f"{self.dataset}@{version}"})


class LoopOut(LoopIn):
    id: str
    next_run_at: datetime | None
    last_run: dict[str, Any] | None
    created_at: datetime
    updated_at: datetime


class LoopRunOut(BaseModel):
    id: str
    loop: str
    number: int
    trigger: str
    stage: str = Field(description="select, finetune, gate, canary or done")
    status: str = Field(description="running, succeeded, rejected, rolled_back, skipped, failed or cancelled")
    reason: str
    dataset: str
    dataset_version: int | None
    finetune_run_id: str | None
    model_version: str | None
    experiments: dict[str, Any]
    route: str | None
    canary_id: str | None
    log: list[dict[str, Any]]
    started_at: datetime
    finished_at: datetime | None

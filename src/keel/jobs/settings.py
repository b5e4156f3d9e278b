"""Background job settings: the local worker's pace and how a lost job is recovered."""

from pydantic import BaseModel, Field


class JobSettings(BaseModel):
    worker_enabled: bool = Field(default=True, description="Run the local job worker inside `keel serve`.")
    worker_threads: int = Field(default=1, ge=1, le=32, description="Jobs the local worker runs at once.")
    job_poll_seconds: float = Field(default=0.5, gt=0, description="How often an idle worker looks for work.")
    job_heartbeat_seconds: float = Field(
        default=5.0, gt=0, description="How often a running job proves its worker is alive."
    )
    job_stale_seconds: float = Field(
        default=30.0, gt=0, description="A running job without a heartbeat this long is treated as lost."
    )
    job_max_attempts: int = Field(
        default=3, ge=1, description="Attempts before a job lost to crashes is marked failed."
    )

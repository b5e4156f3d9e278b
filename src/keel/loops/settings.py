"""Closed-loop settings: how often running canaries are looked at."""

from pydantic import BaseModel, Field


class LoopSettings(BaseModel):
    canary_tick_seconds: float = Field(
        default=5.0,
        ge=0.1,
        le=600,
        description="How often each running canary is judged (on one replica: the leader). A failing "
        "canary is rolled back at the first look after it has `min_calls`; a step passes only after its "
        "`interval`.",
    )

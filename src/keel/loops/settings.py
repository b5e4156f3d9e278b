"""Closed-loop settings: how often running canaries are judged and loop runs moved on."""

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
    loop_tick_seconds: float = Field(
        default=10.0,
        ge=0.1,
        le=3600,
        description="How often running loop runs move to their next stage and loop triggers are checked "
        "(on one replica: the leader).",
    )

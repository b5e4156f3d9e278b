"""Gateway settings: the circuit breaker's defaults and the budget leases."""

from pydantic import BaseModel, Field


class GatewaySettings(BaseModel):
    circuit_failures: int = Field(
        default=3,
        ge=1,
        le=100,
        description="Consecutive failed attempts (connection errors, timeouts, 429, 5xx) that open a route "
        "target's circuit, so calls skip it; a route's own `circuit` overrides this.",
    )
    circuit_cooldown_seconds: float = Field(
        default=30.0,
        gt=0,
        le=3600,
        description="How long an open circuit skips its target before one call probes it again.",
    )
    budget_lease_fraction: float = Field(
        default=0.02,
        gt=0,
        le=1,
        description="Share of a budget's limit a process reserves from the store at once, then admits calls "
        "against in memory; a crash leaves at most this much reserved (refusing, never overspending).",
    )

"""Provider request and response bodies. Secrets go in, never come out."""

from datetime import datetime
from decimal import Decimal
from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator

from keel.gateway.canary_schemas import CanaryIn
from keel.projects.schemas import NAME_PATTERN


class ProviderOptions(BaseModel):
    model_config = ConfigDict(extra="forbid")

    timeout_s: float = Field(default=60.0, gt=0, le=3600, description="Per-attempt timeout.")
    headers: dict[str, str] = Field(default_factory=dict, description="Extra headers sent upstream.")

    @field_validator("headers")
    @classmethod
    def _no_auth_header(cls, headers: dict[str, str]) -> dict[str, str]:
        if any(name.lower() in ("authorization", "x-api-key", "api-key") for name in headers):
            raise ValueError("put credentials in api_key (stored encrypted), not in headers")
        return headers


class ProviderCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=100, pattern=NAME_PATTERN)
    kind: str = Field(description="A registered provider kind, e.g. openai, anthropic.")
    base_url: str | None = Field(default=None, max_length=500)
    api_key: SecretStr | None = None
    options: ProviderOptions = Field(default_factory=ProviderOptions)


class ProviderUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    base_url: str | None = Field(default=None, max_length=500)
    api_key: SecretStr | None = Field(default=None, description="A new key; an empty string removes it.")
    options: ProviderOptions | None = None


class ProviderOut(BaseModel):
    model_config = ConfigDict(from_attributes=True)

    id: str
    name: str
    kind: str
    base_url: str | None
    has_api_key: bool
    options: dict[str, Any]
    created_at: datetime
    updated_at: datetime


class ProviderList(BaseModel):
    items: list[ProviderOut]
    next_cursor: str | None


class ProviderKindOut(BaseModel):
    name: str
    description: str
    default_base_url: str | None
    needs_api_key: bool


class Target(BaseModel):
    model_config = ConfigDict(extra="forbid")

    provider: str = Field(min_length=1, max_length=100, description="Provider name in this project.")
    model: str = Field(min_length=1, max_length=200, description="The provider's model id.")
    weight: float = Field(default=1.0, ge=0, description="Share of traffic among targets.")
    variant: str | None = Field(default=None, max_length=100, description="Label on traces; default model.")


class CircuitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    failures: int = Field(default=3, ge=1, le=100, description="Consecutive failed attempts that open it.")
    cooldown_s: float = Field(
        default=30, gt=0, le=3600, description="Seconds an open circuit skips its target."
    )


class RouteCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    name: str = Field(min_length=1, max_length=200, pattern=r"^[A-Za-z0-9][A-Za-z0-9._:/-]*$")
    targets: list[Target] = Field(min_length=1, max_length=20)
    fallbacks: list[Target] = Field(default_factory=list, max_length=20)
    sticky: Literal["none", "user", "session"] = Field(
        default="none", description="Keep one user or session on one target (by the request's `user`)."
    )
    retries: int = Field(default=1, ge=0, le=5, description="Extra attempts per target on retryable errors.")
    cache_ttl_s: int | None = Field(
        default=None,
        ge=1,
        le=30 * 86400,
        description="Serve identical non-streaming requests from an exact-match cache for this long.",
    )
    guardrails: str | None = Field(
        default=None,
        max_length=100,
        description="The guardrail policy this route applies (POST /api/v1/guardrails); unset: none.",
    )
    circuit: CircuitIn | None = Field(
        default=None,
        description="Circuit breaker of each target; unset: KEEL_CIRCUIT_FAILURES and "
        "KEEL_CIRCUIT_COOLDOWN_SECONDS.",
    )
    canary: CanaryIn | None = Field(
        default=None,
        description="A canary release of a candidate target against this route's targets, judged step by "
        "step (GET /api/v1/routes/{name}/canary). Re-applying the same canary changes nothing.",
    )


class TargetHealth(BaseModel):
    provider: str
    model: str
    state: Literal["closed", "open", "half_open"]
    consecutive_failures: int
    retry_in_s: float | None = Field(description="Seconds until an open circuit lets one call probe it.")
    last_error: str | None
    opened_times: int = Field(description="How often this process opened the circuit.")


class RouteOut(RouteCreate):
    id: str
    canary_state: str | None = Field(
        default=None, description="running, paused, promoted or rolled_back; null without a canary"
    )
    canary_weight: int | None = Field(default=None, description="the candidate's traffic share now (%)")
    health: list[TargetHealth] = Field(
        default_factory=list, description="Each target's circuit in the process that answered."
    )
    created_at: datetime
    updated_at: datetime


class RouteList(BaseModel):
    items: list[RouteOut]
    next_cursor: str | None


Usd = Annotated[Decimal, Field(ge=0, le=100_000, max_digits=14, decimal_places=6)]


class PriceIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    input_usd_per_mtok: Usd = Field(description="USD per million prompt tokens.")
    output_usd_per_mtok: Usd = Field(description="USD per million completion (and reasoning) tokens.")
    cached_input_usd_per_mtok: Usd | None = Field(default=None, description="USD per million cached tokens.")


class PriceOut(PriceIn):
    model: str
    updated_at: datetime


class PriceList(BaseModel):
    items: list[PriceOut]


class LimitIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    usd_per_day: Usd | None = Field(default=None, description="Budget per UTC day; unset means none.")
    usd_per_month: Usd | None = Field(default=None, description="Budget per UTC calendar month.")
    requests_per_minute: int | None = Field(default=None, ge=1, le=1_000_000)
    tokens_per_minute: int | None = Field(default=None, ge=1, le=1_000_000_000)


class LimitOut(LimitIn):
    scope: str
    spent_today_usd: Decimal | None = Field(
        description="Spend counted against `usd_per_day` today; null when no daily budget is set."
    )
    spent_this_month_usd: Decimal | None = Field(
        description="Spend counted against `usd_per_month` this month; null when no monthly budget is set."
    )


class LimitList(BaseModel):
    items: list[LimitOut]

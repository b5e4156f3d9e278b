"""Where a notification goes (a signed webhook, a Slack incoming webhook, e-mail): the shape alert rules and
canary releases both accept. Delivery lives in `keel.monitoring.channels`."""

from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator


class ChannelIn(BaseModel):
    model_config = ConfigDict(extra="forbid")

    type: Literal["webhook", "slack", "email"]
    url: str | None = Field(default=None, max_length=2000, description="webhook and slack: where to POST")
    secret: str | None = Field(
        default=None, max_length=500, description="webhook: HMAC-SHA256 key for the X-Keel-Signature header"
    )
    to: list[str] | None = Field(default=None, max_length=50, description="email: recipients")

    @model_validator(mode="after")
    def _complete(self) -> "ChannelIn":
        if self.type in ("webhook", "slack") and not self.url:
            raise ValueError(f"a {self.type} channel needs `url`")
        if self.type == "email" and not self.to:
            raise ValueError("an email channel needs `to` (a list of addresses)")
        if self.to and any("@" not in address or "\n" in address for address in self.to):
            raise ValueError("`to` must hold e-mail addresses")
        return self

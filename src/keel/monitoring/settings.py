"""Monitoring settings: who may scrape `/metrics`, how alert rules are evaluated and how they notify."""

from pydantic import BaseModel, Field, SecretStr


class MonitoringSettings(BaseModel):
    metrics_public: bool = Field(
        default=False,
        description="Serve `GET /metrics` without an API key (for a Prometheus inside a trusted network). "
        "Otherwise any key may scrape: the instance admin sees every project, a project key its own series.",
    )
    metrics_max_series: int = Field(
        default=1000,
        ge=10,
        le=1_000_000,
        description="Label sets kept per metric; past it, new routes and models are counted as `_other`.",
    )
    alert_interval_seconds: float = Field(
        default=30.0,
        ge=0.2,
        le=3600,
        description="How often the alert rules are evaluated (on one replica: the leader).",
    )
    public_url: str | None = Field(
        default=None,
        description="The address people open Keel at, for the trace links in notifications "
        "(default: http://KEEL_HOST:KEEL_PORT).",
    )
    webhook_allow_private: bool = Field(
        default=False,
        description="Let alert webhooks (and Slack URLs) point at private, loopback or link-local addresses.",
    )
    alert_delivery_attempts: int = Field(
        default=5, ge=1, le=20, description="Tries per notification before it is recorded as failed."
    )
    alert_delivery_timeout_seconds: float = Field(
        default=5.0, gt=0, le=60, description="Timeout of one webhook or SMTP delivery attempt."
    )
    smtp_host: str | None = Field(default=None, description="SMTP server for `email` alert channels.")
    smtp_port: int = Field(default=25, ge=1, le=65535, description="SMTP port.")
    smtp_username: str | None = Field(default=None, description="SMTP user (with KEEL_SMTP_PASSWORD).")
    smtp_password: SecretStr | None = Field(default=None, description="SMTP password.")
    smtp_from: str = Field(default="keel@localhost", description="Sender address of alert e-mails.")
    smtp_starttls: bool = Field(default=False, description="Upgrade the SMTP connection with STARTTLS.")

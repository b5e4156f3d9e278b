"""Root settings: one class composed of each feature's settings, read from `KEEL_*` environment variables.

Each setting is declared once, with its type, default and description, in the feature that owns it; a test
fails if one is missing from docs/settings.md.
"""

from pathlib import Path
from typing import Any

from pydantic import SecretStr, ValidationError
from pydantic_settings import BaseSettings, SettingsConfigDict

from keel.core.errors import ConfigError
from keel.db.settings import StoreSettings
from keel.evals.settings import EvalSettings
from keel.finetune.settings import FineTuneSettings
from keel.gateway.settings import GatewaySettings
from keel.jobs.settings import JobSettings
from keel.knowledge.settings import KnowledgeSettings
from keel.local.settings import LocalSettings
from keel.loops.settings import LoopSettings
from keel.monitoring.settings import MonitoringSettings
from keel.server.settings import ServerSettings
from keel.tracing.settings import TraceSettings


class Settings(
    BaseSettings,
    ServerSettings,
    StoreSettings,
    JobSettings,
    TraceSettings,
    LocalSettings,
    EvalSettings,
    KnowledgeSettings,
    FineTuneSettings,
    GatewaySettings,
    MonitoringSettings,
    LoopSettings,
):
    model_config = SettingsConfigDict(
        env_prefix="KEEL_", extra="ignore", validate_default=True, env_ignore_empty=True
    )

    @property
    def resolved_database_url(self) -> str:
        if self.database_url:
            return self.database_url
        return f"sqlite:///{(self.data_dir / 'keel.db').resolve()}"

    @property
    def admin_key_path(self) -> Path:
        return self.data_dir / "admin.key"


def load_settings(**overrides: Any) -> Settings:
    """Settings from the environment plus explicit overrides; a bad value becomes one readable ConfigError."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = [
            f"KEEL_{'_'.join(str(p) for p in err['loc']).upper()}={err.get('input')!r}: {err['msg']}"
            for err in exc.errors()
        ]
        raise ConfigError("invalid setting: " + "; ".join(problems)) from None


def masked(settings: BaseSettings) -> dict[str, Any]:
    """Effective values with secrets replaced, safe to print."""
    from keel.db.engine import redact_url

    out: dict[str, Any] = {}
    for name in type(settings).model_fields:
        value = getattr(settings, name)
        if isinstance(value, SecretStr):
            value = "********" if value.get_secret_value() else ""
        elif name.endswith("url") and isinstance(value, str):
            value = redact_url(value)
        out[name] = value
    return out

"""Client-side settings, read by the CLI and the SDK (never by the server)."""

from pydantic import Field, SecretStr
from pydantic_settings import BaseSettings, SettingsConfigDict


class ClientSettings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="KEEL_", extra="ignore", env_ignore_empty=True)

    url: str = Field(default="http://127.0.0.1:4141", description="Keel server the CLI and SDK talk to.")
    api_key: SecretStr | None = Field(default=None, description="API key the CLI and SDK send as Bearer.")
    timeout: float = Field(default=30.0, gt=0, description="Seconds the CLI and SDK wait for a response.")

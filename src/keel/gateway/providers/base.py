"""What a provider kind declares: its name, default endpoint, whether it needs a key, its options."""

from dataclasses import dataclass, field


@dataclass(frozen=True)
class ProviderKind:
    name: str
    description: str
    default_base_url: str | None = None
    needs_base_url: bool = True
    needs_api_key: bool = False
    options: frozenset[str] = field(default_factory=lambda: frozenset({"timeout_s", "headers"}))

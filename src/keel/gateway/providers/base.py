"""What a provider kind declares (name, default endpoint, key, options) and how the gateway talks to it.

An `Adapter` turns an OpenAI-shaped request into the provider's wire format and its answers back into
OpenAI's; OpenAI-compatible providers use the identity adapter, so their bytes pass through untouched.
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import orjson


class Adapter:
    """Identity adapter for OpenAI-compatible upstreams."""

    passthrough = True

    def path(self, operation: str) -> str:
        return {"chat": "/chat/completions", "embeddings": "/embeddings"}[operation]

    def auth_headers(self, api_key: str) -> dict[str, str]:
        return {"Authorization": f"Bearer {api_key}"}

    def encode(self, body: dict[str, Any], model: str, operation: str) -> bytes:
        outgoing = {**body, "model": model}
        if body.get("stream"):
            outgoing["stream_options"] = {**(body.get("stream_options") or {}), "include_usage": True}
        return orjson.dumps(outgoing)

    def decode(self, content: bytes, operation: str) -> bytes:
        return content

    def stream(self) -> "StreamTranslator":
        return StreamTranslator()


class StreamTranslator:
    """Turns one upstream SSE line into the OpenAI SSE lines to send (identity here)."""

    def feed(self, line: str) -> Iterable[str]:
        return (line,)


@dataclass(frozen=True)
class ProviderKind:
    name: str
    description: str
    default_base_url: str | None = None
    needs_base_url: bool = True
    needs_api_key: bool = False
    options: frozenset[str] = field(default_factory=lambda: frozenset({"timeout_s", "headers"}))
    adapter: Adapter = field(default_factory=Adapter, compare=False)

"""Anthropic's Messages API (requests, responses and streams translated to and from OpenAI's shape)."""

from keel.gateway.providers.base import ProviderKind

KIND = ProviderKind(
    name="anthropic",
    description="Anthropic Messages API",
    default_base_url="https://api.anthropic.com",
    needs_base_url=False,
    needs_api_key=True,
)

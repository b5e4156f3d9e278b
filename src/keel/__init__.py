"""Keel: a self-hosted LLMOps platform. This module is the public SDK facade and only re-exports.

Names load on first use (PEP 562), so `import keel` and the CLI's start-up do not pay for the HTTP client,
the OpenTelemetry SDK and the OpenAI instrumentation until a program touches them.
"""

from importlib import import_module
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_EXPORTS = {
    "Client": ("keel.client.http", "Client"),
    "KeelAPIError": ("keel.client.http", "KeelAPIError"),
    "SpanHandle": ("keel.tracing.sdk", "SpanHandle"),
    "configure_tracing": ("keel.tracing.sdk", "configure"),
    "feedback": ("keel.client.feedback", "feedback"),
    "flush": ("keel.tracing.sdk", "flush"),
    "instrument_openai": ("keel.tracing.openai_instrument", "instrument_openai"),
    "trace": ("keel.tracing.sdk", "trace"),
    "uninstrument_openai": ("keel.tracing.openai_instrument", "uninstrument_openai"),
}

if TYPE_CHECKING:
    from keel.client.feedback import feedback
    from keel.client.http import Client, KeelAPIError
    from keel.tracing.openai_instrument import instrument_openai, uninstrument_openai
    from keel.tracing.sdk import SpanHandle, flush, trace
    from keel.tracing.sdk import configure as configure_tracing


def __getattr__(name: str) -> Any:
    try:
        module, attribute = _EXPORTS[name]
    except KeyError:
        raise AttributeError(f"module 'keel' has no attribute {name!r}") from None
    value = getattr(import_module(module), attribute)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted([*globals(), *_EXPORTS])


__all__ = [
    "Client",
    "KeelAPIError",
    "SpanHandle",
    "__version__",
    "configure_tracing",
    "feedback",
    "flush",
    "instrument_openai",
    "trace",
    "uninstrument_openai",
]

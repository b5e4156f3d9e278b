"""Keel: a self-hosted LLMOps platform. This module is the public SDK facade and only re-exports."""

__version__ = "0.1.0"

from keel.client.feedback import feedback  # noqa: E402
from keel.client.http import Client, KeelAPIError  # noqa: E402
from keel.tracing.openai_instrument import instrument_openai, uninstrument_openai  # noqa: E402
from keel.tracing.sdk import SpanHandle, flush, trace  # noqa: E402
from keel.tracing.sdk import configure as configure_tracing  # noqa: E402

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

"""Keel: a self-hosted LLMOps platform. This module is the public SDK facade and only re-exports."""

__version__ = "0.1.0"

from keel.client.http import Client, KeelAPIError  # noqa: E402

__all__ = ["Client", "KeelAPIError", "__version__"]

"""Pooled HTTP clients to upstream providers, and what counts as a retryable failure.

One `httpx.AsyncClient` per (base URL, key, headers), kept for the life of the process, so requests reuse
connections; per-attempt timeouts come from the provider's options.
"""

from typing import Any

import httpx

from keel.gateway.config import Upstream

RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504})
RETRYABLE_ERRORS = (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError)


class UpstreamPool:
    def __init__(self) -> None:
        self._clients: dict[Upstream, httpx.AsyncClient] = {}

    def client(self, upstream: Upstream) -> httpx.AsyncClient:
        client = self._clients.get(upstream)
        if client is None:
            headers = dict(upstream.headers)
            if upstream.api_key:
                headers["Authorization"] = f"Bearer {upstream.api_key}"
            client = httpx.AsyncClient(
                base_url=upstream.base_url,
                headers=headers,
                timeout=httpx.Timeout(upstream.timeout_s),
                limits=httpx.Limits(max_connections=256, max_keepalive_connections=64),
            )
            self._clients[upstream] = client
        return client

    def start(self) -> None:
        pass

    def stop(self) -> None:
        self._clients.clear()

    async def post(self, upstream: Upstream, path: str, body: bytes, stream: bool) -> httpx.Response:
        client = self.client(upstream)
        request = client.build_request(
            "POST", path, content=body, headers={"Content-Type": "application/json"}
        )
        return await client.send(request, stream=stream)


def describe(error: Any) -> str:
    if isinstance(error, httpx.TimeoutException):
        return "timed out"
    if isinstance(error, httpx.HTTPError):
        return f"{type(error).__name__}: {error}"
    return str(error)

"""Pooled HTTP clients to upstream providers (aiohttp), and what counts as a retryable failure.

One `aiohttp.ClientSession` per (base URL, key, headers) for the life of the server's event loop, so
requests reuse connections. aiohttp replaced httpx here by measurement: httpcore's pool checked every idle
connection's socket on each request, which cost more CPU than the rest of the gateway together.
"""

import asyncio
from collections.abc import AsyncIterator
from typing import Any, Protocol

import aiohttp

from keel.gateway.config import Upstream

RETRYABLE_STATUS = frozenset({408, 409, 425, 429, 500, 502, 503, 504, 529})  # 529: Anthropic overloaded
RETRYABLE_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError)
STREAM_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError)


class UpstreamReply(Protocol):
    """What the gateway needs from an upstream answer, whether over HTTP or in-process."""

    status_code: int
    content: bytes

    async def aread(self) -> bytes: ...

    def aiter_line_batches(self) -> AsyncIterator[list[str]]:
        """The stream's lines, in batches of those that arrived together (fewer writes downstream)."""
        ...

    async def aclose(self) -> None: ...


class UpstreamResponse:
    """The slice of an upstream response the gateway uses; a JSON body is read eagerly, a stream lazily."""

    def __init__(self, response: aiohttp.ClientResponse, content: bytes | None) -> None:
        self._response = response
        self.status_code = response.status
        self.content = content or b""

    async def aread(self) -> bytes:
        if not self.content:
            self.content = await self._response.read()
        return self.content

    async def aiter_line_batches(self) -> AsyncIterator[list[str]]:
        pending = b""
        async for data in self._response.content.iter_any():
            *lines, pending = (pending + data).split(b"\n")
            if lines:
                yield [line.decode().rstrip("\r") for line in lines]
        if pending:
            yield [pending.decode().rstrip("\r")]

    async def aclose(self) -> None:
        self._response.release()


class UpstreamPool:
    def __init__(self) -> None:
        self._sessions: dict[Upstream, aiohttp.ClientSession] = {}

    def session(self, upstream: Upstream) -> aiohttp.ClientSession:
        session = self._sessions.get(upstream)
        if session is None or session.closed:
            headers = dict(upstream.headers)
            if upstream.api_key:
                headers.update(upstream.adapter.auth_headers(upstream.api_key))
            connector = aiohttp.TCPConnector(limit=256, keepalive_timeout=30)
            session = aiohttp.ClientSession(
                base_url=upstream.base_url.rstrip("/") + "/", headers=headers, connector=connector
            )
            self._sessions[upstream] = session
        return session

    def start(self) -> None:
        pass

    def stop(self) -> None:
        self._sessions.clear()

    async def close(self) -> None:
        for session in self._sessions.values():
            await session.close()
        self._sessions.clear()

    async def post(self, upstream: Upstream, path: str, body: bytes, stream: bool) -> UpstreamReply:
        transport = getattr(upstream.adapter, "transport", None)
        if transport is not None:  # in-process providers (the bundled local models)
            reply: UpstreamReply = await transport.post(path, body, stream)
            return reply
        return await self._http(upstream, path, body, stream)

    async def _http(self, upstream: Upstream, path: str, body: bytes, stream: bool) -> UpstreamResponse:
        timeout = (
            aiohttp.ClientTimeout(sock_connect=upstream.timeout_s, sock_read=upstream.timeout_s)
            if stream
            else aiohttp.ClientTimeout(total=upstream.timeout_s)
        )
        response = await self.session(upstream).post(
            path.lstrip("/"), data=body, headers={"Content-Type": "application/json"}, timeout=timeout
        )
        if stream:
            return UpstreamResponse(response, None)
        try:
            return UpstreamResponse(response, await response.read())
        finally:
            response.release()


def describe(error: Any) -> str:
    if isinstance(error, asyncio.TimeoutError):
        return "timed out"
    return f"{type(error).__name__}: {error}"

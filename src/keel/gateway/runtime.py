"""The gateway service: its configuration cache and upstream connection pool, one per server process."""

import threading
from typing import Any

from keel.gateway import tokens
from keel.gateway.cache import ResponseCache
from keel.gateway.config import GatewayConfig
from keel.gateway.limits import RateWindows
from keel.gateway.providers.local import LocalAdapter, LocalTransport
from keel.gateway.upstream import UpstreamPool


class Gateway:
    def __init__(self, runtime: Any) -> None:
        self._runtime = runtime
        self._local: LocalAdapter | None = None
        self.config = GatewayConfig(
            runtime.sessions, runtime.secrets, runtime.plugins.provider_kinds, self.local_adapter
        )
        self.pool = UpstreamPool()
        self.windows = RateWindows()
        self.cache = ResponseCache()
        self.sessions = runtime.sessions

    def start(self) -> None:
        self.pool.start()
        threading.Thread(target=tokens.warm, name="keel-token-vocab", daemon=True).start()

    def stop(self) -> None:
        self.pool.stop()

    async def aclose(self) -> None:
        await self.pool.close()

    def local_adapter(self) -> LocalAdapter | None:
        """The built-in `local` provider, when the local models service runs in this process."""
        models = self._runtime.services.get("local")
        if models is None or not models.enabled:
            return None
        if self._local is None:
            self._local = LocalAdapter(LocalTransport(models))
        return self._local

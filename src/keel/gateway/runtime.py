"""The gateway service: its configuration cache and upstream connection pool, one per server process."""

from typing import Any

from keel.gateway.cache import ResponseCache
from keel.gateway.config import GatewayConfig, ProjectGateway
from keel.gateway.limits import RateWindows
from keel.gateway.upstream import UpstreamPool


class Gateway:
    def __init__(self, runtime: Any) -> None:
        self.config = GatewayConfig(runtime.sessions, runtime.secrets, runtime.plugins.provider_kinds)
        self.pool = UpstreamPool()
        self.windows = RateWindows()
        self.cache = ResponseCache()
        self.sessions = runtime.sessions

    def start(self) -> None:
        self.pool.start()

    def stop(self) -> None:
        self.pool.stop()

    async def aclose(self) -> None:
        await self.pool.close()

    def view(self, project_id: str) -> ProjectGateway | None:
        return self.config.cached(project_id)

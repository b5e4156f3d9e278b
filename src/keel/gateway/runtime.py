"""The gateway service: its configuration cache and upstream connection pool, one per server process."""

import threading
from typing import Any, Protocol

import anyio

from keel.finetune.service import VERSIONS
from keel.gateway import service, tokens
from keel.gateway.budgets import BudgetLeases
from keel.gateway.cache import ResponseCache
from keel.gateway.chat import Call
from keel.gateway.circuits import Circuits, Policy
from keel.gateway.config import REGISTERED, GatewayConfig, Upstream
from keel.gateway.limits import RateWindows
from keel.gateway.providers.local import LocalAdapter, LocalTransport, ServedAdapter
from keel.gateway.upstream import UpstreamPool


class Observer(Protocol):
    """Told about every gateway call once its books are closed (e.g. the Prometheus metrics)."""

    def called(self, call: Call) -> None: ...

    def refused(self, project_id: str | None, reason: str) -> None: ...


class Gateway:
    def __init__(self, runtime: Any) -> None:
        self._runtime = runtime
        self._local: LocalAdapter | None = None
        self.config = GatewayConfig(
            runtime.sessions,
            runtime.secrets,
            runtime.plugins.provider_kinds,
            self.local_adapter,
            self.registered_upstream,
            Policy(runtime.settings.circuit_failures, runtime.settings.circuit_cooldown_seconds),
            runtime.plugins.guardrail_checks,
        )
        self.pool = UpstreamPool()
        self.windows = RateWindows()
        self.cache = ResponseCache()
        self.circuits = Circuits()
        self.budgets = BudgetLeases(runtime.sessions, runtime.settings.budget_lease_fraction)
        self.sessions = runtime.sessions
        self.observers: list[Observer] = []
        for topic in (service.CONFIG, VERSIONS):  # providers, routes, prices, limits; registered models
            runtime.changes.subscribe(topic, lambda change: self.config.invalidate(change.project_id))
        runtime.changes.subscribe(service.ROUTE, lambda c: self.circuits.forget(c.project_id, c.key or ""))

    def start(self) -> None:
        self.pool.start()
        self._runtime.service("tracing.writer").keep_books(self.budgets.write)
        threading.Thread(target=tokens.warm, name="keel-token-vocab", daemon=True).start()

    def stop(self) -> None:
        self.pool.stop()

    async def aclose(self) -> None:
        await self.pool.close()
        await anyio.to_thread.run_sync(self.budgets.close)

    def spent(self, session: Any, project_id: str, scope: str, period: str) -> int:
        """A budget's spend: what the store has, plus what this process counted and has not written yet."""
        return service.spent(session, project_id, scope, period) + self.budgets.unwritten(
            project_id, scope, period
        )

    def local_adapter(self) -> LocalAdapter | None:
        """The built-in `local` provider, when the local models service runs in this process."""
        models = self._runtime.services.get("local")
        if models is None or not models.enabled:
            return None
        if self._local is None:
            self._local = LocalAdapter(LocalTransport(models))
        return self._local

    def registered_upstream(self, session: Any, project_id: str) -> Upstream | None:
        """The project's registered model versions (fine-tunes), served in-process on their base model."""
        finetune = self._runtime.services.get("finetune")
        models = self._runtime.services.get("local")
        if finetune is None or models is None or not models.enabled:
            return None
        adapters = {
            name: ServedAdapter(served.base_model, finetune.adapter_path(served.artifact_key))
            for served in finetune.served(session, project_id)
            for name in served.names
        }
        if not adapters:
            return None
        adapter = LocalAdapter(LocalTransport(models, adapters))
        return Upstream(REGISTERED, "local", "", None, 600.0, (), adapter)

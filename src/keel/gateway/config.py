"""The gateway's view of a project (providers with decrypted keys, routes), cached in memory for a moment.

A chat request must not cost a database round trip for configuration: each project's providers and routes
are loaded once and reused for `TTL` seconds. Writes through this process invalidate at once; other replicas
see a change within the TTL. An expired view keeps serving while one background load refreshes it, and a
missing one is loaded once however many requests wait for it (no stampede of identical loads).
"""

import asyncio
import hashlib
import random
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from keel.core.errors import KeelError
from keel.core.secrets import SecretBox
from keel.db.engine import SessionFactory
from keel.gateway import canary_service, guard, service
from keel.gateway.circuits import Policy
from keel.gateway.pricing import PriceRule
from keel.gateway.providers.base import Adapter, ProviderKind
from keel.guardrails import service as guardrails
from keel.plugins.registry import Registry

TTL = 2.0
DEFAULT_POLICY = Policy()
REGISTERED = "models"  # the provider name of the model registry's versions: `models/NAME@ALIAS`


class ModelNotFound(KeelError):
    status = 404
    code = "model_not_found"
    title = "Model not found"


@dataclass(frozen=True)
class Upstream:
    provider: str
    kind: str
    base_url: str
    api_key: str | None
    timeout_s: float
    headers: tuple[tuple[str, str], ...]
    adapter: Adapter = field(default_factory=Adapter, compare=False)


@dataclass(frozen=True)
class Target:
    upstream: Upstream
    model: str
    weight: float
    variant: str
    arm: str | None = None  # "canary" or "baseline" while the route has a live canary


@dataclass(frozen=True)
class RoutePlan:
    name: str
    targets: tuple[Target, ...]
    fallbacks: tuple[Target, ...]
    sticky: str
    retries: int
    cache_ttl_s: int | None = None
    circuit: Policy = Policy()
    guardrails: guard.Policy | None = None  # the route's guardrail policy, ready to run
    canary: str | None = (
        None  # the live canary's id: its candidate's failed attempts fall back to the baseline
    )

    def attempts(self, user: str | None) -> list[Target]:
        """The chosen target first (weighted, or pinned by user when sticky), then the fallbacks in order."""
        live = [t for t in self.targets if t.weight > 0]
        if self.sticky != "none" and user:
            point = int.from_bytes(hashlib.sha256(user.encode()).digest()[:8], "big") / 2**64
        else:
            point = random.random()
        total, edge, chosen = sum(t.weight for t in live), 0.0, live[-1]
        for target in live:
            edge += target.weight / total
            if point < edge:
                chosen = target
                break
        if chosen.arm == "canary":
            rescue = [t for t in live if t.arm == "baseline"]
            return [chosen, *rescue, *(t for t in self.fallbacks if t not in rescue)]
        return [chosen, *(t for t in self.fallbacks if t is not chosen)]


@dataclass(frozen=True)
class LimitRule:
    scope: str
    usd_micros_per_day: int | None
    usd_micros_per_month: int | None
    requests_per_minute: int | None
    tokens_per_minute: int | None


@dataclass(frozen=True)
class ProjectGateway:
    upstreams: dict[str, Upstream]
    routes: dict[str, RoutePlan]
    prices: dict[str, PriceRule]
    limits: dict[str, LimitRule]
    circuit: Policy = Policy()  # the default for plans without a policy of their own

    def registered(self) -> list[str]:
        upstream = self.upstreams.get(REGISTERED)
        transport: Any = getattr(upstream.adapter, "transport", None) if upstream else None
        return sorted(transport.adapters) if transport is not None else []

    def plan(self, model: str) -> RoutePlan:
        if model in self.routes:
            return self.routes[model]
        if "@" in model and "/" not in model:
            registered = self.registered()
            if model not in registered:
                raise ModelNotFound(
                    f"The model `{model}` is not a registered version in this project; registered: "
                    f"{', '.join(registered) or 'none (fine-tune one, or register it in /api/v1/models)'}",
                    param="model",
                )
            model = f"{REGISTERED}/{model}"
        provider, _, upstream_model = model.partition("/")
        if upstream_model and provider in self.upstreams:
            target = Target(self.upstreams[provider], upstream_model, 1.0, upstream_model)
            return RoutePlan(model, (target,), (), "none", 1, circuit=self.circuit)
        names = sorted(self.routes) + self.registered()
        names += [f"{p}/<model>" for p in sorted(self.upstreams) if p != REGISTERED]
        raise ModelNotFound(
            f"The model `{model}` does not exist in this project; use one of: "
            f"{', '.join(names) or 'none (configure a provider first)'}",
            param="model",
        )


class GatewayConfig:
    def __init__(
        self,
        sessions: SessionFactory,
        box: SecretBox,
        kinds: Registry[ProviderKind],
        local: Callable[[], Adapter | None] = lambda: None,
        registered: Callable[[Any, str], Upstream | None] = lambda session, project_id: None,
        circuit: Policy = DEFAULT_POLICY,
        checks: Any = (),
    ) -> None:
        self._sessions = sessions
        self._box = box
        self._kinds = kinds
        self._local = local
        self._registered = registered
        self.circuit = circuit
        self._checks = checks
        self.ttl = TTL
        self._cache: dict[str, tuple[float, ProjectGateway]] = {}
        self._generation: dict[str, int] = {}
        self._loading: dict[str, asyncio.Future[ProjectGateway]] = {}
        self._lock = threading.Lock()

    def cached(self, project_id: str) -> ProjectGateway | None:
        entry = self._cache.get(project_id)
        return entry[1] if entry and time.monotonic() - entry[0] < self.ttl else None

    async def view(self, project_id: str) -> ProjectGateway:
        """The project's view: fresh from memory, stale while one refresh runs, or loaded once for all."""
        entry = self._cache.get(project_id)
        if entry is not None and time.monotonic() - entry[0] < self.ttl:
            return entry[1]
        loading = self._loading.get(project_id)
        if loading is None:
            loading = asyncio.ensure_future(asyncio.to_thread(self.load, project_id))
            self._loading[project_id] = loading
            loading.add_done_callback(lambda done: self._forget_load(project_id, done))
        if entry is not None:
            return entry[1]
        return await asyncio.shield(loading)

    def _forget_load(self, project_id: str, done: "asyncio.Future[ProjectGateway]") -> None:
        if self._loading.get(project_id) is done:
            del self._loading[project_id]

    def load(self, project_id: str) -> ProjectGateway:
        generation = self._generation.get(project_id, 0)
        with self._sessions() as session:
            providers, routes = service.project_config(session, project_id)
            upstreams = {
                p.name: Upstream(
                    p.name,
                    p.kind,
                    p.base_url or "",
                    service.provider_secret(p, self._box),
                    float(p.options.get("timeout_s", 60)),
                    tuple(sorted(p.options.get("headers", {}).items())),
                    self._kinds.get(p.kind).adapter if p.kind in self._kinds else Adapter(),
                )
                for p in providers
            }

            local = self._local()
            for name, upstream in list(upstreams.items()):
                if upstream.kind == "local" and local is not None:  # in-process, whatever it is called
                    upstreams[name] = Upstream(name, "local", "", None, 600.0, (), local)
            if local is not None and "local" not in upstreams:
                upstreams["local"] = Upstream("local", "local", "", None, 600.0, (), local)
            registered = self._registered(session, project_id)
            if registered is not None:
                upstreams[REGISTERED] = registered

            def targets(items: list[dict[str, object]]) -> tuple[Target, ...]:
                return tuple(
                    Target(
                        upstreams[str(t["provider"])],
                        str(t["model"]),
                        float(str(t["weight"])),
                        str(t.get("variant") or t["model"]),
                        str(t["arm"]) if t.get("arm") else None,
                    )
                    for t in items
                    if t["provider"] in upstreams
                )

            policies = {
                p.name: guard.prepare(p.name, p.rules, p.refusal, self._checks)
                for p in guardrails.project_policies(session, project_id)
            }
            plans = {
                r.name: RoutePlan(
                    r.name,
                    targets(canary_service.split(r.targets["items"], r.canary)),
                    targets(r.fallbacks["items"]),
                    r.sticky,
                    r.retries,
                    r.cache_ttl_s,
                    Policy(**r.circuit) if r.circuit else self.circuit,
                    policies.get(r.guardrails) if r.guardrails else None,
                    r.canary["id"] if r.canary and r.canary["state"] in canary_service.LIVE else None,
                )
                for r in routes
            }
            prices = {
                p.model: PriceRule(
                    p.model, p.input_micros_per_mtok, p.output_micros_per_mtok, p.cached_input_micros_per_mtok
                )
                for p in service.project_prices(session, project_id)
            }
            limits = {
                lim.scope: LimitRule(
                    lim.scope,
                    lim.usd_micros_per_day,
                    lim.usd_micros_per_month,
                    lim.requests_per_minute,
                    lim.tokens_per_minute,
                )
                for lim in service.project_limits(session, project_id)
            }
        view = ProjectGateway(
            upstreams,
            {name: plan for name, plan in plans.items() if plan.targets},
            prices,
            limits,
            self.circuit,
        )
        with self._lock:
            if self._generation.get(project_id, 0) == generation:  # no write landed while this loaded
                self._cache[project_id] = (time.monotonic(), view)
        return view

    def invalidate(self, project_id: str) -> None:
        with self._lock:
            self._generation[project_id] = self._generation.get(project_id, 0) + 1
            self._cache.pop(project_id, None)
            self._loading.pop(project_id, None)  # a load already running read the old config

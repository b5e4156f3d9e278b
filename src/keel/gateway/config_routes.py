"""Gateway configuration API: `/api/v1/providers`, `/api/v1/routes`, `/api/v1/prices`, `/api/v1/limits`."""

import logging
from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Query, Response

from keel.core.money import to_usd
from keel.gateway import canary_service, service
from keel.gateway.circuits import Policy
from keel.gateway.models import Limit, Price, Provider, Route
from keel.gateway.runtime import Gateway
from keel.gateway.schemas import (
    LimitIn,
    LimitList,
    LimitOut,
    PriceIn,
    PriceList,
    PriceOut,
    ProviderCreate,
    ProviderKindOut,
    ProviderList,
    ProviderOut,
    ProviderUpdate,
    RouteCreate,
    RouteList,
    RouteOut,
    TargetHealth,
)
from keel.server.deps import PrincipalDep, RuntimeDep, SessionDep
from keel.tracing.views import usd

log = logging.getLogger("keel.gateway")

router = APIRouter(prefix="/api/v1/providers", tags=["gateway"])
route_router = APIRouter(prefix="/api/v1/routes", tags=["gateway"])
PageLimit = Annotated[int, Query(ge=1, le=200)]


def out(provider: Provider) -> ProviderOut:
    return ProviderOut(
        id=provider.id,
        name=provider.name,
        kind=provider.kind,
        base_url=provider.base_url,
        has_api_key=provider.api_key_encrypted is not None,
        options=provider.options,
        created_at=provider.created_at,
        updated_at=provider.updated_at,
    )


@router.get("/kinds")
def list_kinds(runtime: RuntimeDep, principal: PrincipalDep) -> dict[str, list[ProviderKindOut]]:
    kinds = runtime.plugins.provider_kinds.items()
    return {
        "items": [
            ProviderKindOut(
                name=k.name,
                description=k.description,
                default_base_url=k.default_base_url,
                needs_api_key=k.needs_api_key,
            )
            for _, k in kinds
        ]
    }


@router.post("", status_code=201)
def create(
    body: ProviderCreate, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> ProviderOut:
    provider = service.create_provider(
        session, principal, body, runtime.plugins.provider_kinds, runtime.secrets
    )
    return out(provider)


@router.get("")
def list_all(
    session: SessionDep, principal: PrincipalDep, cursor: str | None = None, limit: PageLimit = 50
) -> ProviderList:
    page = service.list_providers(session, principal, cursor, limit)
    return ProviderList(items=[out(p) for p in page.items], next_cursor=page.next_cursor)


@router.get("/{ref}")
def get(ref: str, session: SessionDep, principal: PrincipalDep) -> ProviderOut:
    return out(service.get_provider(session, principal, ref))


@router.patch("/{ref}")
def update(
    ref: str, body: ProviderUpdate, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> ProviderOut:
    provider = service.update_provider(
        session, principal, ref, body, runtime.plugins.provider_kinds, runtime.secrets
    )
    return out(provider)


@router.delete("/{ref}", status_code=204)
def delete(ref: str, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep) -> Response:
    service.delete_provider(session, principal, ref)
    return Response(status_code=204)


def route_out(route: Route, gateway: Gateway) -> RouteOut:
    policy = Policy(**route.circuit) if route.circuit else gateway.config.circuit
    health = []
    for target in [*route.targets["items"], *route.fallbacks["items"]]:
        key = (route.project_id, route.name, target["provider"], target["model"])
        state = gateway.circuits.health(key, policy)
        health.append(
            TargetHealth(
                provider=target["provider"],
                model=target["model"],
                state=state.state.value,
                consecutive_failures=state.consecutive_failures,
                retry_in_s=state.retry_in_s,
                last_error=state.last_error,
                opened_times=state.opened_times,
            )
        )
    return RouteOut(
        id=route.id,
        name=route.name,
        targets=route.targets["items"],
        fallbacks=route.fallbacks["items"],
        sticky=route.sticky,
        retries=route.retries,
        cache_ttl_s=route.cache_ttl_s,
        circuit=route.circuit,
        guardrails=route.guardrails,
        canary=canary_service.masked(route),
        canary_state=route.canary["state"] if route.canary else None,
        canary_weight=route.canary["weight"] if route.canary else None,
        health=health,
        created_at=route.created_at,
        updated_at=route.updated_at,
    )


@route_router.post("")
def save_route(
    body: RouteCreate, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> RouteOut:
    """Create the route, or replace the one with the same name."""
    saved = service.save_route(session, principal, body, runtime.secrets)
    return route_out(saved, runtime.service("gateway"))


@route_router.get("")
def list_routes(runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep) -> RouteList:
    gateway: Gateway = runtime.service("gateway")
    items = [route_out(r, gateway) for r in service.list_routes(session, principal)]
    return RouteList(items=items, next_cursor=None)


@route_router.get("/{ref}")
def get_route(ref: str, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep) -> RouteOut:
    """The route as configured, with each target's circuit (`health`) in the process that answers."""
    return route_out(service.get_route(session, principal, ref), runtime.service("gateway"))


@route_router.delete("/{ref}", status_code=204)
def delete_route(ref: str, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep) -> Response:
    service.delete_route(session, principal, ref)
    return Response(status_code=204)


price_router = APIRouter(prefix="/api/v1/prices", tags=["gateway"])


def price_out(price: Price) -> PriceOut:
    return PriceOut(
        model=price.model,
        input_usd_per_mtok=to_usd(price.input_micros_per_mtok),
        output_usd_per_mtok=to_usd(price.output_micros_per_mtok),
        cached_input_usd_per_mtok=usd(price.cached_input_micros_per_mtok),
        updated_at=price.updated_at,
    )


@price_router.put("/{model:path}")
def set_price(
    model: str, body: PriceIn, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> PriceOut:
    """Set the price of a model (or of every model matching a `prefix*`)."""
    saved = service.set_price(session, principal, model, body)
    return price_out(saved)


@price_router.get("")
def list_prices(session: SessionDep, principal: PrincipalDep) -> PriceList:
    return PriceList(items=[price_out(p) for p in service.list_prices(session, principal)])


@price_router.delete("/{model:path}", status_code=204)
def delete_price(model: str, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep) -> Response:
    service.delete_price(session, principal, model)
    return Response(status_code=204)


limit_router = APIRouter(prefix="/api/v1/limits", tags=["gateway"])


def limit_out(session: Any, limit: Limit, gateway: Gateway) -> LimitOut:
    """Spend is only counted for the periods that have a budget: the other period is null, never a 0."""
    now = datetime.now(UTC)
    spent_day = spent_month = None
    if limit.usd_micros_per_day is not None:
        spent_day = to_usd(gateway.spent(session, limit.project_id, limit.scope, f"d:{now:%Y-%m-%d}"))
    if limit.usd_micros_per_month is not None:
        spent_month = to_usd(gateway.spent(session, limit.project_id, limit.scope, f"m:{now:%Y-%m}"))
    return LimitOut(
        scope=limit.scope,
        usd_per_day=usd(limit.usd_micros_per_day),
        usd_per_month=usd(limit.usd_micros_per_month),
        requests_per_minute=limit.requests_per_minute,
        tokens_per_minute=limit.tokens_per_minute,
        spent_today_usd=spent_day,
        spent_this_month_usd=spent_month,
    )


@limit_router.put("/{scope}")
def set_limit(
    scope: str, body: LimitIn, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> LimitOut:
    """Budgets and rate limits for the whole project (`scope` = `project`) or one key (`scope` = key id)."""
    saved = service.set_limit(session, principal, scope, body)
    return limit_out(session, saved, runtime.service("gateway"))


@limit_router.get("")
def list_limits(runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep) -> LimitList:
    rows = service.project_limits(session, principal.project_id)
    gateway = runtime.service("gateway")
    return LimitList(items=[limit_out(session, row, gateway) for row in rows])


@limit_router.delete("/{scope}", status_code=204)
def delete_limit(scope: str, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep) -> Response:
    service.delete_limit(session, principal, scope)
    return Response(status_code=204)

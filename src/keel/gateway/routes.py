"""Gateway HTTP: `/v1/chat/completions`, `/v1/models`, and configuration under `/api/v1/providers|routes`."""

import logging
from collections.abc import AsyncIterator
from decimal import Decimal
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import StreamingResponse

from keel.core.auth import Role
from keel.core.errors import KeelError
from keel.gateway import chat, service
from keel.gateway.config import ProjectGateway
from keel.gateway.models import Price, Provider, Route
from keel.gateway.runtime import Gateway
from keel.gateway.schemas import (
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
)
from keel.server.deps import FastPrincipalDep, PrincipalDep, RuntimeDep, SessionDep

log = logging.getLogger("keel.gateway")

router = APIRouter(prefix="/api/v1/providers", tags=["gateway"])
route_router = APIRouter(prefix="/api/v1/routes", tags=["gateway"])
v1 = APIRouter(tags=["gateway"])
Limit = Annotated[int, Query(ge=1, le=200)]


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
    return out(
        service.create_provider(session, principal, body, runtime.plugins.provider_kinds, runtime.secrets)
    )


@router.get("")
def list_all(
    session: SessionDep, principal: PrincipalDep, cursor: str | None = None, limit: Limit = 50
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
    return out(
        service.update_provider(
            session, principal, ref, body, runtime.plugins.provider_kinds, runtime.secrets
        )
    )


@router.delete("/{ref}", status_code=204)
def delete(ref: str, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep) -> Response:
    service.delete_provider(session, principal, ref)
    _invalidate(runtime, principal.project_id)
    return Response(status_code=204)


def _invalidate(runtime: Any, project_id: str) -> None:
    gateway: Gateway = runtime.service("gateway")
    gateway.config.invalidate(project_id)


def route_out(route: Route) -> RouteOut:
    return RouteOut(
        id=route.id,
        name=route.name,
        targets=route.targets["items"],
        fallbacks=route.fallbacks["items"],
        sticky=route.sticky,
        retries=route.retries,
        created_at=route.created_at,
        updated_at=route.updated_at,
    )


@route_router.post("")
def save_route(
    body: RouteCreate, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> RouteOut:
    """Create the route, or replace the one with the same name."""
    saved = service.save_route(session, principal, body)
    _invalidate(runtime, principal.project_id)
    return route_out(saved)


@route_router.get("")
def list_routes(session: SessionDep, principal: PrincipalDep) -> RouteList:
    return RouteList(items=[route_out(r) for r in service.list_routes(session, principal)], next_cursor=None)


@route_router.get("/{ref}")
def get_route(ref: str, session: SessionDep, principal: PrincipalDep) -> RouteOut:
    return route_out(service.get_route(session, principal, ref))


@route_router.delete("/{ref}", status_code=204)
def delete_route(ref: str, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep) -> Response:
    service.delete_route(session, principal, ref)
    _invalidate(runtime, principal.project_id)
    return Response(status_code=204)


price_router = APIRouter(prefix="/api/v1/prices", tags=["gateway"])


def price_out(price: Price) -> PriceOut:
    def usd(micros: int | None) -> Decimal | None:
        return None if micros is None else Decimal(micros) / 1_000_000

    return PriceOut(
        model=price.model,
        input_usd_per_mtok=usd(price.input_micros_per_mtok) or Decimal(0),
        output_usd_per_mtok=usd(price.output_micros_per_mtok) or Decimal(0),
        cached_input_usd_per_mtok=usd(price.cached_input_micros_per_mtok),
        updated_at=price.updated_at,
    )


@price_router.put("/{model:path}")
def set_price(
    model: str, body: PriceIn, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> PriceOut:
    """Set the price of a model (or of every model matching a `prefix*`)."""
    saved = service.set_price(session, principal, model, body)
    _invalidate(runtime, principal.project_id)
    return price_out(saved)


@price_router.get("")
def list_prices(session: SessionDep, principal: PrincipalDep) -> PriceList:
    return PriceList(items=[price_out(p) for p in service.list_prices(session, principal)])


@price_router.delete("/{model:path}", status_code=204)
def delete_price(model: str, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep) -> Response:
    service.delete_price(session, principal, model)
    _invalidate(runtime, principal.project_id)
    return Response(status_code=204)


async def _view(runtime: Any, project_id: str) -> ProjectGateway:
    gateway: Gateway = runtime.service("gateway")
    view = gateway.view(project_id)
    return view if view is not None else await anyio.to_thread.run_sync(gateway.config.load, project_id)


@v1.get("/v1/models")
async def list_models(runtime: RuntimeDep, principal: FastPrincipalDep) -> dict[str, Any]:
    view = await _view(runtime, principal.project_id)
    return {
        "object": "list",
        "data": [
            {"id": name, "object": "model", "created": 0, "owned_by": "keel"} for name in sorted(view.routes)
        ],
    }


@v1.post("/v1/chat/completions")
async def chat_completions(request: Request, runtime: RuntimeDep, principal: FastPrincipalDep) -> Response:
    principal.require(Role.member)
    body = chat.parse_request(await request.body())
    gateway: Gateway = runtime.service("gateway")
    view = await _view(runtime, principal.project_id)
    plan = view.plan(body["model"])
    call = chat.Call(principal.project_id, plan.name, body)
    if not body.get("stream"):
        try:
            status, content = await chat.complete(gateway.pool, plan, call)
        finally:
            _record(runtime, call, view)
        return Response(content, status, media_type="application/json")
    try:
        status, chunks = await chat.open_stream(gateway.pool, plan, call)
    except Exception:
        _record(runtime, call, view)
        raise

    async def relay() -> AsyncIterator[bytes]:
        try:
            async for chunk in chunks:
                yield chunk
        finally:
            _record(runtime, call, view)

    media = "text/event-stream" if status == 200 else "application/json"
    return StreamingResponse(relay(), status_code=status, media_type=media)


@v1.post("/v1/embeddings")
async def embeddings(request: Request, runtime: RuntimeDep, principal: FastPrincipalDep) -> Response:
    principal.require(Role.member)
    body = chat.parse_embeddings_request(await request.body())
    gateway: Gateway = runtime.service("gateway")
    view = await _view(runtime, principal.project_id)
    plan = view.plan(body["model"])
    call = chat.Call(principal.project_id, plan.name, body, operation="embeddings")
    try:
        status, content = await chat.complete(gateway.pool, plan, call)
    finally:
        _record(runtime, call, view)
    return Response(content, status, media_type="application/json")


def _record(runtime: Any, call: chat.Call, view: ProjectGateway) -> None:
    call.price(view.prices)
    try:
        runtime.service("tracing.writer").submit(
            [chat.trace_row(call, runtime.settings.trace_max_value_bytes)]
        )
    except KeelError as exc:
        log.warning("gateway trace not recorded: %s", exc.detail, extra={"project_id": call.project_id})

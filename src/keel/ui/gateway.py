"""The gateway's configuration: providers (secrets are write-only), routes and their traffic split (edit a
canary), prices, and keys with their budgets and what they spent today and this month."""

from datetime import UTC, datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from keel.core.money import to_usd
from keel.gateway import canary_service as canary
from keel.gateway import service as gateway
from keel.gateway.schemas import ProviderCreate
from keel.projects import service as projects
from keel.ui.core import UI, UIRoute, current, invalid, number

router = APIRouter(route_class=UIRoute, include_in_schema=False)


@router.get("/gateway")
def page(ui: Annotated[UI, Depends(current)], notice: str = "") -> HTMLResponse:
    now = datetime.now(UTC)
    with ui.session() as session:
        providers = gateway.list_providers(session, ui.principal, None, 200).items
        routes = gateway.list_routes(session, ui.principal)
        prices = gateway.list_prices(session, ui.principal)
        limits = {lim.scope: lim for lim in gateway.project_limits(session, ui.principal.project_id)}
        keys = projects.list_keys(session, ui.principal, ui.principal.project_id, None, 200).items
        books = ui.runtime.service("gateway")
        spend: dict[str, Any] = {
            scope: (
                to_usd(books.spent(session, ui.principal.project_id, scope, f"d:{now:%Y-%m-%d}")),
                to_usd(books.spent(session, ui.principal.project_id, scope, f"m:{now:%Y-%m}")),
            )
            for scope in ["project", *(k.id for k in keys)]
        }
    kinds = sorted(ui.runtime.plugins.provider_kinds)
    return ui.render(
        "gateway.html",
        providers=providers,
        routes=routes,
        prices=prices,
        limits=limits,
        keys=keys,
        spend=spend,
        kinds=kinds,
        notice=notice,
    )


@router.post("/gateway/providers")
async def add_provider(ui: Annotated[UI, Depends(current)]) -> RedirectResponse:
    fields = await ui.form()
    try:
        data = ProviderCreate(
            name=fields.get("name", ""),
            kind=fields.get("kind", ""),
            base_url=fields.get("base_url") or None,
            api_key=fields.get("api_key") or None,
        )
    except ValidationError as exc:
        raise invalid(exc) from None
    with ui.session() as session:
        gateway.create_provider(
            session, ui.principal, data, ui.runtime.plugins.provider_kinds, ui.runtime.secrets
        )
    return RedirectResponse(f"/gateway?notice=Provider+{data.name}+added", status_code=303)


@router.post("/gateway/routes/{name}/weights")
async def set_weights(name: str, ui: Annotated[UI, Depends(current)]) -> RedirectResponse:
    """New weights for a route's targets (a canary split), keeping everything else as it is."""
    fields = await ui.form()
    with ui.session() as session:
        route = gateway.get_route(session, ui.principal, name)
        targets = [dict(t) for t in route.targets["items"]]
        for index, target in enumerate(targets):
            target["weight"] = number(fields, f"weight_{index}")
        try:
            live = route.canary and route.canary["state"] in canary.LIVE
            data = gateway.route_body(route, targets=targets, canary=canary.spec_of(route) if live else None)
        except ValidationError as exc:
            raise invalid(exc) from None
        gateway.save_route(session, ui.principal, data, ui.runtime.secrets)
    return RedirectResponse(f"/gateway?notice=Route+{name}+updated", status_code=303)

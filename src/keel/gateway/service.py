"""Provider configuration: create, read, update and delete, scoped to the caller's project.

Credentials are encrypted before they reach the session and decrypted only by `provider_secret`, for the
gateway's own upstream calls.
"""

from decimal import Decimal
from typing import Any
from urllib.parse import urlsplit

from sqlalchemy import select, text, update
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from keel.core.auth import Principal, Role
from keel.core.clock import utcnow
from keel.core.errors import Conflict, InvalidInput, NotFound
from keel.core.ids import new_id
from keel.core.money import to_micros, to_usd
from keel.core.pagination import Page, check_limit, decode_cursor, page_of
from keel.core.secrets import SecretBox
from keel.db.changes import record
from keel.gateway import canary_service
from keel.gateway.models import Limit, Price, Provider, Route, Spend
from keel.gateway.providers.base import ProviderKind
from keel.gateway.schemas import LimitIn, PriceIn, ProviderCreate, ProviderUpdate, RouteCreate
from keel.guardrails import service as guardrails
from keel.plugins.registry import Registry
from keel.projects.models import ApiKey


def check_base_url(url: str) -> str:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise InvalidInput(f"base_url {url!r} must be an http(s) URL with a host", param="base_url")
    if parts.username or parts.password:
        raise InvalidInput("base_url must not carry credentials; put the key in api_key", param="base_url")
    if parts.query or parts.fragment:
        raise InvalidInput("base_url must not have a query or fragment", param="base_url")
    return url.rstrip("/")


def create_provider(
    session: Session,
    principal: Principal,
    data: ProviderCreate,
    kinds: Registry[ProviderKind],
    box: SecretBox,
) -> Provider:
    principal.require(Role.admin)
    kind = kinds.get(data.kind)
    base_url = check_base_url(data.base_url) if data.base_url else kind.default_base_url
    if base_url is None:
        raise InvalidInput(f"provider kind {kind.name!r} needs a base_url", param="base_url")
    secret = data.api_key.get_secret_value() if data.api_key else ""
    if kind.needs_api_key and not secret:
        raise InvalidInput(f"provider kind {kind.name!r} needs an api_key", param="api_key")
    provider = Provider(
        id=new_id("prv"),
        project_id=principal.project_id,
        name=data.name,
        kind=kind.name,
        base_url=base_url,
        api_key_encrypted=box.encrypt(secret) if secret else None,
        options=data.options.model_dump(),
    )
    session.add(provider)
    record(session, CONFIG, principal.project_id)
    try:
        session.commit()
    except IntegrityError:
        session.rollback()
        raise Conflict(f"a provider named {data.name!r} already exists in this project") from None
    return provider


def list_providers(session: Session, principal: Principal, cursor: str | None, limit: int) -> Page[Provider]:
    query = select(Provider).where(Provider.project_id == principal.project_id).order_by(Provider.id)
    if after := decode_cursor(cursor):
        query = query.where(Provider.id > after)
    return page_of(list(session.scalars(query.limit(check_limit(limit) + 1))), limit, lambda p: p.id)


def get_provider(session: Session, principal: Principal, ref: str) -> Provider:
    """By id (`prv_…`) or by name within the caller's project."""
    column = Provider.id if ref.startswith("prv_") else Provider.name
    provider = session.scalar(
        select(Provider).where(Provider.project_id == principal.project_id, column == ref)
    )
    if provider is None:
        raise NotFound(f"provider {ref!r} not found")
    return provider


def update_provider(
    session: Session,
    principal: Principal,
    ref: str,
    data: ProviderUpdate,
    kinds: Registry[ProviderKind],
    box: SecretBox,
) -> Provider:
    principal.require(Role.admin)
    provider = get_provider(session, principal, ref)
    if data.base_url is not None:
        provider.base_url = check_base_url(data.base_url)
    if data.api_key is not None:
        secret = data.api_key.get_secret_value()
        if not secret and kinds.get(provider.kind).needs_api_key:
            raise InvalidInput(f"provider kind {provider.kind!r} needs an api_key", param="api_key")
        provider.api_key_encrypted = box.encrypt(secret) if secret else None
    if data.options is not None:
        provider.options = data.options.model_dump()
    provider.updated_at = utcnow()
    record(session, CONFIG, principal.project_id)
    session.commit()
    return provider


def delete_provider(session: Session, principal: Principal, ref: str) -> None:
    principal.require(Role.admin)
    session.delete(get_provider(session, principal, ref))
    record(session, CONFIG, principal.project_id)
    session.commit()


def provider_secret(provider: Provider, box: SecretBox) -> str | None:
    return box.decrypt(provider.api_key_encrypted) if provider.api_key_encrypted else None


CONFIG = "gateway.config"  # change topics: anything a project's gateway view is built from
ROUTE = "gateway.route"  # a route replaced or deleted (key: its name)
IMPLICIT_PROVIDERS = frozenset({"local", "models"})  # the bundled models and the model registry's versions


def save_route(
    session: Session, principal: Principal, data: RouteCreate, box: SecretBox | None = None
) -> Route:
    """Create or replace the route named `data.name` (idempotent, so `keel apply` can write it)."""
    principal.require(Role.admin)
    known = set(session.scalars(select(Provider.name).where(Provider.project_id == principal.project_id)))
    known |= IMPLICIT_PROVIDERS
    providers = [t.provider for t in [*data.targets, *data.fallbacks]]
    providers += [data.canary.target.provider] if data.canary else []
    for provider in providers:
        if provider not in known:
            raise InvalidInput(
                f"route {data.name!r} names unknown provider {provider!r}; "
                f"this project has: {', '.join(sorted(known)) or 'none'}",
                param="targets",
            )
    if not any(t.weight > 0 for t in data.targets):
        raise InvalidInput("at least one target needs a weight above 0", param="targets")
    if data.guardrails is not None and not guardrails.exists(session, principal.project_id, data.guardrails):
        raise InvalidInput(
            f"route {data.name!r} names guardrail policy {data.guardrails!r}, which this project lacks",
            param="guardrails",
        )
    route = session.scalar(
        select(Route).where(Route.project_id == principal.project_id, Route.name == data.name)
    )
    if route is None:
        route = Route(id=new_id("rte"), project_id=principal.project_id, name=data.name)
        session.add(route)
    targets = [t.model_dump() for t in data.targets]
    if not canary_service.apply_spec(route, data.canary, targets, box):
        route.targets = {"items": targets}
    route.fallbacks = {"items": [t.model_dump() for t in data.fallbacks]}
    route.sticky, route.retries, route.updated_at = data.sticky, data.retries, utcnow()
    route.cache_ttl_s = data.cache_ttl_s
    route.circuit = data.circuit.model_dump() if data.circuit else None
    route.guardrails = data.guardrails
    record(session, CONFIG, principal.project_id)
    record(session, ROUTE, principal.project_id, data.name)
    session.commit()
    return route


def route_body(route: Route, **changes: Any) -> RouteCreate:
    """The saved route as a body to save again, with `changes` (a new split, a canary) applied."""
    fields = {
        "name": route.name,
        "targets": route.targets["items"],
        "fallbacks": route.fallbacks["items"],
        "sticky": route.sticky,
        "retries": route.retries,
        "cache_ttl_s": route.cache_ttl_s,
        "circuit": route.circuit,
        "guardrails": route.guardrails,
    }
    return RouteCreate.model_validate({**fields, **changes})


def list_routes(session: Session, principal: Principal) -> list[Route]:
    query = select(Route).where(Route.project_id == principal.project_id).order_by(Route.name)
    return list(session.scalars(query))


def get_route(session: Session, principal: Principal, ref: str) -> Route:
    column = Route.id if ref.startswith("rte_") else Route.name
    route = session.scalar(select(Route).where(Route.project_id == principal.project_id, column == ref))
    if route is None:
        raise NotFound(f"route {ref!r} not found")
    return route


def delete_route(session: Session, principal: Principal, ref: str) -> None:
    principal.require(Role.admin)
    route = get_route(session, principal, ref)
    session.delete(route)
    record(session, CONFIG, principal.project_id)
    record(session, ROUTE, principal.project_id, route.name)
    session.commit()


def project_config(session: Session, project_id: str) -> tuple[list[Provider], list[Route]]:
    """Everything the gateway needs to serve one project, in two queries."""
    providers = list(session.scalars(select(Provider).where(Provider.project_id == project_id)))
    routes = list(session.scalars(select(Route).where(Route.project_id == project_id)))
    return providers, routes


def _micros(usd: Decimal | None) -> int | None:
    return None if usd is None else to_micros(usd)


def set_price(session: Session, principal: Principal, model: str, data: PriceIn) -> Price:
    """Create or replace a model's price. `model` may end in `*` to price every model with that prefix."""
    principal.require(Role.admin)
    if not model or len(model) > 200 or "*" in model[:-1]:
        raise InvalidInput("model must be a model name, optionally ending in '*'", param="model")
    price = session.scalar(
        select(Price).where(Price.project_id == principal.project_id, Price.model == model)
    )
    if price is None:
        price = Price(id=new_id("prc"), project_id=principal.project_id, model=model)
        session.add(price)
    price.input_micros_per_mtok = _micros(data.input_usd_per_mtok) or 0
    price.output_micros_per_mtok = _micros(data.output_usd_per_mtok) or 0
    price.cached_input_micros_per_mtok = _micros(data.cached_input_usd_per_mtok)
    price.updated_at = utcnow()
    record(session, CONFIG, principal.project_id)
    session.commit()
    return price


def _price(session: Session, principal: Principal, model: str) -> Price | None:
    return session.scalar(select(Price).where(Price.project_id == principal.project_id, Price.model == model))


def list_prices(session: Session, principal: Principal) -> list[Price]:
    return list(
        session.scalars(select(Price).where(Price.project_id == principal.project_id).order_by(Price.model))
    )


def delete_price(session: Session, principal: Principal, model: str) -> None:
    principal.require(Role.admin)
    price = session.scalar(
        select(Price).where(Price.project_id == principal.project_id, Price.model == model)
    )
    if price is None:
        raise NotFound(f"no price for model {model!r}")
    session.delete(price)
    record(session, CONFIG, principal.project_id)
    session.commit()


def project_prices(session: Session, project_id: str) -> list[Price]:
    return list(session.scalars(select(Price).where(Price.project_id == project_id)))


def _check_scope(session: Session, principal: Principal, scope: str) -> None:
    if scope == "project":
        return
    key = session.get(ApiKey, scope)
    if key is None or key.project_id != principal.project_id:
        raise NotFound(f"key {scope!r} not found in this project")


def set_limit(session: Session, principal: Principal, scope: str, data: LimitIn) -> Limit:
    principal.require(Role.admin)
    _check_scope(session, principal, scope)
    limit = session.get(Limit, (principal.project_id, scope)) or Limit(
        project_id=principal.project_id, scope=scope
    )
    session.add(limit)
    limit.usd_micros_per_day = _micros(data.usd_per_day)
    limit.usd_micros_per_month = _micros(data.usd_per_month)
    limit.requests_per_minute, limit.tokens_per_minute = data.requests_per_minute, data.tokens_per_minute
    limit.updated_at = utcnow()
    record(session, CONFIG, principal.project_id)
    session.commit()
    return limit


def delete_limit(session: Session, principal: Principal, scope: str) -> None:
    principal.require(Role.admin)
    limit = session.get(Limit, (principal.project_id, scope))
    if limit is None:
        raise NotFound(f"no limits set for {scope!r}")
    session.delete(limit)
    record(session, CONFIG, principal.project_id)
    session.commit()


def project_limits(session: Session, project_id: str) -> list[Limit]:
    return list(session.scalars(select(Limit).where(Limit.project_id == project_id)))


def spent(session: Session, project_id: str, scope: str, period: str) -> int:
    row = session.get(Spend, (project_id, scope, period))
    return row.spent_micros if row else 0


_NEW_SPEND = text(
    "INSERT INTO gateway_spend (project_id, scope, period, reserved_micros, spent_micros)"
    " VALUES (:p, :s, :d, 0, 0) ON CONFLICT DO NOTHING"
)


def reserve(session: Session, project_id: str, holds: list[tuple[str, str, int]], amount: int) -> str | None:
    """Reserve `amount` micro-dollars against every (scope, period, limit) hold, all or nothing.

    Returns None when reserved, or a description of the budget that would be exceeded. Each reservation is a
    conditional UPDATE, so concurrent calls (threads or replicas) cannot overspend.
    """
    for scope, period, limit in holds:
        session.execute(_NEW_SPEND, {"p": project_id, "s": scope, "d": period})
        granted = session.execute(
            update(Spend)
            .where(
                Spend.project_id == project_id,
                Spend.scope == scope,
                Spend.period == period,
                Spend.spent_micros + Spend.reserved_micros < limit,
                Spend.spent_micros + Spend.reserved_micros + amount <= limit,
            )
            .values(reserved_micros=Spend.reserved_micros + amount)
        )
        if not getattr(granted, "rowcount", 0):
            session.rollback()
            used = spent(session, project_id, scope, period)
            return f"{scope} budget for {period[2:]} is ${to_usd(limit)} and ${to_usd(used)} is spent"
    session.commit()
    return None


def settle(
    session: Session, project_id: str, holds: list[tuple[str, str]], reserved: int, actual: int
) -> None:
    """Turn `reserved` of each hold into `actual` spend, in the caller's transaction."""
    for scope, period in holds:
        session.execute(
            update(Spend)
            .where(Spend.project_id == project_id, Spend.scope == scope, Spend.period == period)
            .values(
                reserved_micros=Spend.reserved_micros - reserved, spent_micros=Spend.spent_micros + actual
            )
        )

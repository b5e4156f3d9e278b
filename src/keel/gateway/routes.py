"""Provider configuration API under `/api/v1/providers`."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from keel.gateway import service
from keel.gateway.models import Provider
from keel.gateway.schemas import ProviderCreate, ProviderKindOut, ProviderList, ProviderOut, ProviderUpdate
from keel.server.deps import PrincipalDep, RuntimeDep, SessionDep

router = APIRouter(prefix="/api/v1/providers", tags=["gateway"])
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
def delete(ref: str, session: SessionDep, principal: PrincipalDep) -> Response:
    service.delete_provider(session, principal, ref)
    return Response(status_code=204)

"""Projects and keys API. Thin: parse, call the service, shape the response."""

from typing import Annotated

from fastapi import APIRouter, Query, Response

from keel.projects import service
from keel.projects.schemas import (
    KeyCreate,
    KeyCreated,
    KeyList,
    KeyOut,
    ProjectCreate,
    ProjectList,
    ProjectOut,
    ProjectUpdate,
)
from keel.server.deps import PrincipalDep, RuntimeDep, SessionDep

router = APIRouter(prefix="/api/v1", tags=["projects"])
Limit = Annotated[int, Query(ge=1, le=200)]


@router.post("/projects", status_code=201)
def create_project(body: ProjectCreate, session: SessionDep, principal: PrincipalDep) -> ProjectOut:
    return ProjectOut.model_validate(service.create_project(session, principal, body))


@router.get("/projects")
def list_projects(
    session: SessionDep, principal: PrincipalDep, cursor: str | None = None, limit: Limit = 50
) -> ProjectList:
    page = service.list_projects(session, principal, cursor, limit)
    return ProjectList(items=[ProjectOut.model_validate(p) for p in page.items], next_cursor=page.next_cursor)


@router.get("/projects/{project_id}")
def get_project(project_id: str, session: SessionDep, principal: PrincipalDep) -> ProjectOut:
    return ProjectOut.model_validate(service.get_project(session, principal, project_id))


@router.patch("/projects/{project_id}")
def rename_project(
    project_id: str, body: ProjectUpdate, session: SessionDep, principal: PrincipalDep
) -> ProjectOut:
    return ProjectOut.model_validate(service.rename_project(session, principal, project_id, body))


@router.delete("/projects/{project_id}", status_code=204)
def delete_project(
    project_id: str, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep
) -> Response:
    service.delete_project(session, principal, project_id)
    runtime.auth_cache.forget_project(project_id)
    return Response(status_code=204)


@router.post("/keys", status_code=201)
def create_key(body: KeyCreate, session: SessionDep, principal: PrincipalDep) -> KeyCreated:
    key, secret = service.create_key(session, principal, body)
    return KeyCreated.model_validate({**KeyOut.model_validate(key).model_dump(), "key": secret})


@router.get("/keys")
def list_keys(
    session: SessionDep,
    principal: PrincipalDep,
    project_id: str | None = None,
    cursor: str | None = None,
    limit: Limit = 50,
) -> KeyList:
    page = service.list_keys(session, principal, project_id, cursor, limit)
    return KeyList(items=[KeyOut.model_validate(k) for k in page.items], next_cursor=page.next_cursor)


@router.get("/keys/{key_id}")
def get_key(key_id: str, session: SessionDep, principal: PrincipalDep) -> KeyOut:
    return KeyOut.model_validate(service.get_key(session, principal, key_id))


@router.delete("/keys/{key_id}")
def revoke_key(key_id: str, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep) -> KeyOut:
    revoked = service.revoke_key(session, principal, key_id)
    runtime.auth_cache.forget_key(key_id)
    return KeyOut.model_validate(revoked)


@router.get("/whoami")
def whoami(principal: PrincipalDep) -> dict[str, str | bool]:
    return {
        "key_id": principal.key_id,
        "project_id": principal.project_id,
        "role": principal.role.value,
        "instance_admin": principal.instance_admin,
    }

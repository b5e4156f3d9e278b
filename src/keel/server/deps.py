"""FastAPI dependencies as `Annotated` aliases: `SessionDep`, `PrincipalDep`, `RuntimeDep`."""

from collections.abc import Iterator
from typing import Annotated

from fastapi import Depends, Request
from sqlalchemy.orm import Session

from keel.core.auth import Principal
from keel.core.errors import Unauthorized
from keel.projects import service as projects
from keel.server.runtime import Runtime


def get_runtime(request: Request) -> Runtime:
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    with runtime.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def get_principal(request: Request, runtime: RuntimeDep, session: SessionDep) -> Principal:
    header = request.headers.get("authorization")
    if not header:
        raise Unauthorized("missing Authorization header; send 'Authorization: Bearer <key>'")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization header must be 'Bearer <key>'")
    return projects.authenticate(session, token.strip(), runtime.auth_cache)


PrincipalDep = Annotated[Principal, Depends(get_principal)]

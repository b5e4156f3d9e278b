"""FastAPI dependencies as `Annotated` aliases: `SessionDep`, `PrincipalDep`, `RuntimeDep`."""

from collections.abc import Iterator
from typing import Annotated

import anyio
from fastapi import Depends, Request
from sqlalchemy.orm import Session

from keel.core.auth import Principal
from keel.core.errors import Unauthorized
from keel.projects import service as projects
from keel.projects.keys import KEY_SCHEME, hash_secret
from keel.server.runtime import Runtime


async def get_runtime(request: Request) -> Runtime:
    """Async on purpose: FastAPI runs sync dependencies in a worker thread, a hop this does not need."""
    runtime: Runtime = request.app.state.runtime
    return runtime


RuntimeDep = Annotated[Runtime, Depends(get_runtime)]


def get_session(runtime: RuntimeDep) -> Iterator[Session]:
    with runtime.sessions() as session:
        yield session


SessionDep = Annotated[Session, Depends(get_session)]


def bearer_token(request: Request) -> str:
    return token_from_header(request.headers.get("authorization"))


def token_from_header(header: str | None) -> str:
    if not header:
        raise Unauthorized("missing Authorization header; send 'Authorization: Bearer <key>'")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthorized("Authorization header must be 'Bearer <key>'")
    return token.strip()


def get_principal(request: Request, runtime: RuntimeDep, session: SessionDep) -> Principal:
    return projects.authenticate(session, bearer_token(request), runtime.auth_cache)


async def get_principal_fast(request: Request, runtime: RuntimeDep) -> Principal:
    """For hot async paths: a cached key costs no thread hop and no session; a miss asks the store."""
    return await principal_from_header(runtime, request.headers.get("authorization"))


async def principal_from_header(runtime: Runtime, header: str | None) -> Principal:
    token = token_from_header(header)
    if token.startswith(KEY_SCHEME) and (cached := runtime.auth_cache.get(hash_secret(token))) is not None:
        return cached

    def lookup() -> Principal:
        with runtime.sessions() as session:
            return projects.authenticate(session, token, runtime.auth_cache)

    return await anyio.to_thread.run_sync(lookup)


PrincipalDep = Annotated[Principal, Depends(get_principal)]
FastPrincipalDep = Annotated[Principal, Depends(get_principal_fast)]

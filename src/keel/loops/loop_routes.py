"""`/api/v1/loops`: closed loops (selector → fine-tune → gate → canary) and their runs."""

from fastapi import APIRouter, Response

from keel.core.auth import Role
from keel.loops import loop_service as loops
from keel.loops.loop_schemas import LoopIn, LoopOut, LoopRunOut
from keel.loops.models import Loop
from keel.server.deps import PrincipalDep, SessionDep

router = APIRouter(prefix="/api/v1/loops", tags=["loops"])


def loop_out(session: SessionDep, loop: Loop) -> LoopOut:
    last = loops.runs(session, loop, 1)
    return LoopOut(
        **loops.spec_of(loop).model_dump(),
        id=loop.id,
        next_run_at=loop.next_run_at,
        last_run=loops.run_out(last[0], loop.name).model_dump(mode="json") if last else None,
        created_at=loop.created_at,
        updated_at=loop.updated_at,
    )


@router.post("")
def save(body: LoopIn, session: SessionDep, principal: PrincipalDep) -> LoopOut:
    """Create the loop, or replace the one with the same name (a run in progress goes on)."""
    return loop_out(session, loops.save(session, principal, body))


@router.get("")
def list_loops(session: SessionDep, principal: PrincipalDep) -> dict[str, list[LoopOut]]:
    return {"items": [loop_out(session, loop) for loop in loops.list_loops(session, principal)]}


@router.get("/{name}")
def get(name: str, session: SessionDep, principal: PrincipalDep) -> LoopOut:
    return loop_out(session, loops.get(session, principal, name))


@router.delete("/{name}", status_code=204)
def delete(name: str, session: SessionDep, principal: PrincipalDep) -> Response:
    loops.delete(session, principal, name)
    return Response(status_code=204)


@router.post("/{name}/runs", status_code=202)
def run_now(name: str, session: SessionDep, principal: PrincipalDep) -> LoopRunOut:
    """Start a run now (409 while one is in progress); the runner moves it through its stages."""
    principal.require(Role.admin)
    loop = loops.get(session, principal, name)
    return loops.run_out(loops.start(session, loop, "manual"), loop.name)


@router.get("/{name}/runs")
def list_runs(name: str, session: SessionDep, principal: PrincipalDep) -> dict[str, list[LoopRunOut]]:
    loop = loops.get(session, principal, name)
    return {"items": [loops.run_out(r, loop.name) for r in loops.runs(session, loop)]}


@router.get("/{name}/runs/{run_id}")
def get_run(name: str, run_id: str, session: SessionDep, principal: PrincipalDep) -> LoopRunOut:
    loop = loops.get(session, principal, name)
    return loops.run_out(loops.get_run(session, loop, run_id), loop.name)


@router.post("/{name}/runs/{run_id}/cancel")
def cancel(name: str, run_id: str, session: SessionDep, principal: PrincipalDep) -> LoopRunOut:
    principal.require(Role.admin)
    loop = loops.get(session, principal, name)
    return loops.run_out(loops.cancel(session, loop, run_id), loop.name)

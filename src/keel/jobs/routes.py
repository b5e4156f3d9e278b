"""Job API: list, inspect, follow logs, submit a registered kind, cancel."""

from typing import Annotated

from fastapi import APIRouter, Query

from keel.jobs import service
from keel.jobs.schemas import JobCreate, JobList, JobLogList, JobOut
from keel.server.deps import PrincipalDep, RuntimeDep, SessionDep

router = APIRouter(prefix="/api/v1/jobs", tags=["jobs"])
Limit = Annotated[int, Query(ge=1, le=200)]


@router.get("/kinds")
def list_kinds(runtime: RuntimeDep, principal: PrincipalDep) -> dict[str, list[str]]:
    return {"items": list(runtime.plugins.job_kinds)}


@router.post("", status_code=201)
def submit_job(body: JobCreate, runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep) -> JobOut:
    runtime.plugins.job_kinds.get(body.kind)
    job = service.submit(
        session, principal, body.kind, body.params, max_attempts=runtime.settings.job_max_attempts
    )
    return JobOut.model_validate(job)


@router.get("")
def list_jobs(
    session: SessionDep,
    principal: PrincipalDep,
    status: str | None = None,
    kind: str | None = None,
    cursor: str | None = None,
    limit: Limit = 50,
) -> JobList:
    page = service.list_jobs(session, principal, status=status, kind=kind, cursor=cursor, limit=limit)
    return JobList(items=[JobOut.model_validate(j) for j in page.items], next_cursor=page.next_cursor)


@router.get("/{job_id}")
def get_job(job_id: str, session: SessionDep, principal: PrincipalDep) -> JobOut:
    return JobOut.model_validate(service.get_job(session, principal, job_id))


@router.get("/{job_id}/logs")
def get_logs(
    job_id: str, session: SessionDep, principal: PrincipalDep, cursor: str | None = None, limit: Limit = 200
) -> JobLogList:
    page = service.job_logs(session, principal, job_id, cursor, limit)
    return JobLogList.model_validate(
        {"items": page.items, "next_cursor": page.next_cursor}, from_attributes=True
    )


@router.post("/{job_id}/cancel")
def cancel_job(job_id: str, session: SessionDep, principal: PrincipalDep) -> JobOut:
    return JobOut.model_validate(service.cancel(session, principal, job_id))

"""Job lifecycle in the store: submit, claim, heartbeat, progress, finish, cancel and crash recovery.

Claiming is a conditional UPDATE (`WHERE status = 'queued'`), so two workers, in one process or in many
replicas on PostgreSQL, never run the same job. Every state change is one short transaction.
"""

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from sqlalchemy import delete, func, select, update
from sqlalchemy.orm import Session

from keel.core.auth import Principal, Role
from keel.core.clock import utcnow
from keel.core.errors import Conflict, InvalidInput, NotFound
from keel.core.ids import new_id
from keel.core.pagination import Page, check_limit, decode_cursor, page_of
from keel.jobs.models import FINAL_STATUSES, Job, JobLog

STATUSES = ("queued", "running", *FINAL_STATUSES)


def submit(
    session: Session, principal: Principal, kind: str, params: dict[str, Any], *, max_attempts: int = 3
) -> Job:
    principal.require(Role.member)
    job = Job(
        id=new_id("job"), project_id=principal.project_id, kind=kind, params=params, max_attempts=max_attempts
    )
    session.add(job)
    session.commit()
    return job


def list_jobs(
    session: Session,
    principal: Principal,
    *,
    status: str | None,
    kind: str | None,
    cursor: str | None,
    limit: int,
) -> Page[Job]:
    if status is not None and status not in STATUSES:
        raise InvalidInput(f"status must be one of {', '.join(STATUSES)}; got {status!r}")
    query = select(Job).where(Job.project_id == principal.project_id).order_by(Job.id.desc())
    if status:
        query = query.where(Job.status == status)
    if kind:
        query = query.where(Job.kind == kind)
    if before := decode_cursor(cursor):
        query = query.where(Job.id < before)
    return page_of(list(session.scalars(query.limit(check_limit(limit) + 1))), limit, lambda j: j.id)


def get_job(session: Session, principal: Principal, job_id: str) -> Job:
    job = session.get(Job, job_id)
    if job is None or not principal.can_see(job.project_id):
        raise NotFound(f"job {job_id!r} not found")
    return job


def job_logs(
    session: Session, principal: Principal, job_id: str, cursor: str | None, limit: int
) -> Page[JobLog]:
    get_job(session, principal, job_id)
    query = select(JobLog).where(JobLog.job_id == job_id).order_by(JobLog.id)
    if after := decode_cursor(cursor):
        prefix, _, number = after.partition("_")
        if prefix != "log" or not number.isdigit():
            raise InvalidInput(f"cursor {cursor!r} is not a cursor this API returned")
        query = query.where(JobLog.id > int(number))
    rows = list(session.scalars(query.limit(check_limit(limit) + 1)))
    return page_of(rows, limit, lambda entry: f"log_{entry.id}")


def cancel(session: Session, principal: Principal, job_id: str) -> Job:
    job = get_job(session, principal, job_id)
    principal.require(Role.member)
    if job.status in FINAL_STATUSES:
        raise Conflict(f"job {job_id} already {job.status}; nothing to cancel")
    now = utcnow()
    done = _changed(
        session,
        update(Job)
        .where(Job.id == job_id, Job.status == "queued")
        .values(status="cancelled", finished_at=now),
    )
    if not done:
        session.execute(update(Job).where(Job.id == job_id).values(cancel_requested=True))
    session.add(
        JobLog(job_id=job_id, message="cancel requested" if not done else "cancelled before it started")
    )
    session.commit()
    session.refresh(job)
    return job


def claim_next(session: Session, worker_id: str, kinds: Iterable[str]) -> Job | None:
    kinds = list(kinds)
    for _ in range(5):
        candidate = session.scalar(
            select(Job.id).where(Job.status == "queued", Job.kind.in_(kinds)).order_by(Job.id).limit(1)
        )
        if candidate is None:
            return None
        now = utcnow()
        claimed = _changed(
            session,
            update(Job)
            .where(Job.id == candidate, Job.status == "queued")
            .values(
                status="running",
                worker_id=worker_id,
                attempts=Job.attempts + 1,
                started_at=now,
                heartbeat_at=now,
            ),
        )
        session.commit()
        if claimed:
            return session.get(Job, candidate)
    return None


def heartbeat(session: Session, worker_id: str) -> set[str]:
    """Stamp this worker's running jobs as alive; return the ids whose cancellation was requested."""
    session.execute(
        update(Job).where(Job.worker_id == worker_id, Job.status == "running").values(heartbeat_at=utcnow())
    )
    session.commit()
    return set(
        session.scalars(
            select(Job.id).where(Job.worker_id == worker_id, Job.status == "running", Job.cancel_requested)
        )
    )


def record_progress(session: Session, job_id: str, fraction: float, message: str | None) -> bool:
    """Store progress; return whether cancellation was requested."""
    session.execute(
        update(Job)
        .where(Job.id == job_id)
        .values(progress=max(0.0, min(1.0, fraction)), progress_message=message, heartbeat_at=utcnow())
    )
    session.commit()
    return bool(session.scalar(select(Job.cancel_requested).where(Job.id == job_id)))


def add_log(session: Session, job_id: str, message: str, level: str = "info") -> None:
    session.add(JobLog(job_id=job_id, level=level, message=message))
    session.commit()


def finish(
    session: Session,
    job_id: str,
    worker_id: str,
    status: str,
    *,
    result: dict[str, Any] | None = None,
    error: str | None = None,
) -> None:
    values: dict[str, Any] = {"status": status, "result": result, "error": error, "finished_at": utcnow()}
    if status == "succeeded":
        values["progress"] = 1.0
    ended = session.execute(
        update(Job)
        .where(Job.id == job_id, Job.worker_id == worker_id, Job.status == "running")
        .values(**values)
    )
    if getattr(
        ended, "rowcount", 0
    ):  # the last log line commits with the status: readers see both or neither
        session.add(JobLog(job_id=job_id, level="info", message=f"finished: {status}"))
    session.commit()


def requeue_interrupted(session: Session, job_id: str, worker_id: str) -> None:
    """A graceful shutdown interrupted the job: put it back without spending an attempt."""
    session.execute(
        update(Job)
        .where(Job.id == job_id, Job.worker_id == worker_id, Job.status == "running")
        .values(status="queued", worker_id=None, attempts=Job.attempts - 1)
    )
    session.add(JobLog(job_id=job_id, level="warning", message="interrupted by shutdown; requeued"))
    session.commit()


def reap_stale(session: Session, stale_before: datetime) -> list[tuple[str, str]]:
    """Jobs whose worker stopped heartbeating are retried, or failed once out of attempts."""
    actions: list[tuple[str, str]] = []
    stale = session.scalars(select(Job).where(Job.status == "running", Job.heartbeat_at < stale_before))
    for job in list(stale):
        lost = f"worker {job.worker_id} stopped responding during attempt {job.attempts}"
        if job.attempts >= job.max_attempts or job.cancel_requested:
            status = "cancelled" if job.cancel_requested else "failed"
            job.status, job.finished_at = status, utcnow()
            job.error = None if job.cancel_requested else f"{lost}; gave up after {job.attempts} attempts"
            session.add(JobLog(job_id=job.id, level="error", message=f"{lost}; marked {status}"))
        else:
            job.status, job.worker_id = "queued", None
            session.add(JobLog(job_id=job.id, level="warning", message=f"{lost}; requeued"))
        actions.append((job.id, job.status))
    session.commit()
    return actions


def delete_finished(session: Session, project_id: str, before: datetime, *, keep: str) -> int:
    deleted = _changed(
        session,
        delete(Job).where(
            Job.project_id == project_id,
            Job.status.in_(FINAL_STATUSES),
            Job.finished_at < before,
            Job.id != keep,
        ),
    )
    session.commit()
    return deleted


def _changed(session: Session, statement: Any) -> int:
    """Rows an UPDATE/DELETE touched."""
    return int(getattr(session.execute(statement), "rowcount", 0))


def counts(session: Session) -> list[tuple[str, str, str, int]]:
    """(project id, kind, status, jobs) for every combination present: the metrics' job gauge."""
    rows = session.execute(
        select(Job.project_id, Job.kind, Job.status, func.count()).group_by(
            Job.project_id, Job.kind, Job.status
        )
    )
    return [(project, kind, status, count) for project, kind, status, count in rows]

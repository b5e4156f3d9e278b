"""Built-in job kind `maintenance.prune_jobs`: delete a project's finished jobs older than N days."""

from datetime import timedelta
from typing import Any

from keel.core.clock import utcnow
from keel.core.errors import InvalidInput
from keel.jobs import service
from keel.jobs.context import JobContext


def prune_jobs(ctx: JobContext) -> dict[str, Any]:
    days = ctx.params.get("older_than_days", 30)
    if not isinstance(days, int) or isinstance(days, bool) or days < 0:
        raise InvalidInput(f"older_than_days must be a non-negative integer, got {days!r}")
    cutoff = utcnow() - timedelta(days=days)
    with ctx.session() as session:
        deleted = service.delete_finished(session, ctx.project_id, cutoff, keep=ctx.job_id)
    ctx.log(f"deleted {deleted} finished jobs older than {cutoff.isoformat()}")
    return {"deleted": deleted, "cutoff": cutoff.isoformat()}

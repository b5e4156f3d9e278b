"""Feedback API under `/api/v1/feedback`: record, list, delete, and summarise by a trace dimension."""

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Query, Response

from keel.feedback import service
from keel.feedback.models import Feedback
from keel.feedback.schemas import FeedbackGroup, FeedbackIn, FeedbackList, FeedbackOut, FeedbackSummary
from keel.server.deps import PrincipalDep, SessionDep

router = APIRouter(prefix="/api/v1/feedback", tags=["feedback"])
PageLimit = Annotated[int, Query(ge=1, le=200)]


def out(feedback: Feedback) -> FeedbackOut:
    return FeedbackOut(
        id=feedback.id,
        trace_id=feedback.trace_id,
        experiment_id=feedback.experiment_id,
        item_key=feedback.item_key,
        name=feedback.name,
        value=feedback.value,
        label=feedback.label,
        comment=feedback.comment,
        author=feedback.author,
        source=feedback.source,
        created_at=feedback.created_at,
    )


@router.post("", status_code=201)
def create(body: FeedbackIn, session: SessionDep, principal: PrincipalDep) -> FeedbackOut:
    return out(service.record(session, principal, body))


@router.get("")
def list_all(
    session: SessionDep,
    principal: PrincipalDep,
    trace_id: str | None = None,
    experiment_id: str | None = None,
    item_key: str | None = None,
    name: str | None = None,
    cursor: str | None = None,
    limit: PageLimit = 50,
) -> FeedbackList:
    filters = {
        "trace_id": trace_id.lower() if trace_id else None,
        "experiment_id": experiment_id,
        "item_key": item_key,
        "name": name,
    }
    page = service.list_feedback(session, principal, filters, cursor, limit)
    return FeedbackList(items=[out(f) for f in page.items], next_cursor=page.next_cursor)


@router.get("/summary")
def summary(
    session: SessionDep,
    principal: PrincipalDep,
    group_by: str = "prompt_version",
    name: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> FeedbackSummary:
    """Feedback on traces grouped by a trace column (prompt_version, model, route, name, user, ...)."""
    rows = service.summarize(session, principal, group_by, name, since, until)
    return FeedbackSummary(group_by=group_by, items=[FeedbackGroup(**r) for r in rows])


@router.delete("/{feedback_id}", status_code=204)
def delete(feedback_id: str, session: SessionDep, principal: PrincipalDep) -> Response:
    service.delete(session, principal, feedback_id)
    return Response(status_code=204)

"""Annotation queues under `/api/v1/annotation-queues`: create, add items, next item, review, progress."""

from fastapi import APIRouter, Response

from keel.feedback import queries
from keel.feedback.models import AnnotationItem, AnnotationQueue
from keel.feedback.schemas import QueueIn, QueueItemOut, QueueItemsIn, QueueOut, ReviewIn
from keel.server.deps import PrincipalDep, SessionDep

router = APIRouter(prefix="/api/v1/annotation-queues", tags=["feedback"])


def out(session: SessionDep, queue: AnnotationQueue) -> QueueOut:
    return QueueOut(
        id=queue.id,
        name=queue.name,
        description=queue.description,
        score_names=queue.score_names,
        reviews_per_item=queue.reviews_per_item,
        created_at=queue.created_at,
        **queries.progress(session, queue),
    )


def item_out(item: AnnotationItem, content: dict[str, object] | None = None) -> QueueItemOut:
    return QueueItemOut(
        id=item.id,
        trace_id=item.trace_id,
        experiment_id=item.experiment_id,
        item_key=item.item_key,
        assignee=item.assignee,
        status=item.status,
        reviews=item.reviews,
        **(content or {}),
    )


@router.post("", status_code=201)
def create(body: QueueIn, session: SessionDep, principal: PrincipalDep) -> QueueOut:
    return out(session, queries.create_queue(session, principal, body))


@router.get("")
def list_all(session: SessionDep, principal: PrincipalDep) -> dict[str, list[QueueOut]]:
    return {"items": [out(session, q) for q in queries.list_queues(session, principal)]}


@router.get("/{name}")
def get(name: str, session: SessionDep, principal: PrincipalDep) -> QueueOut:
    """Progress (total, done, pending, reviews per reviewer) and agreement between reviewers per score."""
    return out(session, queries.get_queue(session, principal, name))


@router.post("/{name}/items")
def add_items(name: str, body: QueueItemsIn, session: SessionDep, principal: PrincipalDep) -> dict[str, int]:
    queue = queries.get_queue(session, principal, name)
    return {"added": queries.add_items(session, principal, queue, body)}


@router.get("/{name}/next", response_model=None)
def next_item(name: str, session: SessionDep, principal: PrincipalDep) -> QueueItemOut | Response:
    """The caller's next item (assigned to them or to nobody, not yet reviewed by them); 204 when none."""
    queue = queries.get_queue(session, principal, name)
    item = queries.next_item(session, principal, queue)
    if item is None:
        return Response(status_code=204)
    return item_out(item, queries.content(session, principal, item))


@router.post("/{name}/items/{item_id}/review")
def review(
    name: str, item_id: str, body: ReviewIn, session: SessionDep, principal: PrincipalDep
) -> QueueItemOut:
    queue = queries.get_queue(session, principal, name)
    return item_out(queries.review(session, principal, queue, item_id, body))

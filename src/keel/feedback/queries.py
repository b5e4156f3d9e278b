"""Annotation queues: add traces or experiment items, hand each reviewer their next item, record reviews as
feedback, and measure progress and agreement between reviewers."""

from itertools import combinations
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from keel.core.auth import Principal, Role
from keel.core.errors import Conflict, InvalidInput, NotFound
from keel.core.ids import new_id
from keel.db.named import add_unique, by_name
from keel.evals import service as experiments
from keel.feedback.models import AnnotationItem, AnnotationQueue, Feedback
from keel.feedback.schemas import QueueIn, QueueItemsIn, ReviewIn
from keel.tracing import queries as traces

SKIPPED = "_skipped"


def source(queue: AnnotationQueue) -> str:
    return f"annotation:{queue.name}"


def create_queue(session: Session, principal: Principal, data: QueueIn) -> AnnotationQueue:
    principal.require(Role.member)
    queue = AnnotationQueue(
        id=new_id("aq"),
        project_id=principal.project_id,
        name=data.name,
        description=data.description,
        score_names=data.score_names,
        reviews_per_item=data.reviews_per_item,
    )
    return add_unique(session, queue, f"an annotation queue named {data.name!r} already exists")


def get_queue(session: Session, principal: Principal, name: str) -> AnnotationQueue:
    return by_name(session, AnnotationQueue, principal.project_id, name, "annotation queue")


def list_queues(session: Session, principal: Principal) -> list[AnnotationQueue]:
    query = select(AnnotationQueue).where(AnnotationQueue.project_id == principal.project_id)
    return list(session.scalars(query.order_by(AnnotationQueue.name)))


def add_items(session: Session, principal: Principal, queue: AnnotationQueue, data: QueueItemsIn) -> int:
    principal.require(Role.member)
    rows = [
        AnnotationItem(id=new_id("ai"), queue_id=queue.id, trace_id=t.lower(), assignee=data.assignee)
        for t in data.trace_ids
    ]
    if data.experiment_id:
        experiment = experiments.get(session, principal, data.experiment_id)
        known = {r.item_key for r in experiments.all_results(session, experiment.id)}
        missing = [k for k in data.item_keys if k not in known]
        if missing:
            raise InvalidInput(f"experiment {experiment.id} has no results for: {', '.join(missing[:10])}")
        rows += [
            AnnotationItem(
                id=new_id("ai"),
                queue_id=queue.id,
                experiment_id=experiment.id,
                item_key=k,
                assignee=data.assignee,
            )
            for k in data.item_keys
        ]
    session.add_all(rows)
    session.commit()
    return len(rows)


def _reviewed_by(
    session: Session, queue: AnnotationQueue, author: str
) -> tuple[set[str | None], set[tuple[str | None, str | None]]]:
    query = select(Feedback.trace_id, Feedback.experiment_id, Feedback.item_key).where(
        Feedback.project_id == queue.project_id, Feedback.source == source(queue), Feedback.author == author
    )
    rows = session.execute(query).all()
    return {r[0] for r in rows if r[0]}, {(r[1], r[2]) for r in rows if r[1]}


def next_item(session: Session, principal: Principal, queue: AnnotationQueue) -> AnnotationItem | None:
    traces_done, items_done = _reviewed_by(session, queue, principal.key_id)
    query = select(AnnotationItem).where(
        AnnotationItem.queue_id == queue.id,
        AnnotationItem.status == "pending",
        (AnnotationItem.assignee.is_(None)) | (AnnotationItem.assignee == principal.key_id),
    )
    for item in session.scalars(query.order_by(AnnotationItem.id)):
        if item.trace_id in traces_done or (item.experiment_id, item.item_key) in items_done:
            continue
        return item
    return None


def content(session: Session, principal: Principal, item: AnnotationItem) -> dict[str, Any]:
    """What the reviewer sees: the trace's first input/output, or the experiment item's."""
    if item.trace_id:
        try:
            _, spans = traces.get_trace(session, principal, item.trace_id)
        except NotFound:
            return {}
        first = next((s for s in spans if s.input or s.output), None)
        return {"input": first.input, "output": first.output} if first else {}
    for result in experiments.all_results(session, str(item.experiment_id)):
        if result.item_key == item.item_key:
            return {"input": result.input, "output": result.output, "expected": result.expected}
    return {}


def review(
    session: Session, principal: Principal, queue: AnnotationQueue, item_id: str, data: ReviewIn
) -> AnnotationItem:
    principal.require(Role.member)
    item = session.get(AnnotationItem, item_id)
    if item is None or item.queue_id != queue.id:
        raise NotFound(f"annotation queue {queue.name!r} has no item {item_id!r}")
    traces_done, items_done = _reviewed_by(session, queue, principal.key_id)
    if item.trace_id in traces_done or (item.experiment_id, item.item_key) in items_done:
        raise Conflict("you have already reviewed this item")
    unknown = sorted(set(data.scores) - set(queue.score_names))
    if unknown:
        raise InvalidInput(f"this queue scores {', '.join(queue.score_names)}; not {', '.join(unknown)}")
    if not data.skip and not data.scores and data.label is None and data.comment is None:
        raise InvalidInput("a review needs scores, a label or a comment (or skip: true)")
    target = {"trace_id": item.trace_id, "experiment_id": item.experiment_id, "item_key": item.item_key}

    def feedback(name: str, value: float | None, label: str | None, comment: str | None) -> Feedback:
        return Feedback(
            id=new_id("fb"),
            project_id=queue.project_id,
            name=name,
            value=value,
            label=label,
            comment=comment,
            author=principal.key_id,
            source=source(queue),
            **target,
        )

    if data.skip:
        session.add(feedback(SKIPPED, None, "skipped", data.comment))
        if item.assignee == principal.key_id:
            item.assignee = None
    else:
        rows = [feedback(name, value, data.label, data.comment) for name, value in data.scores.items()]
        session.add_all(rows or [feedback("review", None, data.label, data.comment)])
        item.reviews += 1
        if item.reviews >= queue.reviews_per_item:
            item.status = "done"
    session.commit()
    return item


def progress(session: Session, queue: AnnotationQueue) -> dict[str, Any]:
    counts = dict(
        session.execute(
            select(AnnotationItem.status, func.count())
            .where(AnnotationItem.queue_id == queue.id)
            .group_by(AnnotationItem.status)
        ).all()
    )
    rows = session.execute(
        select(
            Feedback.author,
            Feedback.trace_id,
            Feedback.experiment_id,
            Feedback.item_key,
            Feedback.name,
            Feedback.value,
        ).where(
            Feedback.project_id == queue.project_id,
            Feedback.source == source(queue),
            Feedback.name != SKIPPED,
        )
    ).all()
    reviewers: dict[str, set[Any]] = {}
    values: dict[tuple[str, Any], dict[str, float]] = {}
    for author, trace_id, experiment_id, item_key, name, value in rows:
        target = trace_id or (experiment_id, item_key)
        reviewers.setdefault(author, set()).add(target)
        if value is not None:
            values.setdefault((name, target), {})[author] = value
    return {
        "total": sum(counts.values()),
        "done": counts.get("done", 0),
        "pending": counts.get("pending", 0),
        "reviewers": {author: len(items) for author, items in sorted(reviewers.items())},
        "agreement": _agreement(queue.score_names, values),
    }


def _agreement(
    names: list[str], values: dict[tuple[str, Any], dict[str, float]]
) -> dict[str, dict[str, Any]]:
    """Per score: over items two or more people scored, the share of reviewer pairs that gave the same value
    and the mean absolute difference between them."""
    found: dict[str, dict[str, Any]] = {}
    for name in names:
        pairs = [
            (a, b)
            for (metric, _), by_author in values.items()
            if metric == name and len(by_author) > 1
            for a, b in combinations(by_author.values(), 2)
        ]
        items = sum(1 for (metric, _), by_author in values.items() if metric == name and len(by_author) > 1)
        found[name] = {
            "items": items,
            "pairs": len(pairs),
            "exact_agreement": sum(a == b for a, b in pairs) / len(pairs) if pairs else None,
            "mean_abs_difference": sum(abs(a - b) for a, b in pairs) / len(pairs) if pairs else None,
        }
    return found

"""Record feedback on traces and experiment items, list it, and summarise it by a trace dimension
(prompt version, model, route, ...), so versions can be compared on what people said about them."""

from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from keel.core.auth import Principal, Role
from keel.core.errors import NotFound
from keel.core.ids import new_id
from keel.core.pagination import Page, check_limit, decode_cursor, page_of
from keel.evals import service as experiments
from keel.feedback.models import Feedback
from keel.feedback.schemas import FeedbackIn
from keel.tracing import queries as traces

MAX_SUMMARISED = 200_000


def record(session: Session, principal: Principal, data: FeedbackIn) -> Feedback:
    """Trace ids are accepted before their trace lands (feedback often arrives first); experiment items
    must exist."""
    principal.require(Role.member)
    if data.experiment_id is not None:
        experiment = experiments.get(session, principal, data.experiment_id)
        if data.item_key not in {r.item_key for r in experiments.all_results(session, experiment.id)}:
            raise NotFound(f"experiment {experiment.id} has no result for item {data.item_key!r}")
    feedback = Feedback(
        id=new_id("fb"),
        project_id=principal.project_id,
        trace_id=data.trace_id.lower() if data.trace_id else None,
        experiment_id=data.experiment_id,
        item_key=data.item_key,
        name=data.name,
        value=data.value,
        label=data.label,
        comment=data.comment,
        author=principal.key_id,
        source=data.source,
    )
    session.add(feedback)
    session.commit()
    return feedback


def list_feedback(
    session: Session,
    principal: Principal,
    filters: dict[str, Any],
    cursor: str | None,
    limit: int,
) -> Page[Feedback]:
    query = select(Feedback).where(Feedback.project_id == principal.project_id)
    for field in ("trace_id", "experiment_id", "item_key", "name"):
        if filters.get(field) is not None:
            query = query.where(getattr(Feedback, field) == filters[field])
    if after := decode_cursor(cursor):
        query = query.where(Feedback.id < after)
    rows = list(session.scalars(query.order_by(Feedback.id.desc()).limit(check_limit(limit) + 1)))
    return page_of(rows, limit, lambda f: f.id)


def delete(session: Session, principal: Principal, feedback_id: str) -> None:
    principal.require(Role.member)
    found = session.get(Feedback, feedback_id)
    if found is None or found.project_id != principal.project_id:
        raise NotFound(f"feedback {feedback_id!r} not found")
    session.delete(found)
    session.commit()


def summarize(
    session: Session,
    principal: Principal,
    group_by: str,
    name: str | None,
    since: datetime | None,
    until: datetime | None,
) -> list[dict[str, Any]]:
    query = select(Feedback.trace_id, Feedback.name, Feedback.value, Feedback.label).where(
        Feedback.project_id == principal.project_id, Feedback.trace_id.is_not(None)
    )
    if name is not None:
        query = query.where(Feedback.name == name)
    if since is not None:
        query = query.where(Feedback.created_at >= since)
    if until is not None:
        query = query.where(Feedback.created_at < until)
    rows = session.execute(query.limit(MAX_SUMMARISED)).all()
    groups = traces.trace_groups(session, principal, sorted({r.trace_id for r in rows}), group_by)
    buckets: dict[tuple[str | None, str], dict[str, Any]] = {}
    for row in rows:
        if row.trace_id not in groups:
            continue  # feedback on a trace that has not landed (or was swept) yet
        entry = buckets.setdefault((groups[row.trace_id], row.name), {"values": [], "labels": {}, "n": 0})
        entry["n"] += 1
        if row.value is not None:
            entry["values"].append(row.value)
        if row.label is not None:
            entry["labels"][row.label] = entry["labels"].get(row.label, 0) + 1
    return [
        {
            "group": group,
            "name": feedback_name,
            "n": entry["n"],
            "mean": sum(entry["values"]) / len(entry["values"]) if entry["values"] else None,
            "labels": entry["labels"],
        }
        for (group, feedback_name), entry in sorted(buckets.items(), key=lambda kv: (str(kv[0][0]), kv[0][1]))
    ]


def record_scores(
    session: Session,
    project_id: str,
    trace_id: str,
    scored: Any,
    source: str,
    author: str,
) -> int:
    """Store an evaluator's verdicts on a trace: a value per metric, or the reason it could not score.

    `scored` has `scores`, `errors` and `reasons` (keel.evals.scoring.Scored). The caller commits.
    """
    rows = [
        Feedback(
            id=new_id("fb"),
            project_id=project_id,
            trace_id=trace_id,
            name=metric,
            value=value,
            comment=scored.reasons.get(metric),
            author=author,
            source=source,
        )
        for metric, value in scored.scores.items()
    ] + [
        Feedback(
            id=new_id("fb"),
            project_id=project_id,
            trace_id=trace_id,
            name=metric,
            value=None,
            label="not scored",
            comment=reason,
            author=author,
            source=source,
        )
        for metric, reason in scored.errors.items()
    ]
    session.add_all(rows)
    return len(rows)


def traces_with_source(session: Session, project_id: str, trace_ids: list[str], source: str) -> set[str]:
    """Which of these traces already have feedback from `source` (an online rule scores a trace once)."""
    if not trace_ids:
        return set()
    query = select(Feedback.trace_id).where(
        Feedback.project_id == project_id, Feedback.source == source, Feedback.trace_id.in_(trace_ids)
    )
    return {t for t in session.scalars(query) if t is not None}


def values_for(session: Session, project_id: str, name: str, trace_ids: list[str]) -> dict[str, list[float]]:
    """Scores named `name` on these traces (for trace aggregates)."""
    found: dict[str, list[float]] = {}
    for offset in range(0, len(trace_ids), 500):
        query = select(Feedback.trace_id, Feedback.value).where(
            Feedback.project_id == project_id,
            Feedback.name == name,
            Feedback.value.is_not(None),
            Feedback.trace_id.in_(trace_ids[offset : offset + 500]),
        )
        for trace_id, value in session.execute(query).all():
            if trace_id is not None and value is not None:
                found.setdefault(trace_id, []).append(float(value))
    return found

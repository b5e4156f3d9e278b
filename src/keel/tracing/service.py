"""Trace writes: idempotent span inserts, rollup refresh, per-project retention and the expiry sweep.

Spans are inserted with ON CONFLICT DO NOTHING on (project, trace, span), so an exporter retrying a batch
after a timeout stores nothing twice. Each touched trace's rollup is then rebuilt from all its stored spans,
which keeps it exact whatever order or batches the spans arrive in.
"""

import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, select, tuple_
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from keel.core.auth import Principal, Role
from keel.tracing.models import Span, Trace, TraceRetention
from keel.tracing.rollup import ROLLUP_COLUMNS, rollup

_CHUNK = 400


def _insert(session: Session) -> Any:
    return postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert


def write_spans(session: Session, rows: list[dict[str, Any]]) -> None:
    """Store a batch of span rows and refresh the rollups of every trace they touch, in one transaction."""
    if not rows:
        return
    insert = _insert(session)
    session.execute(
        insert(Span).on_conflict_do_nothing(index_elements=["project_id", "trace_id", "span_id"]), rows
    )
    touched: dict[str, set[str]] = defaultdict(set)
    for row in rows:
        touched[row["project_id"]].add(row["trace_id"])
    now = time.time_ns()
    rollups = []
    columns = [getattr(Span, name) for name in ROLLUP_COLUMNS]
    for project_id, trace_ids in touched.items():
        ids = sorted(trace_ids)
        for offset in range(0, len(ids), _CHUNK):
            chunk = ids[offset : offset + _CHUNK]
            spans: dict[str, list[dict[str, Any]]] = defaultdict(list)
            query = select(*columns).where(Span.project_id == project_id, Span.trace_id.in_(chunk))
            for span in session.execute(query).mappings():
                spans[span["trace_id"]].append(dict(span))
            rollups += [rollup(project_id, trace_spans, now) for trace_spans in spans.values()]
    statement = insert(Trace)
    keys = [c for c in rollups[0] if c not in ("project_id", "trace_id")] if rollups else []
    upsert = statement.on_conflict_do_update(
        index_elements=["project_id", "trace_id"], set_={k: statement.excluded[k] for k in keys}
    )
    for offset in range(0, len(rollups), _CHUNK):
        session.execute(upsert, rollups[offset : offset + _CHUNK])


def get_retention(session: Session, principal: Principal, default_days: int) -> int:
    row = session.get(TraceRetention, principal.project_id)
    return row.days if row else default_days


def set_retention(session: Session, principal: Principal, days: int) -> int:
    principal.require(Role.admin)
    row = session.get(TraceRetention, principal.project_id)
    if row is None:
        session.add(TraceRetention(project_id=principal.project_id, days=days))
    else:
        row.days = days
    session.commit()
    return days


def sweep_expired(
    session: Session, project_ids: Iterable[str], default_days: int, batch: int, now_ns: int | None = None
) -> int:
    """Delete expired traces in batches of at most `batch` spans per transaction; returns spans deleted."""
    now_ns = now_ns or time.time_ns()
    custom = {r.project_id: r.days for r in session.scalars(select(TraceRetention))}
    deleted = 0
    for project_id in project_ids:
        days = custom.get(project_id, default_days)
        if days <= 0:
            continue
        cutoff = now_ns - days * 86_400 * 1_000_000_000
        while True:
            expired = list(
                session.execute(
                    select(Trace.trace_id, Trace.span_count)
                    .where(Trace.project_id == project_id, Trace.end_ns < cutoff)
                    .limit(max(1, batch // 10))
                )
            )
            if not expired:
                break
            ids: list[str] = []
            taken = 0
            for trace_id, count in expired:
                if ids and taken + count > batch:
                    break
                ids.append(trace_id)
                taken += count
            session.execute(delete(Span).where(Span.project_id == project_id, Span.trace_id.in_(ids)))
            session.execute(
                delete(Trace).where(
                    tuple_(Trace.project_id, Trace.trace_id).in_([(project_id, trace_id) for trace_id in ids])
                )
            )
            session.commit()
            deleted += taken
    return deleted

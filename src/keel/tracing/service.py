"""Trace writes: idempotent span inserts, rollup refresh, per-project retention and the expiry sweep.

Spans are inserted with ON CONFLICT DO NOTHING on (project, trace, span), so an exporter retrying a batch
after a timeout stores nothing twice. Each touched trace's rollup is then rebuilt from all its stored spans,
which keeps it exact whatever order or batches the spans arrive in.
"""

import functools
import time
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

import orjson
from sqlalchemy import delete, select, tuple_
from sqlalchemy.orm import Session

from keel.core.auth import Principal, Role
from keel.tracing.models import Span, Trace, TraceRetention
from keel.tracing.rollup import ROLLUP_COLUMNS, rollup

_CHUNK = 400
SPAN_COLUMNS = tuple(c.name for c in Span.__table__.columns if c.name != "pk")
TRACE_COLUMNS = tuple(c.name for c in Trace.__table__.columns)
JSON_COLUMNS = frozenset({"attributes", "events", "resource"})


@functools.cache
def _statements(paramstyle: str, postgres: bool) -> tuple[str, str]:
    """Driver-level SQL for the two hot statements; SQLAlchemy's per-row compilation cost more than SQLite's
    own insert. `ON CONFLICT` has the same syntax on SQLite and PostgreSQL."""
    mark = "?" if paramstyle == "qmark" else "%s"

    def values(columns: tuple[str, ...]) -> str:
        return ", ".join(f"{mark}::jsonb" if postgres and c in JSON_COLUMNS else mark for c in columns)

    def names(columns: tuple[str, ...]) -> str:
        return ", ".join(f'"{c}"' for c in columns)

    spans = (
        f"INSERT INTO spans ({names(SPAN_COLUMNS)}) VALUES ({values(SPAN_COLUMNS)}) "
        "ON CONFLICT (project_id, trace_id, span_id) DO NOTHING"
    )
    updates = ", ".join(
        f'"{c}" = excluded."{c}"' for c in TRACE_COLUMNS if c not in ("project_id", "trace_id")
    )
    traces = (
        f"INSERT INTO traces ({names(TRACE_COLUMNS)}) VALUES ({values(TRACE_COLUMNS)}) "
        f"ON CONFLICT (project_id, trace_id) DO UPDATE SET {updates}"
    )
    return spans, traces


def _json(value: Any) -> str | None:
    return None if value is None else orjson.dumps(value, default=str).decode()


def write_spans(session: Session, rows: list[dict[str, Any]]) -> None:
    """Store a batch of span rows and refresh the rollups of every trace they touch, in one transaction."""
    if not rows:
        return
    connection = session.connection()
    span_sql, trace_sql = _statements(connection.dialect.paramstyle, connection.dialect.name == "postgresql")
    connection.exec_driver_sql(
        span_sql,
        [tuple(_json(row[c]) if c in JSON_COLUMNS else row[c] for c in SPAN_COLUMNS) for row in rows],
    )
    batch: dict[tuple[str, str], dict[str, dict[str, Any]]] = defaultdict(dict)
    for row in rows:
        batch[(row["project_id"], row["trace_id"])].setdefault(row["span_id"], row)
    now = time.time_ns()
    rollups = []
    for project_id, trace_ids in _by_project(batch).items():
        for offset in range(0, len(trace_ids), _CHUNK):
            chunk = trace_ids[offset : offset + _CHUNK]
            maybe_stored = [t for t in chunk if not _fresh(batch[(project_id, t)])]
            stored = set(
                session.scalars(
                    select(Trace.trace_id).where(
                        Trace.project_id == project_id, Trace.trace_id.in_(maybe_stored)
                    )
                )
                if maybe_stored
                else ()
            )
            spans = {t: list(batch[(project_id, t)].values()) for t in chunk if t not in stored}
            spans.update(_stored_spans(session, project_id, sorted(stored)))
            rollups += [rollup(project_id, trace_spans, now) for trace_spans in spans.values()]
    connection.exec_driver_sql(trace_sql, [tuple(r[c] for c in TRACE_COLUMNS) for r in rollups])


def _fresh(spans: dict[str, dict[str, Any]]) -> bool:
    """Spans of a trace Keel itself started in this process (`fresh_trace`): nothing else can be stored."""
    return all(row.get("fresh_trace") for row in spans.values())


def _by_project(batch: dict[tuple[str, str], Any]) -> dict[str, list[str]]:
    grouped: dict[str, list[str]] = defaultdict(list)
    for project_id, trace_id in batch:
        grouped[project_id].append(trace_id)
    return grouped


def _stored_spans(session: Session, project_id: str, trace_ids: list[str]) -> dict[str, list[dict[str, Any]]]:
    """All stored spans of traces that already had spans before this batch (late or retried spans)."""
    spans: dict[str, list[dict[str, Any]]] = defaultdict(list)
    if trace_ids:
        columns = [getattr(Span, name) for name in ROLLUP_COLUMNS]
        query = select(*columns).where(Span.project_id == project_id, Span.trace_id.in_(trace_ids))
        for span in session.execute(query).mappings():
            spans[span["trace_id"]].append(dict(span))
    return spans


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

"""Trace reads: filtered, sorted, keyset-paginated lists; one trace with its spans; time-bucketed aggregates.

Lists and aggregates read the `traces` rollup (one row per trace, indexed by project and start time); only
free-text search and the trace view touch `spans`.
"""

from collections import defaultdict
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Select, and_, exists, or_, select
from sqlalchemy.orm import Session

from keel.core.auth import Principal
from keel.core.errors import InvalidInput, NotFound
from keel.core.money import to_micros, to_usd
from keel.core.pagination import Page, decode_cursor, encode_cursor
from keel.tracing.models import Span, Trace
from keel.tracing.schemas import AggregateQuery, TraceQuery

SORT_COLUMNS = {
    "start": Trace.start_ns,
    "duration": Trace.duration_ms,
    "cost": Trace.cost_micros,
    "tokens": Trace.total_tokens,
    "updated": Trace.updated_ns,
}
GROUP_COLUMNS = {
    "model": Trace.model,
    "route": Trace.route,
    "prompt_version": Trace.prompt_version,
    "name": Trace.name,
    "user": Trace.user_id,
    "session": Trace.session_id,
    "status": Trace.status,
    "tag": Trace.tags,
}
BUCKET_NS = {"1m": 60, "5m": 300, "15m": 900, "1h": 3600, "6h": 21600, "1d": 86400}
MAX_AGGREGATE_ROWS = 1_000_000


def to_ns(value: datetime) -> int:
    if value.tzinfo is None:
        raise InvalidInput(f"time {value.isoformat()} needs a time zone, e.g. 2026-01-01T00:00:00Z")
    return int(value.timestamp() * 1_000_000) * 1000


def _filtered(principal: Principal, query: TraceQuery | AggregateQuery) -> Select[Any]:
    statement = select(Trace).where(Trace.project_id == principal.project_id)
    if query.since:
        statement = statement.where(Trace.start_ns >= to_ns(query.since))
    if query.until:
        statement = statement.where(Trace.start_ns < to_ns(query.until))
    if not isinstance(query, TraceQuery):
        return statement
    equals = {
        Trace.name: query.name,
        Trace.model: query.model,
        Trace.status: query.status,
        Trace.user_id: query.user,
        Trace.session_id: query.session,
        Trace.route: query.route,
        Trace.prompt_version: query.prompt_version,
    }
    statement = statement.where(*(column == value for column, value in equals.items() if value is not None))
    if query.tag:
        statement = statement.where(Trace.tags.contains(f"|{query.tag}|", autoescape=True))
    # `column + 0` keeps SQLite from driving an unselective range filter through its index when the list is
    # sorted by another column; PostgreSQL's planner has statistics and is unaffected.
    if query.min_latency_ms is not None:
        duration = Trace.duration_ms if query.sort == "duration" else Trace.duration_ms + 0
        statement = statement.where(duration >= query.min_latency_ms)
    if query.min_cost_usd is not None:
        cost = Trace.cost_micros if query.sort == "cost" else Trace.cost_micros + 0
        statement = statement.where(cost >= to_micros(query.min_cost_usd))
    if query.q:
        pattern = "%" + query.q.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"
        matches = exists().where(
            Span.project_id == Trace.project_id,
            Span.trace_id == Trace.trace_id,
            or_(Span.input.ilike(pattern, escape="\\"), Span.output.ilike(pattern, escape="\\")),
        )
        statement = statement.where(matches)
    return statement


def list_traces(
    session: Session, principal: Principal, query: TraceQuery, updated_after_ns: int | None = None
) -> Page[Trace]:
    column = SORT_COLUMNS[query.sort]
    statement = _filtered(principal, query)
    if updated_after_ns is not None:
        statement = statement.where(Trace.updated_ns > updated_after_ns)
    descending = query.order == "desc"
    if after := decode_cursor(query.cursor):
        value, _, trace_id = after.rpartition("_")
        try:
            number: float = float(value) if query.sort == "duration" else int(value)
        except ValueError:
            raise InvalidInput(f"cursor {query.cursor!r} does not belong to sort={query.sort}") from None
        beyond = column < number if descending else column > number
        tie = Trace.trace_id < trace_id if descending else Trace.trace_id > trace_id
        statement = statement.where(or_(beyond, and_(column == number, tie)))
    order = (column.desc(), Trace.trace_id.desc()) if descending else (column.asc(), Trace.trace_id.asc())
    rows = list(session.scalars(statement.order_by(*order).limit(query.limit + 1)))
    items = rows[: query.limit]
    cursor = None
    if len(rows) > query.limit:
        last = items[-1]
        cursor = encode_cursor(f"{getattr(last, column.key)}_{last.trace_id}")
    return Page(items=items, next_cursor=cursor)


def get_trace(session: Session, principal: Principal, trace_id: str) -> tuple[Trace, list[Span]]:
    trace = session.get(Trace, (principal.project_id, trace_id.lower()))
    if trace is None:
        raise NotFound(f"trace {trace_id!r} not found")
    spans = session.scalars(
        select(Span)
        .where(Span.project_id == principal.project_id, Span.trace_id == trace.trace_id)
        .order_by(Span.start_ns, Span.pk)
    )
    return trace, list(spans)


FeedbackValues = Callable[[list[str]], dict[str, list[float]]]


def _aggregate_rows(session: Session, principal: Principal, query: AggregateQuery) -> list[Any]:
    group = GROUP_COLUMNS.get(query.group_by)
    columns = [
        Trace.start_ns,
        Trace.status,
        Trace.duration_ms,
        Trace.prompt_tokens,
        Trace.completion_tokens,
        Trace.total_tokens,
        Trace.cost_micros,
        Trace.trace_id,
    ]
    base = _filtered(principal, query).with_only_columns(*columns, *([group] if group is not None else []))
    rows: list[Any] = list(session.execute(base.limit(MAX_AGGREGATE_ROWS + 1)).all())
    if len(rows) > MAX_AGGREGATE_ROWS:
        raise InvalidInput(f"more than {MAX_AGGREGATE_ROWS} traces in range; narrow since/until")
    return rows


def _buckets(rows: list[Any], width: int, group_by: str) -> dict[tuple[int, str | None], list[Any]]:
    cells: dict[tuple[int, str | None], list[Any]] = defaultdict(list)
    grouped = GROUP_COLUMNS.get(group_by) is not None
    for row in rows:
        bucket: int = row[0] // width * width
        keys: list[str | None] = [row[8]] if grouped else [None]
        if group_by == "tag":
            keys = [t for t in (row[8] or "").strip("|").split("|") if t] or [None]
        for key in keys:
            cells[(bucket, key)].append(row)
    return cells


def aggregates(
    session: Session, principal: Principal, query: AggregateQuery, feedback: FeedbackValues | None = None
) -> list[dict[str, Any]]:
    """Buckets of counts, errors, latency percentiles, tokens and cost; with `query.feedback` and a
    `feedback(trace_ids)` lookup, also the mean of that feedback score over each bucket's traces."""
    rows = _aggregate_rows(session, principal, query)
    cells = _buckets(rows, BUCKET_NS[query.bucket] * 1_000_000_000, query.group_by)
    scores = feedback(sorted({row[7] for row in rows})) if feedback is not None and query.feedback else None
    summaries = []
    for (bucket, key), members in sorted(cells.items(), key=_order):
        summary = _summarise(bucket, key, members)
        if scores is not None:
            values = [v for row in members for v in scores.get(row[7], ())]
            summary["feedback"] = {
                "name": query.feedback,
                "n": len(values),
                "mean": sum(values) / len(values) if values else None,
            }
        summaries.append(summary)
    return summaries


def _order(item: tuple[tuple[int, str | None], list[Any]]) -> tuple[int, str]:
    (bucket, key), _ = item
    return bucket, key or ""


def _summarise(bucket: int, key: str | None, rows: list[Any]) -> dict[str, Any]:
    durations = sorted(r[2] for r in rows)
    errors = sum(1 for r in rows if r[1] == "error")
    return {
        "bucket_start": datetime.fromtimestamp(bucket / 1e9, UTC),
        "group": key,
        "count": len(rows),
        "errors": errors,
        "error_rate": errors / len(rows),
        "p50_ms": _percentile(durations, 0.50),
        "p95_ms": _percentile(durations, 0.95),
        "p99_ms": _percentile(durations, 0.99),
        "prompt_tokens": sum(r[3] for r in rows),
        "completion_tokens": sum(r[4] for r in rows),
        "total_tokens": sum(r[5] for r in rows),
        "cost_usd": to_usd(sum(r[6] for r in rows)),
    }


def _percentile(ordered: list[float], fraction: float) -> float:
    """Nearest-rank percentile of an ascending list."""
    index = max(0, min(len(ordered) - 1, int(round(fraction * len(ordered) + 0.5)) - 1))
    return ordered[index]


def project_ids_with_traces(session: Session) -> list[str]:
    return list(session.scalars(select(Trace.project_id).distinct()))


def trace_groups(
    session: Session, principal: Principal, trace_ids: list[str], group_by: str
) -> dict[str, str | None]:
    """The value of a grouping column (model, route, prompt_version, ...) for each of these traces."""
    column = GROUP_COLUMNS.get(group_by)
    if column is None:
        raise InvalidInput(f"group_by must be one of {', '.join(GROUP_COLUMNS)}; got {group_by!r}")
    found: dict[str, str | None] = {}
    for offset in range(0, len(trace_ids), 500):
        chunk = trace_ids[offset : offset + 500]
        query = select(Trace.trace_id, column).where(
            Trace.project_id == principal.project_id, Trace.trace_id.in_(chunk)
        )
        found.update({trace_id: value for trace_id, value in session.execute(query).all()})
    return found


def traces_updated_after(
    session: Session, principal: Principal, query: TraceQuery, after_ns: int, limit: int
) -> list[Trace]:
    """Traces matching `query` whose rollup changed after `after_ns`, oldest change first (for scanners)."""
    statement = _filtered(principal, query).where(Trace.updated_ns > after_ns)
    return list(session.scalars(statement.order_by(Trace.updated_ns, Trace.trace_id).limit(limit)))


def scan(
    session: Session, principal: Principal, query: TraceQuery, limit: int, without_errors: bool = False
) -> list[Trace]:
    """Every trace matching the list's filters, newest first, up to `limit` (for selectors, not pages)."""
    statement = _filtered(principal, query)
    if without_errors:
        statement = statement.where(Trace.status != "error")
    statement = statement.order_by(Trace.start_ns.desc(), Trace.trace_id.desc())
    return list(session.scalars(statement.limit(limit)))

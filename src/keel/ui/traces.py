"""Traces: a filterable list with a live tail, one trace as a span tree on a timeline, feedback, and
"add to dataset" (the first step of the closed loop)."""

from typing import Annotated, Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Request
from fastapi.responses import HTMLResponse, RedirectResponse
from pydantic import ValidationError

from keel.core.errors import InvalidInput
from keel.datasets import selection_service as selection
from keel.datasets import service as datasets
from keel.datasets.schemas import FromTraces, SelectIn
from keel.feedback import service as feedback
from keel.feedback.schemas import FeedbackIn
from keel.tracing import queries, views
from keel.tracing.schemas import SpanOut, TraceQuery
from keel.ui.core import UI, UIRoute, current, invalid, number

router = APIRouter(route_class=UIRoute, include_in_schema=False)
FILTERS = ("q", "name", "model", "status", "route", "prompt_version", "user", "min_latency_ms")


def _query(request: Request) -> tuple[TraceQuery, dict[str, str]]:
    given = {k: v for k in FILTERS if (v := request.query_params.get(k, "").strip())}
    try:
        return TraceQuery(**given, cursor=request.query_params.get("cursor"), limit=50), given
    except ValidationError as exc:
        raise invalid(exc, "invalid filter: ") from None


def _rows(ui: UI, query: TraceQuery) -> tuple[list[Any], str | None]:
    with ui.session() as session:
        page = queries.list_traces(session, ui.principal, query)
    return [views.trace_out(t) for t in page.items], page.next_cursor


@router.get("/traces")
def trace_list(request: Request, ui: Annotated[UI, Depends(current)], notice: str = "") -> HTMLResponse:
    query, given = _query(request)
    rows, cursor = _rows(ui, query)
    return ui.render(
        "traces.html",
        rows=rows,
        cursor=cursor,
        given=given,
        filters=FILTERS,
        query_string=request.url.query,
        notice=notice,
    )


@router.post("/traces/select")
async def add_all_matching(ui: Annotated[UI, Depends(current)]) -> RedirectResponse:
    """ "Add all matching": the list's filters as a selector, written as a new version of the dataset."""
    fields = await ui.form()
    given = {k: v for k in FILTERS if k != "q" and (v := fields.get(k, "").strip())}
    if fields.get("q", "").strip():
        given["q"] = fields["q"].strip()
    scores = []
    if text := fields.get("score", "").strip():
        name, op, value = text.partition(">=") if ">=" in text else text.partition("<=")
        if not op:
            raise InvalidInput(f"min score {text!r}: write NAME>=VALUE or NAME<=VALUE, e.g. thumbs>=1")
        scores.append(
            {"name": name.strip(), "min" if op == ">=" else "max": number({"score": value}, "score")}
        )
    try:
        request = SelectIn(
            filters=given,
            include_errors=bool(given.get("status")),  # the list's own status filter, if any, decides
            scores=scores,
            max_items=int(number(fields, "max_items") or 1000),
        )
    except ValidationError as exc:
        raise invalid(exc) from None
    name = fields.get("dataset", "").strip()
    with ui.session() as session:
        found = selection.select_into(session, ui.principal, name, request)
    notice = f"Added {found.added} trace(s) to {name}" + (
        f" (version {found.version})" if found.version else ""
    )
    notice += f"; {found.duplicates} already there or repeated, {found.scored_out} below the score"
    return RedirectResponse(f"/traces?notice={quote(notice)}", status_code=303)


@router.get("/traces/rows")
def trace_rows(request: Request, ui: Annotated[UI, Depends(current)]) -> HTMLResponse:
    """The list's rows alone, for the live tail."""
    query, _ = _query(request)
    rows, _ = _rows(ui, query)
    return ui.render("trace_rows.html", rows=rows)


def _flatten(spans: list[SpanOut], depth: int = 0) -> list[tuple[int, SpanOut]]:
    out: list[tuple[int, SpanOut]] = []
    for span in spans:
        out.append((depth, span))
        out += _flatten(span.children, depth + 1)
    return out


@router.get("/traces/{trace_id}")
def trace_view(trace_id: str, ui: Annotated[UI, Depends(current)], notice: str = "") -> HTMLResponse:
    with ui.session() as session:
        trace, spans = queries.get_trace(session, ui.principal, trace_id)
        detail = views.trace_detail(trace, spans)
        scores = feedback.list_feedback(session, ui.principal, {"trace_id": detail.trace_id}, None, 100)
        names = [d.name for d in datasets.list_datasets(session, ui.principal, None, 100).items]
    start = detail.start_time.timestamp()
    total = max(detail.duration_ms, 0.001)
    bars = [
        (
            depth,
            span,
            (span.start_time.timestamp() - start) * 1000 / total * 100,
            span.duration_ms / total * 100,
        )
        for depth, span in _flatten(detail.spans)
    ]
    return ui.render(
        "trace.html", trace=detail, bars=bars, feedback=scores.items, datasets=names, notice=notice
    )


@router.post("/traces/{trace_id}/feedback")
async def give_feedback(trace_id: str, ui: Annotated[UI, Depends(current)]) -> RedirectResponse:
    fields = await ui.form()
    value = number(fields, "value") if fields.get("value", "") != "" else None
    try:
        data = FeedbackIn(
            trace_id=trace_id,
            name=fields.get("name") or "thumbs",
            value=value,
            comment=fields.get("comment") or None,
            source="ui",
        )
    except ValidationError as exc:
        raise invalid(exc) from None
    with ui.session() as session:
        feedback.record(session, ui.principal, data)
    return RedirectResponse(f"/traces/{trace_id}?notice=Feedback+saved", status_code=303)


@router.post("/traces/{trace_id}/dataset")
async def add_to_dataset(trace_id: str, ui: Annotated[UI, Depends(current)]) -> RedirectResponse:
    fields = await ui.form()
    name = fields.get("dataset", "").strip()
    if not name:
        raise InvalidInput("choose or type a dataset name")
    with ui.session() as session:
        new = datasets.items_from_traces(
            session, ui.principal, FromTraces(trace_ids=[trace_id], split=fields.get("split") or None)
        )
        dataset = datasets.get_or_create(session, ui.principal, name)
        datasets.add_items(session, ui.principal, dataset.name, new, f"added trace {trace_id} from the UI")
    return RedirectResponse(f"/traces/{trace_id}?notice=Added+to+dataset+{name}", status_code=303)

"""Trace API: OTLP/HTTP ingest at `/v1/traces`, queries under `/api/v1/traces`."""

import asyncio
from typing import Annotated

import anyio
from fastapi import APIRouter, Query, Request, Response
from google.protobuf import json_format
from opentelemetry.proto.collector.trace.v1.trace_service_pb2 import ExportTraceServiceResponse

from keel.core.auth import Role
from keel.server.deps import PrincipalDep, RuntimeDep, SessionDep
from keel.tracing import queries, service
from keel.tracing.otlp import PROTOBUF_TYPES, parse_body, to_rows
from keel.tracing.schemas import (
    AggregateList,
    AggregateQuery,
    Bucket,
    Retention,
    TraceDetail,
    TraceList,
    TraceQuery,
)
from keel.tracing.views import trace_detail, trace_out
from keel.tracing.writer import TraceWriter

ingest = APIRouter(tags=["tracing"])
router = APIRouter(prefix="/api/v1/traces", tags=["tracing"])


@ingest.post("/v1/traces", summary="OTLP/HTTP trace export (protobuf or JSON, optionally gzip)")
async def export_traces(request: Request, runtime: RuntimeDep, principal: PrincipalDep) -> Response:
    principal.require(Role.member)
    settings = runtime.settings
    body = await request.body()
    content_type = request.headers.get("content-type", "")
    message = await anyio.to_thread.run_sync(
        parse_body, body, content_type, request.headers.get("content-encoding"), settings.max_request_bytes
    )
    decoded = await anyio.to_thread.run_sync(
        to_rows, message, principal.project_id, settings.trace_max_value_bytes
    )
    writer: TraceWriter = runtime.service("tracing.writer")
    if decoded.rows:
        await asyncio.wrap_future(writer.submit(decoded.rows))
    reply = ExportTraceServiceResponse()
    if decoded.rejected:
        reply.partial_success.rejected_spans = decoded.rejected
        reply.partial_success.error_message = "; ".join(decoded.errors)
    if content_type.split(";")[0].strip().lower() in PROTOBUF_TYPES:
        return Response(reply.SerializeToString(), media_type="application/x-protobuf")
    return Response(json_format.MessageToJson(reply, indent=None), media_type="application/json")


@router.get("")
def list_traces(
    query: Annotated[TraceQuery, Query()], session: SessionDep, principal: PrincipalDep
) -> TraceList:
    page = queries.list_traces(session, principal, query)
    return TraceList(items=[trace_out(t) for t in page.items], next_cursor=page.next_cursor)


@router.get("/aggregates")
def aggregates(
    query: Annotated[AggregateQuery, Query()], session: SessionDep, principal: PrincipalDep
) -> AggregateList:
    from keel.feedback.service import values_for  # feedback builds on tracing; this joins them back

    def scores(trace_ids: list[str]) -> dict[str, list[float]]:
        return values_for(session, principal.project_id, str(query.feedback), trace_ids)

    rows = queries.aggregates(session, principal, query, scores)
    return AggregateList(items=[Bucket(**row) for row in rows])


@router.get("/retention")
def get_retention(runtime: RuntimeDep, session: SessionDep, principal: PrincipalDep) -> Retention:
    return Retention(days=service.get_retention(session, principal, runtime.settings.trace_retention_days))


@router.put("/retention")
def set_retention(body: Retention, session: SessionDep, principal: PrincipalDep) -> Retention:
    return Retention(days=service.set_retention(session, principal, body.days))


@router.get("/{trace_id}")
def get_trace(trace_id: str, session: SessionDep, principal: PrincipalDep) -> TraceDetail:
    trace, spans = queries.get_trace(session, principal, trace_id)
    return trace_detail(trace, spans)

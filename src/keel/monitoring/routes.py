"""`GET /metrics` (Prometheus text format) and the monitoring API under `/api/v1/monitoring`."""

from typing import Annotated, Literal

from fastapi import APIRouter, Query, Request, Response
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from keel.monitoring import drift_service, service
from keel.monitoring.embedding import embedder
from keel.monitoring.metrics import Metrics
from keel.monitoring.schemas import (
    FILTER_KEYS,
    THRESHOLD_METRICS,
    DriftReport,
    DriftRequest,
    EventList,
    RuleIn,
    RuleList,
    RuleOut,
)
from keel.projects import service as projects
from keel.server.deps import PrincipalDep, RuntimeDep, SessionDep, bearer_token

metrics_router = APIRouter(tags=["monitoring"])


@metrics_router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text exposition"}},
)
def metrics(request: Request, runtime: RuntimeDep) -> Response:
    """This process's metrics. Any API key may scrape: the instance admin sees every project's series, a
    project key only its own. With `KEEL_METRICS_PUBLIC=true` no key is needed (and every series shows)."""
    exporter: Metrics = runtime.service("monitoring.metrics")
    project = None
    if not runtime.settings.metrics_public:
        with runtime.sessions() as session:
            principal = projects.authenticate(session, bearer_token(request), runtime.auth_cache)
        project = None if principal.instance_admin else principal.project_id
    return Response(exporter.scrape(project), media_type=CONTENT_TYPE_LATEST)


alerts_router = APIRouter(prefix="/api/v1/alerts", tags=["alerts"])


@alerts_router.get("/metrics")
def alert_metrics(principal: PrincipalDep) -> dict[str, dict[str, str]]:
    """The metrics a rule can watch, and the filters it can narrow them by."""
    return {"metrics": THRESHOLD_METRICS, "filters": {k: "exact match" for k in sorted(FILTER_KEYS)}}


@alerts_router.post("/rules")
def save_rule(body: RuleIn, runtime: RuntimeDep, principal: PrincipalDep, session: SessionDep) -> RuleOut:
    """Create the rule, or replace the one with this name (its state is kept)."""
    settings = runtime.settings
    rule = service.save_rule(
        session,
        principal,
        body,
        runtime.secrets,
        interval_s=settings.alert_interval_seconds,
        allow_private=settings.webhook_allow_private,
    )
    session.commit()
    return service.rule_out(rule)


@alerts_router.get("/rules")
def list_rules(principal: PrincipalDep, session: SessionDep) -> RuleList:
    return RuleList(items=[service.rule_out(r) for r in service.list_rules(session, principal)])


@alerts_router.get("/rules/{name}")
def get_rule(name: str, principal: PrincipalDep, session: SessionDep) -> RuleOut:
    return service.rule_out(service.get_rule(session, principal, name))


@alerts_router.delete("/rules/{name}", status_code=204)
def delete_rule(name: str, principal: PrincipalDep, session: SessionDep) -> Response:
    service.delete_rule(session, principal, name)
    session.commit()
    return Response(status_code=204)


@alerts_router.get("")
def alert_history(
    principal: PrincipalDep,
    session: SessionDep,
    rule: str | None = None,
    state: Literal["firing", "resolved"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> EventList:
    """Every time a rule fired or resolved, newest first, with each notification's delivery."""
    return EventList(items=service.history(session, principal, rule, state, limit))


monitoring_router = APIRouter(prefix="/api/v1/monitoring", tags=["monitoring"])


@monitoring_router.post("/drift")
def drift_report(
    body: DriftRequest, runtime: RuntimeDep, principal: PrincipalDep, session: SessionDep
) -> DriftReport:
    """Each feature of the current window against the reference (a window or a dataset version): the test
    chosen for its type and size, the statistic, p-value or distance, the effect size, drifted or not, both
    histograms; and the meaning of inputs and outputs (embeddings), with the topics that grew or shrank."""
    return drift_service.report(session, principal, body, embedder(runtime))

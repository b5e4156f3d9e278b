"""`GET /metrics` (Prometheus text format) and the monitoring API under `/api/v1/monitoring`."""

from fastapi import APIRouter, Request, Response
from prometheus_client.exposition import CONTENT_TYPE_LATEST

from keel.monitoring.metrics import Metrics
from keel.projects import service as projects
from keel.server.deps import RuntimeDep, bearer_token

metrics_router = APIRouter(tags=["monitoring"])


@metrics_router.get(
    "/metrics",
    response_class=Response,
    responses={200: {"content": {CONTENT_TYPE_LATEST: {}}, "description": "Prometheus text exposition"}},
)
def metrics(request: Request, runtime: RuntimeDep) -> Response:
    """This process's metrics. Any API key may scrape: the instance admin sees every project's series, a
    project key only its own. With `KEEL_METRICS_PUBLIC=true` no key is needed (and every series shows)."""
    service: Metrics = runtime.service("monitoring.metrics")
    project = None
    if not runtime.settings.metrics_public:
        with runtime.sessions() as session:
            principal = projects.authenticate(session, bearer_token(request), runtime.auth_cache)
        project = None if principal.instance_admin else principal.project_id
    return Response(service.scrape(project), media_type=CONTENT_TYPE_LATEST)

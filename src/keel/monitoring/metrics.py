"""`GET /metrics`: what this process saw, in the Prometheus text format (prometheus-client).

Counters and histograms are per process, as Prometheus expects of replicas: scrape each one and sum. The
gateway's observer hook feeds them once a call's books are closed (off the response path), so a call costs a
few label lookups. Gauges that describe state elsewhere (open circuits, the trace writer's queue, jobs by
kind and state) are read at scrape time by a collector, never kept in step by hand.

Cardinality is bounded: `project`, `route` and `model` come from configuration, not from callers, and each
metric keeps at most `KEEL_METRICS_MAX_SERIES` label sets; past that, new routes and models are counted
under `route="_other"`/`model="_other"` (docs/monitoring.md).
"""

import threading
import time
from collections.abc import Iterable, Iterator
from typing import Any

from prometheus_client import CollectorRegistry, Counter, Histogram, disable_created_metrics
from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.exposition import generate_latest
from prometheus_client.registry import Collector

from keel.jobs import service as jobs

OTHER = "_other"
disable_created_metrics()  # type: ignore[no-untyped-call] # `_created` series double the exposition and no dashboard reads them
LATENCY_BUCKETS = (0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0)
TTFT_BUCKETS = (0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0)


class _Bounded:
    """Label sets of one metric, at most `limit` of them; later newcomers fold into `_other`."""

    def __init__(self, metric: Any, limit: int, fold: tuple[int, ...]) -> None:
        self.metric = metric
        self.limit = limit
        self.fold = fold  # positions of the labels that fold (route, model), never project or status
        self.seen: set[tuple[str, ...]] = set()
        self._lock = threading.Lock()

    def labels(self, *values: str) -> Any:
        if values not in self.seen:
            with self._lock:
                if len(self.seen) >= self.limit:
                    values = tuple(OTHER if i in self.fold else v for i, v in enumerate(values))
                self.seen.add(values)
        return self.metric.labels(*values)


class Metrics:
    """The `monitoring.metrics` service: the registry, the gateway observer and the scrape."""

    def __init__(self, runtime: Any) -> None:
        self._runtime = runtime
        limit = runtime.settings.metrics_max_series
        self.registry = CollectorRegistry(auto_describe=False)
        r = self.registry

        def bounded(metric: Any, fold: tuple[int, ...] = (1, 2)) -> _Bounded:
            return _Bounded(metric, limit, fold)

        self.requests = bounded(
            Counter(
                "keel_gateway_requests",
                "Gateway calls by project, route, model and status (ok, error, blocked).",
                ["project", "route", "model", "status"],
                registry=r,
            )
        )
        self.refusals = bounded(
            Counter(
                "keel_gateway_refused",
                "Gateway requests refused before a call was made, by reason (the error code).",
                ["project", "reason"],
                registry=r,
            ),
            (),
        )
        self.duration = bounded(
            Histogram(
                "keel_gateway_request_duration_seconds",
                "Gateway call duration, from admission to the last byte.",
                ["project", "route"],
                buckets=LATENCY_BUCKETS,
                registry=r,
            ),
            (1,),
        )
        self.ttft = bounded(
            Histogram(
                "keel_gateway_time_to_first_token_seconds",
                "Time to the first streamed token.",
                ["project", "route"],
                buckets=TTFT_BUCKETS,
                registry=r,
            ),
            (1,),
        )
        self.tokens = bounded(
            Counter(
                "keel_gateway_tokens",
                "Tokens by kind (input, output, cached).",
                ["project", "route", "model", "kind"],
                registry=r,
            )
        )
        self.cost = bounded(
            Counter(
                "keel_gateway_cost_usd", "Priced spend in USD.", ["project", "route", "model"], registry=r
            )
        )
        self.cache_hits = bounded(
            Counter(
                "keel_gateway_cache_hits",
                "Answers served from the response cache.",
                ["project", "route"],
                registry=r,
            ),
            (1,),
        )
        self.fallbacks = bounded(
            Counter(
                "keel_gateway_fallbacks",
                "Calls answered by another target after the first failed or was skipped.",
                ["project", "route"],
                registry=r,
            ),
            (1,),
        )
        self.guardrails = bounded(
            Counter(
                "keel_guardrail_verdicts",
                "Guardrail rules that flagged a call, by stage, check and action.",
                ["project", "route", "stage", "check", "action"],
                registry=r,
            ),
            (1,),
        )
        r.register(_StateCollector(runtime))

    def start(self) -> None:
        gateway = self._runtime.services.get("gateway")
        if gateway is not None:
            gateway.observers.append(self)

    def stop(self) -> None:
        pass

    def called(self, call: Any) -> None:
        project, route = call.project_id, call.route
        model = call.target.model if call.target is not None else str(call.body.get("model", ""))
        status = "blocked" if "keel.guardrail.blocked" in call.attributes else "error" if call.error else "ok"
        self.requests.labels(project, route, model, status).inc()
        self.duration.labels(project, route).observe((time.time_ns() - call.started_ns) / 1e9)
        if call.ttft_ms is not None:
            self.ttft.labels(project, route).observe(call.ttft_ms / 1e3)
        usage = call.usage or {}
        for kind, name in (("input", "prompt_tokens"), ("output", "completion_tokens")):
            if count := usage.get(name):
                self.tokens.labels(project, route, model, kind).inc(count)
        if cached := (usage.get("prompt_tokens_details") or {}).get("cached_tokens"):
            self.tokens.labels(project, route, model, "cached").inc(cached)
        if call.cost_micros:
            self.cost.labels(project, route, model).inc(call.cost_micros / 1e6)
        if call.cache_hit:
            self.cache_hits.labels(project, route).inc()
        if call.attempts and not call.error:
            self.fallbacks.labels(project, route).inc()
        for entry in call.attributes.get("keel.guardrails") or ():
            stage, _, rest = str(entry).partition(" ")
            check, _, action = rest.partition(" ")
            self.guardrails.labels(project, route, stage, check, action or "flag").inc()

    def refused(self, project_id: str | None, reason: str) -> None:
        self.refusals.labels(project_id or "", reason).inc()

    def scrape(self, project_id: str | None = None) -> bytes:
        """The text exposition; with `project_id`, only that project's series (a project key's view)."""
        if project_id is None:
            return generate_latest(self.registry)
        return generate_latest(_OneProject(self.registry, project_id))


class _StateCollector(Collector):
    """Gauges read when scraped: open circuits, the trace writer's queue and totals, jobs by state."""

    def __init__(self, runtime: Any) -> None:
        self._runtime = runtime

    def collect(self) -> Iterable[Metric]:
        services = self._runtime.services
        circuits = GaugeMetricFamily(
            "keel_gateway_open_circuits",
            "Route targets whose circuit is open or half-open (calls skip them).",
            labels=["project", "route"],
        )
        gateway = services.get("gateway")
        opened: dict[tuple[str, str], int] = {}
        for project, route, *_ in gateway.circuits.opened() if gateway else ():
            opened[(project, route)] = opened.get((project, route), 0) + 1
        for labels, count in opened.items():
            circuits.add_metric(list(labels), count)
        yield circuits
        writer = services.get("tracing.writer")
        if writer is not None:
            yield GaugeMetricFamily(
                "keel_trace_writer_queue_depth",
                "Spans accepted and waiting for the trace commit.",
                value=writer.queued,
            )
            yield CounterMetricFamily(
                "keel_trace_spans_stored", "Spans committed to the trace store.", value=writer.committed_spans
            )
            yield CounterMetricFamily(
                "keel_trace_spans_rejected",
                "Spans refused because the trace writer was behind (503 to the exporter).",
                value=writer.rejected_spans,
            )
        job_gauge = GaugeMetricFamily(
            "keel_jobs", "Background jobs by kind and state.", labels=["project", "kind", "state"]
        )
        with self._runtime.sessions() as session:
            for project, kind, state, count in jobs.counts(session):
                job_gauge.add_metric([project, kind, state], count)
        yield job_gauge


class _OneProject(Collector):
    def __init__(self, registry: CollectorRegistry, project_id: str) -> None:
        self._registry = registry
        self._project = project_id

    def collect(self) -> Iterator[Metric]:
        for metric in self._registry.collect():
            samples = [s for s in metric.samples if s.labels.get("project") == self._project]
            if samples:
                metric.samples = samples
                yield metric

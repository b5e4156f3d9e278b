"""Monitoring: CPU of one `/metrics` scrape with 100 routes, of the gateway observer per call, and of one
alert evaluation round with 100 rules over 10,000 traces in their window (SQLite), and of drift reports
(the statistics on 100k values per window; a whole report over 10k traces), in this process.

Baselines from the same run: a scrape of a registry holding one counter (prometheus-client's fixed cost), so
`vs_baseline` survives a noisy machine. Goals from the monitoring issue: ≤ 5 ms per scrape with 100 routes.
"""

import tempfile
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import numpy as np
from prometheus_client import CollectorRegistry, Counter, generate_latest
from sqlalchemy import select

from keel.core.auth import Principal, Role
from keel.local.embedder import LocalEmbedder
from keel.local.runtime import installed
from keel.monitoring import drift, drift_service, meaning, service
from keel.monitoring.alerts import Alerts
from keel.monitoring.metrics import Metrics
from keel.monitoring.schemas import RuleIn
from keel.projects import service as projects
from keel.projects.schemas import ProjectCreate
from keel.server.runtime import open_runtime
from keel.settings import load_settings
from keel.tracing.models import Trace

ROUTES = 100


def cpu_ms(work: Any, rounds: int) -> float:
    started = time.process_time()
    for _ in range(rounds):
        work()
    return (time.process_time() - started) / rounds * 1000


def fake_call(route: int, status: int) -> Any:
    usage = {"prompt_tokens": 20, "completion_tokens": 30}
    return SimpleNamespace(
        project_id="prj_bench",
        route=f"route-{route}",
        target=SimpleNamespace(model=f"model-{route % 3}"),
        body={},
        attributes={},
        error="boom" if status else None,
        started_ns=time.time_ns() - 5_000_000,
        ttft_ms=12.0,
        usage=usage,
        cost_micros=120,
        cache_hit=False,
        attempts=[],
    )


def run() -> list[dict[str, Any]]:
    with tempfile.TemporaryDirectory() as data:
        runtime = open_runtime(load_settings(data_dir=Path(data), worker_enabled=False))
        metrics = Metrics(runtime)
        calls = [fake_call(r, s) for r in range(ROUTES) for s in (0, 0, 1)]
        for call in calls:
            metrics.called(call)
        lines = metrics.scrape().count(b"\n")
        one = CollectorRegistry()
        Counter("one", "one counter", registry=one).inc()
        baseline = cpu_ms(lambda: generate_latest(one), 2000)
        scrape = cpu_ms(metrics.scrape, 100)
        observe = cpu_ms(lambda: [metrics.called(c) for c in calls], 20) / len(calls)
        rows = [
            {"case": "baseline: scrape of one counter", "cpu_ms": baseline, "vs_baseline": 1.0},
            {
                "case": f"scrape, {ROUTES} routes ({lines} lines)",
                "cpu_ms": scrape,
                "vs_baseline": scrape / baseline,
            },
            {"case": "observe one gateway call", "cpu_ms": observe, "vs_baseline": observe / baseline},
        ]
        rows.append(evaluation(runtime))
        rows += drift_rows(runtime)
        runtime.engine.dispose()
    return rows


def evaluation(runtime: Any) -> dict[str, Any]:
    with runtime.sessions() as session:
        admin = Principal("bench", "", Role.admin, True)
        project = projects.create_project(session, admin, ProjectCreate(name="bench")).id
        now = time.time_ns()
        session.add_all(
            Trace(
                project_id=project,
                trace_id=f"{i:032x}",
                name="chat",
                service_name="keel",
                start_ns=now - i * 10**6,
                end_ns=now,
                duration_ms=float(i % 900),
                status="error" if i % 20 == 0 else "ok",
                span_count=1,
                error_count=0,
                llm_calls=1,
                model="m",
                prompt_tokens=10,
                completion_tokens=10,
                total_tokens=20,
                cost_micros=50,
                route=f"route-{i % ROUTES}",
                has_root=True,
                updated_ns=now,
            )
            for i in range(10_000)
        )
        principal = Principal("k", project, Role.admin, True)
        metrics = ("error_rate", "latency_p95_ms", "spend_usd", "request_count")
        for i in range(ROUTES):
            rule = RuleIn(
                name=f"rule-{i}",
                metric=metrics[i % 4],
                filters={"route": f"route-{i}"},
                threshold=1e9,
                window_s=3600,
            )
            service.save_rule(session, principal, rule, runtime.secrets, interval_s=1, allow_private=True)
        session.commit()
    alerts = Alerts(runtime)
    ms = cpu_ms(alerts.evaluate_all, 5)
    wall = time.perf_counter()
    alerts.evaluate_all()
    wall_ms = (time.perf_counter() - wall) * 1000
    return {
        "case": f"evaluate {ROUTES} rules, 10k traces (SQLite)",
        "cpu_ms": ms,
        "wall_ms": wall_ms,
        "per_minute_at_30s_cpu_ms": ms * 2,
    }


def drift_rows(runtime: Any) -> list[dict[str, Any]]:
    """The drift report: the statistics on 100k values per window, and a whole report over the 10k traces."""
    rng = np.random.default_rng(1)
    reference, current = rng.lognormal(6, 0.4, 100_000), rng.lognormal(6.05, 0.4, 100_000)
    stats_ms = cpu_ms(lambda: [drift.compare(f, reference, current) for f in ("a", "b", "c", "d")], 3)
    errors = (rng.random(100_000) < 0.02).astype(float)
    stats_ms += cpu_ms(lambda: drift.compare("error", errors, errors[::-1]), 3)
    with runtime.sessions() as session:
        principal = Principal(
            "bench", session.scalar(select(Trace.project_id).limit(1)) or "", Role.admin, True
        )
    until = datetime.now(UTC)
    since = until - timedelta(hours=1)

    def report() -> None:
        with runtime.sessions() as session:
            columns = drift_service.window_columns(session, principal, {}, since, until)
        for name, values in columns.items():
            drift.compare(name, values, values)

    report_ms = cpu_ms(report, 3)
    vectors = rng.normal(size=(1000, 384)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    texts = [(str(i), f"text {i}") for i in range(500)]
    meaning_ms = cpu_ms(
        lambda: meaning.compare("input_meaning", vectors[:500], vectors[500:], texts, texts), 2
    )
    embed_ms = None
    if installed():
        embedder = LocalEmbedder(1)
        sample = [f"where is my parcel number {i}, it was due on monday" for i in range(1000)]
        embedder.embed(sample[:8])  # load once
        embed_ms = cpu_ms(lambda: embedder.embed(sample), 1)
    return [
        {
            "case": "meaning drift statistics, 500 vs 500 embeddings (MMD, 200 permutations, topics)",
            "cpu_ms": meaning_ms,
        },
        *(
            [{"case": "embedding 1,000 short texts (MiniLM, 1 thread)", "cpu_ms": embed_ms}]
            if embed_ms
            else []
        ),
        {"case": "drift statistics, 5 features, 100k vs 100k values", "cpu_ms": stats_ms},
        {"case": "drift report, 10k traces per window (SQLite fetch + tests)", "cpu_ms": report_ms},
    ]

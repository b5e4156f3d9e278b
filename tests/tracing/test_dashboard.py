"""The dashboard's GROUP BY in the database agrees with the exact aggregates: sums exactly, latency
percentiles within the histogram's 5%, on SQLite and PostgreSQL."""

import random
import time
from datetime import UTC, datetime, timedelta

from fastapi.testclient import TestClient

from keel.core.auth import Principal, Role
from keel.tracing import dashboard_queries, queries
from keel.tracing.schemas import AggregateQuery
from tests.tracing.conftest import export, wait_for_traces
from tests.tracing.factory import llm_trace, request


def test_overview_matches_the_exact_aggregates(tclient: TestClient) -> None:
    generator = random.Random(7)
    hour = 3600 * 10**9
    now = time.time_ns()
    spans = []
    for number in range(120):
        spans += llm_trace(
            model=("gpt-4o", "claude", "local")[number % 3],
            tokens=(generator.randint(5, 500), generator.randint(1, 200)),
            duration_ms=generator.lognormvariate(5, 1.2),
            start_ns=now - generator.randint(0, 5) * hour - generator.randint(0, hour - 1),
            error="boom" if number % 10 == 0 else None,
        )
    export(tclient, request(*spans))
    wait_for_traces(tclient, 120, limit="200")
    whoami = tclient.get("/api/v1/whoami").json()
    principal = Principal(whoami.get("key_id", "k"), whoami["project_id"], Role.admin)
    query = AggregateQuery(since=datetime.now(UTC) - timedelta(hours=7), bucket="1h", group_by="model")
    with tclient.app.state.runtime.sessions() as session:  # type: ignore[attr-defined]
        series, groups, whole = dashboard_queries.overview(session, principal, query)
        exact = queries.aggregates(
            session, principal, query.model_copy(update={"bucket": "1d", "group_by": "model"})
        )
        exact_series = queries.aggregates(session, principal, query.model_copy(update={"group_by": "none"}))
    assert whole is not None
    assert whole["count"] == 120
    assert whole["errors"] == 12
    assert [(s["bucket_start"], s["count"], s["total_tokens"]) for s in series] == [
        (s["bucket_start"], s["count"], s["total_tokens"]) for s in exact_series
    ]
    by_model = {g["group"]: g for g in groups}
    per_model: dict[str, dict[str, float]] = {}
    for row in exact:
        entry = per_model.setdefault(row["group"], {"count": 0, "cost": 0.0, "tokens": 0})
        entry["count"] += row["count"]
        entry["tokens"] += row["total_tokens"]
    assert {m: (g["count"], g["total_tokens"]) for m, g in by_model.items()} == {
        m: (e["count"], e["tokens"]) for m, e in per_model.items()
    }
    for bucket, reference in zip(series, exact_series, strict=True):
        for key in ("p50_ms", "p95_ms"):
            assert abs(bucket[key] - reference[key]) <= 0.05 * reference[key] + 0.01, (key, bucket, reference)


def test_the_bins_cover_every_duration() -> None:
    assert dashboard_queries.bin_of(0.0) == 0
    assert dashboard_queries.bin_of(10**9) == len(dashboard_queries.EDGES)
    for value in (0.2, 1.0, 37.5, 1234.0, 99_999.0):
        index = dashboard_queries.bin_of(value)
        assert dashboard_queries.EDGES[index - 1] <= value < dashboard_queries.EDGES[index]

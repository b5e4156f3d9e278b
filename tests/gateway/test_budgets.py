"""Budget leases: a slice of the budget is reserved in the store once, calls are held and settled in memory,
spend is written with the traces (or put back when that transaction fails), and a clean stop returns the
unused slice."""

import time
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import text

from keel.gateway import service
from keel.gateway.budgets import BudgetLeases
from keel.tracing.internal import InternalSpan, internal_row
from keel.tracing.writer import TraceWriter

DAY = "d:2026-01-01"
HOLDS = [("project", DAY, 1_000_000)]  # a $1 budget


def stored(runtime: Any, project: str) -> tuple[int, int]:
    with runtime.sessions() as session:
        row = session.get(service.Spend, (project, "project", DAY))
        return (row.spent_micros, row.reserved_micros) if row else (0, 0)


def test_a_lease_admits_calls_in_memory_and_spend_is_written_with_a_commit(gw: TestClient) -> None:
    runtime = gw.app.state.runtime  # type: ignore[attr-defined]
    project = gw.get("/api/v1/whoami").json()["project_id"]
    leases = BudgetLeases(runtime.sessions, fraction=0.1)

    assert not leases.hold(project, HOLDS, 30_000)  # no lease yet: the caller must take one
    assert leases.take(project, HOLDS, 30_000) is None
    assert stored(runtime, project) == (0, 100_000)  # one slice: 10% of the budget
    for _ in range(2):
        assert leases.hold(project, HOLDS, 30_000)  # in memory, no store
    assert not leases.hold(project, HOLDS, 30_000)  # 90,000 held of 100,000: this one needs a new slice
    for _ in range(3):
        leases.settle(project, [("project", DAY)], 30_000, 25_000)
    assert leases.unwritten(project, "project", DAY) == 75_000
    assert stored(runtime, project) == (0, 100_000)

    with runtime.sessions() as session:
        done = leases.write(session)
        assert done is not None
        session.rollback()
    done(False)  # the trace transaction failed: the spend waits for the next one
    assert leases.unwritten(project, "project", DAY) == 75_000

    with runtime.sessions() as session:
        done = leases.write(session)
        assert done is not None
        session.commit()
    done(True)
    assert stored(runtime, project) == (75_000, 25_000)
    assert leases.unwritten(project, "project", DAY) == 0
    with runtime.sessions() as session:
        assert leases.write(session) is None  # nothing new to write

    leases.close()
    assert stored(runtime, project) == (75_000, 0)  # the unused 25,000 goes back to the budget


def test_the_last_slices_are_what_a_call_needs_and_then_it_refuses(gw: TestClient) -> None:
    runtime = gw.app.state.runtime  # type: ignore[attr-defined]
    project = gw.get("/api/v1/whoami").json()["project_id"]
    leases = BudgetLeases(runtime.sessions, fraction=0.5)
    assert leases.take(project, HOLDS, 400_000) is None  # a 500,000 slice
    assert leases.take(project, HOLDS, 400_000) is None  # 100,000 free: a second slice of 500,000
    assert stored(runtime, project) == (0, 1_000_000)
    leases.settle(project, [("project", DAY)], 400_000, 400_000)
    leases.settle(project, [("project", DAY)], 400_000, 400_000)
    assert leases.take(project, HOLDS, 200_000) is None  # 200,000 free in the lease: no store at all
    refusal = leases.take(project, HOLDS, 1)
    assert refusal == "project budget for 2026-01-01 is $1 and $0.8 is spent"  # and $0.2 is in flight


def test_a_failing_book_does_not_lose_the_spans(gw: TestClient) -> None:
    runtime = gw.app.state.runtime  # type: ignore[attr-defined]
    project = gw.get("/api/v1/whoami").json()["project_id"]
    writer = TraceWriter(runtime.sessions, max_queued=100, max_batch=100)
    told: list[bool] = []

    def broken(session: Any) -> Any:
        session.execute(text("SELECT * FROM no_such_table"))
        return told.append

    def fine(session: Any) -> Any:
        return told.append

    writer.keep_books(fine)
    writer.keep_books(broken)
    writer.start()
    span = InternalSpan(project, "booked", time.time_ns(), time.time_ns(), {})
    assert writer.submit([internal_row(span, 1000)]).result(10) == 1
    writer.stop()
    assert told == [False]  # the good book was told its transaction failed (and wrote again, alone, below)
    assert [t["name"] for t in gw.get("/api/v1/traces").json()["items"]] == ["booked"]

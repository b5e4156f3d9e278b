"""Change events: what a service write records is published once its transaction commits, never after a
rollback; a broken subscriber fails neither the write nor the others; caches follow writes made anywhere
(here a service call with no route or page involved)."""

from decimal import Decimal

from fastapi.testclient import TestClient

from keel.core.auth import Principal, Role
from keel.db.changes import Change, ChangeBus, record
from keel.db.engine import make_sessionmaker
from keel.gateway import service
from keel.gateway.schemas import PriceIn


def test_changes_are_published_after_the_commit_and_dropped_on_rollback(gw: TestClient) -> None:
    runtime = gw.app.state.runtime  # type: ignore[attr-defined]
    sessions = make_sessionmaker(runtime.engine)
    bus, heard = ChangeBus(), []
    bus.attach(sessions)
    bus.subscribe("notes", heard.append)
    bus.subscribe("notes", lambda change: 1 / 0)  # a broken subscriber is logged, not raised
    with sessions() as session:
        record(session, "notes", "prj_1", "a")
        record(session, "notes", "prj_1", "a")  # the same change twice in one transaction: heard once
        assert heard == []  # nothing before the commit
        session.commit()
    assert heard == [Change("notes", "prj_1", "a")]
    with sessions() as session:
        record(session, "notes", "prj_1", "b")
        session.rollback()
        session.commit()
    assert heard == [Change("notes", "prj_1", "a")]  # the rolled-back change is never heard


def test_the_gateway_view_follows_a_write_made_through_the_service(gw: TestClient) -> None:
    runtime = gw.app.state.runtime  # type: ignore[attr-defined]
    gateway = runtime.service("gateway")
    project = gw.get("/api/v1/whoami").json()["project_id"]
    gw.post("/v1/chat/completions", json={"model": "stub/m", "messages": [{"role": "user", "content": "x"}]})
    assert gateway.config.cached(project) is not None
    admin = Principal(project_id=project, key_id="key_test", role=Role.admin)
    with runtime.sessions() as session:
        service.set_price(
            session, admin, "m", PriceIn(input_usd_per_mtok=Decimal(1), output_usd_per_mtok=Decimal(2))
        )
    assert gateway.config.cached(project) is None  # dropped by the change event: the next call reloads
    assert runtime.changes.published >= 1

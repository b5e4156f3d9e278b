import time
from datetime import timedelta

from fastapi.testclient import TestClient

from keel.core.auth import Principal, Role
from keel.core.clock import utcnow
from keel.jobs import service
from keel.jobs.models import Job
from keel.settings import Settings
from tests.jobs.conftest import make_client, wait_for


def test_job_runs_reports_progress_and_logs(jobs_client: TestClient) -> None:
    job = jobs_client.post("/api/v1/jobs", json={"kind": "test.steps", "params": {"steps": 4}}).json()
    assert job["status"] == "queued"
    done = wait_for(jobs_client, job["id"], {"succeeded", "failed"})
    assert done["status"] == "succeeded", done
    assert done["result"] == {"steps": 4, "attempt": 1}
    assert done["progress"] == 1.0
    assert done["finished_at"] >= done["started_at"]
    messages = [line["message"] for line in jobs_client.get(f"/api/v1/jobs/{job['id']}/logs").json()["items"]]
    assert "did step 4" in messages
    assert messages[-1] == "finished: succeeded"
    first = jobs_client.get(f"/api/v1/jobs/{job['id']}/logs", params={"limit": 2}).json()
    rest = jobs_client.get(f"/api/v1/jobs/{job['id']}/logs", params={"cursor": first["next_cursor"]}).json()
    assert [x["message"] for x in first["items"] + rest["items"]] == messages


def test_failing_job_records_error_and_traceback(jobs_client: TestClient) -> None:
    job = jobs_client.post("/api/v1/jobs", json={"kind": "test.boom"}).json()
    done = wait_for(jobs_client, job["id"], {"succeeded", "failed"})
    assert done["status"] == "failed"
    assert done["error"] == "ValueError: the input had no rows"
    logs = jobs_client.get(f"/api/v1/jobs/{job['id']}/logs").json()["items"]
    assert any(line["level"] == "error" and "Traceback" in line["message"] for line in logs)


def test_cancel_running_job(jobs_client: TestClient) -> None:
    job = jobs_client.post("/api/v1/jobs", json={"kind": "test.wait"}).json()
    assert wait_for(jobs_client, job["id"], {"running"})["status"] == "running"
    assert jobs_client.post(f"/api/v1/jobs/{job['id']}/cancel").json()["cancel_requested"] is True
    assert wait_for(jobs_client, job["id"], {"cancelled", "failed"})["status"] == "cancelled"
    again = jobs_client.post(f"/api/v1/jobs/{job['id']}/cancel")
    assert again.status_code == 409
    assert "already cancelled" in again.json()["detail"]


def test_cancel_queued_job_never_runs(settings: Settings) -> None:
    with make_client(settings, worker_enabled=False) as client:
        job = client.post("/api/v1/jobs", json={"kind": "test.steps"}).json()
        cancelled = client.post(f"/api/v1/jobs/{job['id']}/cancel").json()
        assert cancelled["status"] == "cancelled"
        assert cancelled["started_at"] is None


def test_unknown_kind_lists_registered_ones(jobs_client: TestClient) -> None:
    response = jobs_client.post("/api/v1/jobs", json={"kind": "nope"})
    assert response.status_code == 404
    assert "test.steps" in response.json()["detail"]
    kinds = jobs_client.get("/api/v1/jobs/kinds").json()["items"]
    assert {"maintenance.prune_jobs", "test.steps"} <= set(kinds)


def test_list_filters_and_rejects_bad_status(jobs_client: TestClient) -> None:
    ok = jobs_client.post("/api/v1/jobs", json={"kind": "test.steps"}).json()
    bad = jobs_client.post("/api/v1/jobs", json={"kind": "test.boom"}).json()
    wait_for(jobs_client, ok["id"], {"succeeded"})
    wait_for(jobs_client, bad["id"], {"failed"})
    failed = jobs_client.get("/api/v1/jobs", params={"status": "failed"}).json()["items"]
    assert [j["id"] for j in failed] == [bad["id"]]
    assert jobs_client.get("/api/v1/jobs", params={"status": "weird"}).status_code == 422


def test_viewer_cannot_submit(jobs_client: TestClient) -> None:
    viewer = jobs_client.post("/api/v1/keys", json={"name": "v", "role": "viewer"}).json()["key"]
    response = jobs_client.post(
        "/api/v1/jobs", json={"kind": "test.steps"}, headers={"Authorization": f"Bearer {viewer}"}
    )
    assert response.status_code == 403


def test_job_lost_in_a_crash_is_retried_on_restart(settings: Settings) -> None:
    with make_client(settings, worker_enabled=False) as client:
        job_id = client.post("/api/v1/jobs", json={"kind": "test.steps"}).json()["id"]
        sessions = client.app.state.runtime.sessions  # type: ignore[attr-defined]
        with sessions() as session:
            claimed = service.claim_next(session, "dead-worker", ["test.steps"])
            assert claimed is not None
            assert claimed.id == job_id
            claimed.heartbeat_at = utcnow() - timedelta(minutes=5)
            session.commit()
    with make_client(settings, job_stale_seconds=1) as client:
        done = wait_for(client, job_id, {"succeeded", "failed"})
        assert done["status"] == "succeeded"
        assert done["attempts"] == 2
        logs = [x["message"] for x in client.get(f"/api/v1/jobs/{job_id}/logs").json()["items"]]
        assert any("dead-worker stopped responding" in m and "requeued" in m for m in logs)


def test_job_out_of_attempts_is_failed_not_lost(settings: Settings) -> None:
    with make_client(settings, worker_enabled=False) as client:
        job_id = client.post("/api/v1/jobs", json={"kind": "test.steps"}).json()["id"]
        sessions = client.app.state.runtime.sessions  # type: ignore[attr-defined]
        with sessions() as session:
            session.get(Job, job_id).max_attempts = 1
            session.commit()
            service.claim_next(session, "dead-worker", ["test.steps"])
            session.get(Job, job_id).heartbeat_at = utcnow() - timedelta(minutes=5)
            session.commit()
    with make_client(settings, job_stale_seconds=1) as client:
        done = wait_for(client, job_id, {"failed", "succeeded"})
        assert done["status"] == "failed"
        assert "gave up after 1 attempts" in done["error"]


def test_shutdown_requeues_running_job_without_spending_an_attempt(settings: Settings) -> None:
    with make_client(settings) as client:
        job_id = client.post("/api/v1/jobs", json={"kind": "test.wait"}).json()["id"]
        assert wait_for(client, job_id, {"running"})["status"] == "running"
        started = time.monotonic()
    assert time.monotonic() - started < 5
    with make_client(settings, worker_enabled=False) as client:
        job = client.get(f"/api/v1/jobs/{job_id}").json()
        assert job["status"] == "queued"
        assert job["attempts"] == 0
        logs = [x["message"] for x in client.get(f"/api/v1/jobs/{job_id}/logs").json()["items"]]
        assert "interrupted by shutdown; requeued" in logs


def test_two_workers_never_run_the_same_job(settings: Settings) -> None:
    import threading

    with make_client(settings, worker_enabled=False) as client:
        sessions = client.app.state.runtime.sessions  # type: ignore[attr-defined]
        project = client.get("/api/v1/whoami").json()["project_id"]
        admin = Principal("key_x", project, Role.admin)
        with sessions() as session:
            ids = {service.submit(session, admin, "test.steps", {}).id for _ in range(20)}
        claims: dict[str, list[str]] = {"a": [], "b": []}

        def claim_all(name: str) -> None:
            with sessions() as session:
                while (job := service.claim_next(session, name, ["test.steps"])) is not None:
                    claims[name].append(job.id)

        threads = [threading.Thread(target=claim_all, args=(n,)) for n in claims]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        assert sorted(claims["a"] + claims["b"]) == sorted(ids)

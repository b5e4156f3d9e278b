"""A user's first session: `keel serve` on a fresh data dir, then the CLI against it over a real socket."""

import stat
from pathlib import Path

import httpx
import pytest

from tests.e2e.conftest import Server, clean_env, keel, keel_json

pytestmark = pytest.mark.e2e


@pytest.mark.parametrize("own_server", ["sqlite", "postgresql"], indirect=True)
def test_first_session_through_the_cli(own_server: Server) -> None:
    server = own_server
    key_file = server.data_dir / "admin.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    admin = clean_env(KEEL_URL=server.url, KEEL_API_KEY=key_file.read_text().strip())

    project = keel_json("projects", "create", "team-a", env=admin)
    created = keel_json("keys", "create", "ci", "--role", "member", "--project", project["id"], env=admin)
    assert created["key"].startswith("keel_")
    listed = keel_json("keys", "list", "--project", project["id"], env=admin)
    assert [k["prefix"] for k in listed] == [created["key"][:12]]

    member = clean_env(KEEL_URL=server.url, KEEL_API_KEY=created["key"])
    assert [p["name"] for p in keel_json("projects", "list", env=member)] == ["team-a"]
    job = keel_json("jobs", "submit", "maintenance.prune_jobs", "--wait", env=member)
    assert job["status"] == "succeeded"
    assert job["result"]["deleted"] == 0
    assert keel_json("jobs", "show", job["id"], env=member)["logs"][-1]["message"] == "finished: succeeded"

    keel("keys", "revoke", created["id"], env=admin)
    refused = keel("projects", "list", env=member, check=False)
    assert refused.returncode == 1
    assert "revoked" in refused.stderr
    assert "Traceback" not in refused.stderr

    code, stderr = server.stop()
    assert code == 0
    assert "Application shutdown complete" in stderr
    assert "req_" in stderr
    assert "Traceback" not in stderr


def test_restart_keeps_the_admin_key_and_data(tmp_path: Path) -> None:
    from tests.e2e.conftest import start_server

    first = start_server(tmp_path / "data")
    key = (tmp_path / "data" / "admin.key").read_text().strip()
    env = clean_env(KEEL_URL=first.url, KEEL_API_KEY=key)
    keel_json("projects", "create", "kept", env=env)
    assert first.stop()[0] == 0
    second = start_server(tmp_path / "data")
    try:
        assert (tmp_path / "data" / "admin.key").read_text().strip() == key
        names = [p["name"] for p in keel_json("projects", "list", env={**env, "KEEL_URL": second.url})]
        assert "kept" in names
        assert "generated an instance-admin" not in second.stop()[1]
    finally:
        if second.process.poll() is None:
            second.stop()


def test_unreachable_database_fails_fast_without_traceback(tmp_path: Path) -> None:
    env = clean_env(
        KEEL_DATA_DIR=str(tmp_path),
        KEEL_DATABASE_URL="postgresql+psycopg://u:hunter2@127.0.0.1:1/keel",
        KEEL_DB_CONNECT_TIMEOUT="1",
    )
    result = keel("serve", env=env, check=False)
    assert result.returncode == 2
    assert "cannot connect to database" in result.stderr
    assert "hunter2" not in result.stderr
    assert "Traceback" not in result.stderr


def test_invalid_setting_is_reported(tmp_path: Path) -> None:
    result = keel("serve", env=clean_env(KEEL_DATA_DIR=str(tmp_path), KEEL_PORT="not-a-port"), check=False)
    assert result.returncode == 2
    assert "invalid setting" in result.stderr
    assert "port" in result.stderr
    assert "Traceback" not in result.stderr


def test_settings_and_db_commands(tmp_path: Path) -> None:
    env = clean_env(KEEL_DATA_DIR=str(tmp_path), KEEL_ADMIN_KEY="keel_supersecretvalue")
    shown = keel_json("settings", env=env)
    assert shown["server"]["admin_key"] == "********"
    assert "supersecretvalue" not in keel("settings", env=env).stdout
    assert "behind" in keel("db", "current", env=env).stdout
    keel("db", "upgrade", env=env)
    assert "up to date" in keel("db", "current", env=env).stdout


def test_unreachable_server_is_a_clear_cli_error() -> None:
    result = keel(
        "projects", "list", env=clean_env(KEEL_URL="http://127.0.0.1:1", KEEL_API_KEY="keel_x"), check=False
    )
    assert result.returncode == 1
    assert "cannot reach Keel at http://127.0.0.1:1" in result.stderr
    assert "Traceback" not in result.stderr


def test_healthz_over_socket_has_request_id(server: Server) -> None:
    response = httpx.get(f"{server.url}/healthz")
    assert response.headers["x-request-id"].startswith("req_")

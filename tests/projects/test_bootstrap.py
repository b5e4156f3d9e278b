"""The bootstrap instance-admin key: from KEEL_ADMIN_KEY, or generated once into admin.key (mode 0600)."""

import stat
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from keel.core.errors import ConfigError
from keel.projects.keys import generate_secret
from keel.server.app import create_app
from keel.server.runtime import open_runtime
from keel.settings import Settings
from tests.conftest import bearer


def whoami(settings: Settings, key: str) -> int:
    with TestClient(create_app(settings)) as client:
        return client.get("/api/v1/whoami", headers=bearer(key)).status_code


def test_generated_key_is_written_once_with_mode_0600(
    database_url: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings = Settings(data_dir=tmp_path / "fresh", database_url=database_url, worker_enabled=False)
    open_runtime(settings).engine.dispose()
    path = settings.admin_key_path
    key = path.read_text().strip()
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert key in capsys.readouterr().err
    open_runtime(settings).engine.dispose()
    assert path.read_text().strip() == key
    assert key not in capsys.readouterr().err
    assert whoami(settings, key) == 200


def test_configured_admin_key_replaces_the_previous_one(database_url: str, tmp_path: Path) -> None:
    first, second = generate_secret(), generate_secret()
    base = {"data_dir": tmp_path / "d", "database_url": database_url, "worker_enabled": False}
    assert whoami(Settings(**base, admin_key=first), first) == 200
    rotated = Settings(**base, admin_key=second)
    assert whoami(rotated, second) == 200
    assert whoami(rotated, first) == 401
    assert not rotated.admin_key_path.exists()


def test_malformed_admin_key_is_a_startup_error(database_url: str, tmp_path: Path) -> None:
    settings = Settings(data_dir=tmp_path / "d", database_url=database_url, admin_key="password123")
    with pytest.raises(ConfigError, match="must start with 'keel_'"):
        open_runtime(settings)

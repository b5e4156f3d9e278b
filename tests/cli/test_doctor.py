"""`keel doctor`: each check says what it found and, when something is wrong, what to run."""

import json
from pathlib import Path

import pytest
from typer.testing import CliRunner

from keel.cli.doctor import CHECKOUT, lock_check
from keel.cli.main import app


def test_doctor_reports_every_check_on_a_fresh_data_dir(tmp_path: Path) -> None:
    outcome = CliRunner().invoke(app, ["doctor", "--json"], env={"KEEL_DATA_DIR": str(tmp_path / "fresh")})
    checks = {c["name"]: c for c in json.loads(outcome.stdout)}
    assert {"python", "packages", "database", "test postgresql", "chromium", "disk"} <= set(checks)
    assert checks["packages"]["status"] == "ok"
    assert "match uv.lock" in checks["packages"]["detail"]
    assert checks["database"]["status"] == "ok"
    assert "created at the first start" in checks["database"]["detail"]
    assert not (tmp_path / "fresh").exists()  # looking creates nothing
    assert checks["test postgresql"]["status"] == "ok"
    assert "GiB free" in checks["disk"]["detail"]
    assert outcome.exit_code == (1 if any(c["status"] == "fail" for c in checks.values()) else 0)


def test_packages_that_drifted_from_the_lock_are_named_with_the_fix(tmp_path: Path) -> None:
    lock = tmp_path / "uv.lock"
    text = (CHECKOUT / "uv.lock").read_text()
    lock.write_text(text.replace('name = "orjson"\nversion = "', 'name = "orjson"\nversion = "0.0.1-'))
    check = lock_check(lock)
    assert check.status == "fail"
    assert "orjson" in check.detail
    assert "(uv.lock: 0.0.1-" in check.detail
    assert "run `make up`" in check.detail


def test_a_broken_lock_is_one_line_naming_make_lock(tmp_path: Path) -> None:
    lock = tmp_path / "uv.lock"
    lock.write_text("[[package]\n")
    check = lock_check(lock)
    assert check.status == "fail"
    assert "make lock" in check.detail


@pytest.mark.parametrize("bad", ["KEEL_PORT=not-a-port"])
def test_bad_settings_are_a_failed_check_not_a_traceback(bad: str) -> None:
    name, value = bad.split("=")
    outcome = CliRunner().invoke(app, ["doctor"], env={name: value})
    assert outcome.exit_code == 1
    assert outcome.exception is None or isinstance(outcome.exception, SystemExit)
    assert "invalid setting" in outcome.stdout

from pathlib import Path

import pytest
from sqlalchemy import text

from keel.core.errors import ConfigError
from keel.db.engine import check_connection, make_engine, redact_url


def test_sqlite_runs_in_wal_with_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'nested' / 'keel.db'}")
    with engine.connect() as connection:
        assert connection.execute(text("PRAGMA journal_mode")).scalar() == "wal"
        assert connection.execute(text("PRAGMA foreign_keys")).scalar() == 1
    assert (tmp_path / "nested" / "keel.db").exists()


def test_unreachable_database_is_a_clear_config_error() -> None:
    engine = make_engine("postgresql+psycopg://postgres:hunter2@127.0.0.1:1/keel", connect_timeout=1)
    with pytest.raises(ConfigError) as info:
        check_connection(engine)
    message = str(info.value)
    assert "cannot connect to database" in message
    assert "127.0.0.1:1" in message
    assert "hunter2" not in message


@pytest.mark.parametrize(
    ("url", "needle"),
    [("mysql://x@y/z", "not supported"), ("not a url", "not a database URL")],
)
def test_unsupported_urls_are_refused(url: str, needle: str) -> None:
    with pytest.raises(ConfigError, match=needle):
        make_engine(url)


def test_redact_url_hides_password() -> None:
    assert "***" in redact_url("postgresql+psycopg://u:secret@h/db")
    assert "secret" not in redact_url("postgresql+psycopg://u:secret@h/db")

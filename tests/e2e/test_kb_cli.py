"""`keel kb` against a real server with the local embedding model: create, ingest a folder, search, list."""

import json
from pathlib import Path

import pytest

from keel.local.runtime import installed
from tests.e2e.conftest import Server, clean_env, keel

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(not installed(), reason="the `local` extra is not installed"),
]


def test_kb_cli_ingests_a_folder_and_searches(server: Server, tmp_path: Path) -> None:
    key = (server.data_dir / "admin.key").read_text().strip()
    env = clean_env(KEEL_URL=server.url, KEEL_API_KEY=key, COLUMNS="200")
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "leave.md").write_text("# Leave\n\nEveryone gets 25 days of paid holiday each year.")
    (docs / "it.txt").write_text("Laptops are replaced every three years by the IT team.")
    (docs / "bad.txt").write_bytes(b"\x00\x01binary")
    keel("kb", "create", "handbook", env=env)
    ingested = keel("kb", "ingest", "handbook", str(docs), env=env)
    assert "added 2" in ingested.stdout
    assert "failed bad.txt" in ingested.stdout
    hits = json.loads(keel("kb", "search", "handbook", "vacation days", "--json", env=env).stdout)
    assert hits[0]["source"] == "leave.md"
    printed = keel("kb", "search", "handbook", "laptop replacement", env=env).stdout
    assert "1. it.txt" in printed
    listed = json.loads(keel("kb", "list", "--json", env=env).stdout)
    assert (listed[0]["name"], listed[0]["documents"]) == ("handbook", 2)
    missing = keel("kb", "ingest", "handbook", str(tmp_path / "nope"), env=env, check=False)
    assert missing.returncode == 2

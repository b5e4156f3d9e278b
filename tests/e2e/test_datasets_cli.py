"""`keel datasets` against a real server: import JSONL and CSV, split, show, export."""

import json
from pathlib import Path

import pytest

from tests.e2e.conftest import Server, clean_env, keel

pytestmark = pytest.mark.e2e


def test_datasets_cli_round_trip(server: Server, tmp_path: Path) -> None:
    key = (server.data_dir / "admin.key").read_text().strip()
    env = clean_env(KEEL_URL=server.url, KEEL_API_KEY=key, COLUMNS="200")
    jsonl = tmp_path / "qa.jsonl"
    jsonl.write_text("\n".join(json.dumps({"input": {"q": f"q{i}"}, "expected": f"a{i}"}) for i in range(20)))
    assert "version 1, 20 item(s) added" in keel("datasets", "import", "qa", str(jsonl), env=env).stdout
    csv = tmp_path / "more.csv"
    csv.write_text("input,expected\nx,y\nbroken,row,here\n")
    refused = keel("datasets", "import", "qa", str(csv), env=env, check=False)
    assert refused.returncode == 1
    assert "line 3: has 3 fields" in refused.stderr
    partial = keel("datasets", "import", "qa", str(csv), "--skip-invalid", env=env).stdout
    assert "version 2, 1 item(s) added" in partial
    assert "skipped line 3" in partial
    keel("datasets", "split", "qa", "--test", "0.25", env=env)
    shown = keel("datasets", "show", "qa", env=env).stdout
    assert "split: test 25%, seed 0" in shown
    out = tmp_path / "test.jsonl"
    keel("datasets", "export", "qa", "--split", "test", "-o", str(out), env=env)
    exported = [json.loads(line) for line in out.read_text().splitlines()]
    assert exported
    assert all(row["split"] == "test" for row in exported)
    listed = json.loads(keel("datasets", "list", "--json", env=env).stdout)
    assert [(d["name"], d["latest_version"], d["item_count"]) for d in listed] == [("qa", 3, 21)]

"""`keel prompts` and the SDK against a real server: push, show, label, diff, pull, render, offline copy."""

from pathlib import Path

import pytest
import yaml

import keel
from tests.e2e.conftest import Server, clean_env
from tests.e2e.conftest import keel as run_keel

pytestmark = pytest.mark.e2e

PROMPT = """
name: support-answer
messages:
  - {role: system, content: "Answer in one word."}
  - {role: user, content: "What is the capital of {{ country }}?"}
model: local/smollm2-135m-instruct
params: {temperature: 0, max_tokens: 16}
"""


def test_prompts_cli_round_trip(server: Server, tmp_path: Path) -> None:
    key = (server.data_dir / "admin.key").read_text().strip()
    env = clean_env(KEEL_URL=server.url, KEEL_API_KEY=key, COLUMNS="200")
    path = tmp_path / "prompt.yaml"
    path.write_text(PROMPT)
    assert (
        run_keel("prompts", "push", str(path), "--label", "production", "-m", "first", env=env).stdout
        == "1\n"
    )
    path.write_text(PROMPT.replace("one word", "two words"))
    assert run_keel("prompts", "push", str(path), "-m", "longer", env=env).stdout == "2\n"
    unchanged = run_keel("prompts", "push", str(path), "--if-changed", env=env)
    assert unchanged.stdout == "2\n"
    assert "unchanged, still version 2" in unchanged.stderr
    listed = run_keel("prompts", "list", env=env).stdout
    assert "support-answer" in listed
    assert "production→1" in listed
    shown = run_keel("prompts", "show", "support-answer@production", env=env).stdout
    assert "support-answer@1" in shown
    assert "Answer in one word." in shown
    assert "country" in shown
    history = run_keel("prompts", "show", "support-answer", "--versions", env=env).stdout
    assert "first" in history
    assert "longer" in history
    diff = run_keel("prompts", "diff", "support-answer", "1", "2", env=env).stdout
    assert "-  content: Answer in one word.\n+  content: Answer in two words.\n" in diff
    run_keel("prompts", "label", "support-answer", "2", "production", env=env)
    rendered = run_keel("prompts", "render", "support-answer@production", "--var", "country=France", env=env)
    assert "What is the capital of France?" in rendered.stdout
    assert '"version": 2' in rendered.stdout
    pulled = tmp_path / "pulled.yaml"
    run_keel("prompts", "pull", "support-answer@1", "-o", str(pulled), env=env)
    assert yaml.safe_load(pulled.read_text()) == yaml.safe_load(PROMPT)
    bad = run_keel("prompts", "show", "support-answer@9", env=env, check=False)
    assert bad.returncode == 1
    assert "no version 9" in bad.stderr
    broken = tmp_path / "broken.yaml"
    broken.write_bytes(b"name: x\nmessages: [\xff\xfe")
    refused = run_keel("prompts", "push", str(broken), env=env, check=False)
    assert refused.returncode == 2
    assert "not UTF-8" in refused.stderr


def test_sdk_caches_and_falls_back_to_the_last_good_copy(own_server: Server, tmp_path: Path) -> None:
    server = own_server
    key = (server.data_dir / "admin.key").read_text().strip()
    client = keel.Client(server.url, key)
    pushed = client.prompts.push(yaml.safe_load(PROMPT), labels=["production"])
    assert pushed["version"] == 1
    prompt = client.prompts.get("support-answer", label="production")
    assert prompt.version == 1
    assert not prompt.stale
    assert prompt.render(country="Peru")[1]["content"] == "What is the capital of Peru?"  # type: ignore[index]
    kwargs = prompt.chat_kwargs(country="Peru")
    assert kwargs["model"] == "local/smollm2-135m-instruct"
    assert kwargs["temperature"] == 0
    assert client.prompts.get("support-answer", label="production") is prompt  # served from the cache
    server.stop()
    offline = client.prompts.get("support-answer", label="production", cache_ttl=0)
    assert offline.stale
    assert offline.version == 1
    with pytest.raises(keel.KeelAPIError) as never_fetched:
        client.prompts.get("other")
    assert never_fetched.value.status == 0

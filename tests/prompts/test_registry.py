"""The prompt registry API: versions, references, labels (protected ones too), diff and render."""

from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import bearer

SUPPORT = {
    "name": "support-answer",
    "messages": [
        {"role": "system", "content": "Answer in one word."},
        {"role": "user", "content": "What is the capital of {{ country }}?"},
    ],
    "model": "local/smollm2-135m-instruct",
    "params": {"temperature": 0, "max_tokens": 16},
}


def push(client: TestClient, **changes: Any) -> dict[str, Any]:
    response = client.post("/api/v1/prompts", json={**SUPPORT, **changes})
    assert response.status_code in (200, 201), response.text
    body: dict[str, Any] = response.json()
    return body


def member_client(client: TestClient, role: str = "member") -> TestClient:
    project_id = client.get("/api/v1/whoami").json()["project_id"]
    key = client.post("/api/v1/keys", json={"name": role, "role": role, "project_id": project_id}).json()[
        "key"
    ]
    return TestClient(client.app, headers=bearer(key))


def test_versions_are_numbered_and_references_resolve(client: TestClient) -> None:
    first = push(client, message="first cut")
    assert first["version"] == 1
    assert first["variables"] == ["country"]
    assert first["type"] == "chat"
    assert first["labels"] == ["latest"]
    second = push(client, params={"temperature": 0.2}, labels=["staging"])
    assert second["version"] == 2
    assert second["labels"] == ["staging", "latest"]
    assert client.get("/api/v1/prompts/support-answer").json()["version"] == 2
    assert client.get("/api/v1/prompts/support-answer@latest").json()["version"] == 2
    assert client.get("/api/v1/prompts/support-answer@1").json()["message"] == "first cut"
    assert client.get("/api/v1/prompts/support-answer@staging").json()["params"] == {"temperature": 0.2}
    history = client.get("/api/v1/prompts/support-answer/versions").json()["items"]
    assert [v["version"] for v in history] == [1, 2]
    listed = client.get("/api/v1/prompts").json()["items"]
    assert [(p["name"], p["latest_version"], p["labels"]) for p in listed] == [
        ("support-answer", 2, {"staging": 2})
    ]


def test_labels_move_atomically_and_protected_ones_need_an_admin(client: TestClient) -> None:
    member = member_client(client)
    first = member.post("/api/v1/prompts", json={**SUPPORT, "labels": ["production"]})
    assert first.status_code == 403
    assert client.get("/api/v1/prompts").json()["items"] == []  # not even an empty prompt is left
    push(client)
    push(client, params={"temperature": 1})
    moved = member.put("/api/v1/prompts/support-answer/labels/staging", json={"version": 1})
    assert moved.status_code == 200
    assert moved.json()["labels"] == {"staging": 1}
    refused = member.put("/api/v1/prompts/support-answer/labels/production", json={"version": 2})
    assert refused.status_code == 403
    assert "protected" in refused.json()["detail"]
    refused_push = member.post("/api/v1/prompts", json={**SUPPORT, "labels": ["production"]})
    assert refused_push.status_code == 403
    assert client.get("/api/v1/prompts/support-answer").json()["version"] == 2  # nothing half-written
    assert (
        client.put("/api/v1/prompts/support-answer/labels/production", json={"version": 2}).status_code == 200
    )
    assert client.get("/api/v1/prompts/support-answer@production").json()["version"] == 2
    viewer = member_client(client, "viewer")
    assert viewer.put("/api/v1/prompts/support-answer/labels/qa", json={"version": 1}).status_code == 403
    assert member.patch("/api/v1/prompts/support-answer", json={"protected_labels": []}).status_code == 403
    unprotect = client.patch("/api/v1/prompts/support-answer", json={"protected_labels": ["gold"]})
    assert unprotect.json()["protected_labels"] == ["gold"]
    assert (
        member.put("/api/v1/prompts/support-answer/labels/production", json={"version": 1}).status_code == 200
    )
    assert member.delete("/api/v1/prompts/support-answer/labels/staging").status_code == 204
    assert client.get("/api/v1/prompts/support-answer@staging").status_code == 404


def test_unknown_references_say_what_exists(client: TestClient) -> None:
    push(client, labels=["staging"])
    missing = client.get("/api/v1/prompts/nope")
    assert missing.status_code == 404
    assert missing.json()["detail"] == "prompt 'nope' not found"
    version = client.get("/api/v1/prompts/support-answer@7")
    assert version.status_code == 404
    assert "no version 7 (latest is 1)" in version.json()["detail"]
    label = client.get("/api/v1/prompts/support-answer@prod")
    assert label.status_code == 404
    assert "labels: staging, and latest" in label.json()["detail"]
    latest = client.put("/api/v1/prompts/support-answer/labels/latest", json={"version": 1})
    assert latest.status_code == 422
    assert "implicit" in latest.json()["detail"]
    assert client.put("/api/v1/prompts/support-answer/labels/x", json={"version": 9}).status_code == 404


def test_bad_prompts_are_refused_and_nothing_is_written(client: TestClient) -> None:
    cases = [
        ({"messages": [{"role": "user", "content": "{{ unclosed "}]}, "messages[0].content is not a valid"),
        ({"template": "hi"}, "exactly one of `messages`"),
        ({"messages": []}, "must not be empty"),
        ({"messages": [{"role": "robot", "content": "x"}]}, "role must be one of"),
        ({"params": {"messages": []}}, "params may not set `messages`"),
        ({"name": "has space"}, "name"),
        ({"labels": ["latest"]}, "implicit"),
    ]
    for change, expected in cases:
        response = client.post("/api/v1/prompts", json={**SUPPORT, **change})
        assert response.status_code == 422, (change, response.text)
        assert expected in response.text, (change, response.text)
    assert client.get("/api/v1/prompts").json()["items"] == []


def test_render_fills_variables_and_names_every_missing_one(client: TestClient) -> None:
    push(client, messages=[{"role": "user", "content": "{{ greeting }}, {{ name | upper }} from {{ town }}"}])
    ok = client.post(
        "/api/v1/prompts/support-answer/render",
        json={"variables": {"greeting": "Hi", "name": "ada", "town": "Oslo"}},
    )
    assert ok.json()["messages"] == [{"role": "user", "content": "Hi, ADA from Oslo"}]
    missing = client.post("/api/v1/prompts/support-answer@1/render", json={"variables": {"greeting": "Hi"}})
    assert missing.status_code == 422
    assert missing.json()["detail"].startswith("missing variables: name, town")
    assert missing.json()["missing"] == ["name", "town"]
    text = push(client, name="summary", messages=None, template="Summarise: {{ doc }}")
    assert text["type"] == "text"
    rendered = client.post("/api/v1/prompts/summary/render", json={"variables": {"doc": "a b"}}).json()
    assert rendered["text"] == "Summarise: a b"
    assert rendered["messages"] is None


def test_sandbox_refuses_python_internals(client: TestClient) -> None:
    escapes = [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        "{{ x.__init__.__globals__ }}",
        "{{ cycler.__init__.__globals__.os.popen('id').read() }}",
        "{% for c in [].__class__.__base__.__subclasses__() %}{{ c }}{% endfor %}",
    ]
    for index, source in enumerate(escapes):
        push(client, name=f"evil{index}", messages=[{"role": "user", "content": source}])
        response = client.post(f"/api/v1/prompts/evil{index}/render", json={"variables": {"x": "v"}})
        assert response.status_code == 422, (source, response.text)
        assert response.json()["code"] == "render_failed"
    include = push(
        client, name="reader", messages=[{"role": "user", "content": "{% include '/etc/passwd' %}"}]
    )
    response = client.post("/api/v1/prompts/reader/render", json={"variables": {}})
    assert include["version"] == 1
    assert response.status_code == 422
    assert "root:" not in response.text


def test_diff_shows_what_changed(client: TestClient) -> None:
    push(client)
    push(client, params={"temperature": 0.7, "max_tokens": 16})
    diff = client.get("/api/v1/prompts/support-answer/diff", params={"from": 1, "to": 2}).json()
    assert diff["changed"] == ["params"]
    assert "-  temperature: 0\n+  temperature: 0.7\n" in diff["diff"]
    assert diff["diff"].startswith("--- support-answer@1\n+++ support-answer@2\n")
    same = client.get("/api/v1/prompts/support-answer/diff", params={"from": 1, "to": 1}).json()
    assert same["changed"] == []
    assert same["diff"] == ""


def test_only_if_changed_returns_the_latest_for_identical_content(client: TestClient) -> None:
    assert push(client)["version"] == 1
    again = client.post("/api/v1/prompts", json={**SUPPORT, "only_if_changed": True, "labels": ["staging"]})
    assert again.status_code == 200
    assert again.json()["version"] == 1
    assert again.json()["created"] is False
    assert again.json()["labels"] == ["staging", "latest"]
    assert push(client, only_if_changed=True, model="other")["version"] == 2
    assert push(client)["version"] == 3  # a plain push always makes a version


def test_prompts_are_isolated_between_projects(client: TestClient) -> None:
    push(client)
    other = client.post("/api/v1/projects", json={"name": "other"}).json()["id"]
    key = client.post("/api/v1/keys", json={"name": "o", "role": "admin", "project_id": other}).json()["key"]
    outsider = TestClient(client.app, headers=bearer(key))
    assert outsider.get("/api/v1/prompts").json()["items"] == []
    assert outsider.get("/api/v1/prompts/support-answer").status_code == 404
    assert outsider.put("/api/v1/prompts/support-answer/labels/x", json={"version": 1}).status_code == 404
    assert outsider.delete("/api/v1/prompts/support-answer").status_code == 404
    assert outsider.post("/api/v1/prompts", json=SUPPORT).json()["version"] == 1  # its own namespace
    assert client.delete("/api/v1/prompts/support-answer").status_code == 204
    assert client.get("/api/v1/prompts/support-answer").status_code == 404

"""Knowledge bases end to end in one server with the real local embedding model: ingest real formats as jobs,
fail bad documents alone, skip unchanged ones, replace changed ones, search three ways, stay isolated."""

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from keel.local.runtime import installed
from keel.server.app import create_app
from keel.settings import Settings
from tests.conftest import ADMIN_KEY, bearer
from tests.knowledge.files import docx, pdf, zipped

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not installed(), reason="the `local` extra is not installed"),
]

HANDBOOK = b"""# Handbook

## Leave
Every employee gets 25 days of paid holiday per year. Unused days carry over until March.

## Expenses
Keep every receipt. Claims above 500 euros need a manager's approval before purchase.
"""
TRAVEL = (
    b"<html><head><title>Travel policy</title></head><body><nav>Home | About</nav><article><h1>Travel</h1>"
    b"<p>Book flights through the travel portal at least two weeks ahead. Economy class is used for trips "
    b"under six hours.</p></article></body></html>"
)


@pytest.fixture(scope="module")
def kb(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data = tmp_path_factory.mktemp("kb")
    settings = Settings(
        data_dir=data,
        database_url=f"sqlite:///{data / 'keel.db'}",
        admin_key=ADMIN_KEY,
        job_poll_seconds=0.05,
        local_preload=False,
        local_threads=1,
        knowledge_max_document_bytes=200_000,
    )
    with TestClient(create_app(settings), headers=bearer(ADMIN_KEY)) as client:
        assert client.post("/api/v1/knowledge", json={"name": "handbook"}).status_code == 201
        yield client


def upload(client: TestClient, name: str, content: bytes, kb_name: str = "handbook") -> dict[str, str]:
    response = client.post(
        f"/api/v1/knowledge/{kb_name}/uploads",
        params={"filename": name},
        content=content,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert response.status_code == 201, response.text
    return dict(response.json())


def ingest(
    client: TestClient, files: dict[str, bytes], urls: list[str] | None = None, kb_name: str = "handbook"
) -> dict[str, Any]:
    uploads = [upload(client, name, content, kb_name) for name, content in files.items()]
    started = client.post(
        f"/api/v1/knowledge/{kb_name}/ingest", json={"uploads": uploads, "urls": urls or []}
    )
    assert started.status_code == 202, started.text
    deadline = time.monotonic() + 240
    while (job := client.get(f"/api/v1/jobs/{started.json()['job_id']}").json())["status"] in (
        "queued",
        "running",
    ):
        assert time.monotonic() < deadline
        time.sleep(0.2)
    assert job["status"] == "succeeded", job
    return dict(job["result"])


def search(client: TestClient, query: str, **options: Any) -> list[dict[str, Any]]:
    response = client.post("/api/v1/knowledge/handbook/search", json={"query": query, **options})
    assert response.status_code == 200, response.text
    return list(response.json()["items"])


def test_ingest_formats_and_search_three_ways(kb: TestClient) -> None:
    result = ingest(
        kb,
        {
            "handbook.md": HANDBOOK,
            "travel.html": TRAVEL,
            "security.pdf": pdf("Laptops must use full disk encryption and lock after five minutes."),
            "onboarding.docx": docx("Onboarding", "New starters receive a laptop and a badge on day one."),
            "binary.txt": b"\x00\x01\x02 not text",
            "empty.md": b"",
            "broken.pdf": b"%PDF-1.4 this is not really a pdf",
            "locked.pdf": pdf("secret", password="pw"),
        },
    )
    assert (result["added"], result["updated"], result["unchanged"]) == (4, 0, 0)
    reasons = {f["source"]: f["reason"] for f in result["failed"]}
    assert "looks binary" in reasons["binary.txt"]
    assert "is empty" in reasons["empty.md"]
    assert "not a readable PDF" in reasons["broken.pdf"]
    assert "encrypted PDF" in reasons["locked.pdf"]
    vector = search(kb, "how many vacation days do I get", mode="vector", top_k=3)
    assert vector[0]["source"] == "handbook.md"
    assert "25 days" in vector[0]["text"]
    assert vector[0]["metadata"]["headings"] == ["Handbook", "Leave"]
    assert set(vector[0]) == {"text", "score", "source", "document_id", "chunk_id", "metadata"}
    keyword = search(kb, "receipt approval euros", mode="keyword")
    assert "receipt" in keyword[0]["text"]
    hybrid = search(kb, "disk encryption on laptops")
    assert hybrid[0]["source"] == "security.pdf"
    assert hybrid[0]["metadata"]["page"] == 1
    only_docx = search(kb, "laptop", filter={"source": "onboarding.docx"})
    assert {h["source"] for h in only_docx} == {"onboarding.docx"}
    diverse = search(kb, "laptop", top_k=2, mmr=0.3)
    assert len(diverse) == 2
    documents = {d["source"]: d for d in kb.get("/api/v1/knowledge/handbook/documents").json()["items"]}
    assert documents["handbook.md"]["status"] == "ready"
    assert documents["broken.pdf"]["status"] == "failed"


def test_unchanged_is_a_no_op_changed_replaces_deleted_removes(kb: TestClient) -> None:
    ingest(kb, {"policy.md": b"# Policy\n\nThe office opens at eight."})
    assert ingest(kb, {"policy.md": b"# Policy\n\nThe office opens at eight."})["unchanged"] == 1
    assert ingest(kb, {"policy.md": b"# Policy\n\nThe office opens at nine."})["updated"] == 1
    texts = [h["text"] for h in search(kb, "office opens", mode="keyword", top_k=10)]
    assert "The office opens at nine." in texts
    assert "The office opens at eight." not in texts
    document = next(
        d
        for d in kb.get("/api/v1/knowledge/handbook/documents").json()["items"]
        if d["source"] == "policy.md"
    )
    assert kb.delete(f"/api/v1/knowledge/handbook/documents/{document['id']}").status_code == 204
    assert all(h["source"] != "policy.md" for h in search(kb, "office opens", mode="keyword", top_k=10))


def test_zip_exports_unpack_and_bombs_are_refused(kb: TestClient) -> None:
    export = zipped(
        {"Notes/Meeting.md": b"# Meeting\n\nWe ship the gateway on Friday.", "Notes/img.png": b"\x89PNG"}
    )
    result = ingest(kb, {"notion.zip": export})
    assert result["added"] == 1
    assert (
        search(kb, "when do we ship the gateway", mode="vector")[0]["source"] == "notion.zip/Notes/Meeting.md"
    )
    bomb = zipped({"big.txt": b"a" * 300_000})
    refused = ingest(kb, {"bomb.zip": bomb})
    assert "unpacks to 300000 bytes" in refused["failed"][0]["reason"]


def test_urls_to_private_addresses_are_refused(kb: TestClient) -> None:
    result = ingest(
        kb, {}, urls=["http://127.0.0.1:9/page.html", "http://localhost/x", "ftp://example.com/a"]
    )
    reasons = [f["reason"] for f in result["failed"]]
    assert "private or local address" in reasons[0]
    assert "private or local address" in reasons[1]
    assert "only http(s) URLs" in reasons[2]


def test_bad_requests_and_isolation(kb: TestClient, tmp_path: Path) -> None:
    assert kb.post("/api/v1/knowledge", json={"name": "handbook"}).status_code == 409
    assert kb.post("/api/v1/knowledge", json={"name": "x", "store": "faiss"}).status_code == 422
    too_big = kb.post(
        "/api/v1/knowledge/handbook/uploads",
        params={"filename": "a.txt"},
        content=b"a" * 300_000,
        headers={"Content-Type": "application/octet-stream"},
    )
    assert too_big.status_code == 413
    assert "KEEL_KNOWLEDGE_MAX_DOCUMENT_BYTES" in too_big.json()["detail"]
    sneaky = upload(kb, "../../etc/passwd.md", b"# ok\n\ntext")
    assert sneaky["name"] == "passwd.md"
    assert not (tmp_path / "etc").exists()
    bad_ref = kb.post(
        "/api/v1/knowledge/handbook/ingest", json={"uploads": [{"id": "../../x", "name": "a.md"}]}
    )
    assert bad_ref.status_code == 422
    other = kb.post("/api/v1/projects", json={"name": "other"}).json()["id"]
    key = kb.post("/api/v1/keys", json={"name": "o", "role": "admin", "project_id": other}).json()["key"]
    outsider = TestClient(kb.app, headers=bearer(key))
    assert outsider.get("/api/v1/knowledge/handbook").status_code == 404
    assert outsider.post("/api/v1/knowledge/handbook/search", json={"query": "leave"}).status_code == 404


def test_rag_answers_with_context_citations_and_a_retrieval_span(kb: TestClient) -> None:
    from tests.stubs.openai_stub import SEEN, openai_stub

    ingest(kb, {"rag.md": b"# Parking\n\nStaff park in garage B; visitors use level 2 of garage A."})
    with openai_stub() as stub:
        made = kb.post("/api/v1/providers", json={"name": "rag-stub", "kind": "openai", "base_url": stub})
        assert made.status_code == 201, made.text
        body = {
            "model": "rag-stub/m",
            "messages": [{"role": "user", "content": "Where do staff park?"}],
            "knowledge": {"bases": ["handbook"], "top_k": 2, "mode": "vector"},
        }
        reply = kb.post("/v1/chat/completions", json=body)
        assert reply.status_code == 200, reply.text
        sent = SEEN[-1]["body"]
        assert "knowledge" not in sent
        assert sent["messages"][0]["role"] == "system"
        assert "[1] (rag.md) Staff park in garage B" in sent["messages"][0]["content"]
        assert sent["messages"][-1] == {"role": "user", "content": "Where do staff park?"}
        citations = reply.json()["citations"]
        template = {"name": "rag", "template": "Use only this:\n{{ context }}\n(asked: {{ question }})"}
        assert kb.post("/api/v1/prompts", json=template).status_code == 201
        custom = {**body, "knowledge": {**body["knowledge"], "prompt": "rag"}}
        assert kb.post("/v1/chat/completions", json=custom).status_code == 200
        system = SEEN[-1]["body"]["messages"][0]
        assert system["role"] == "system"
        assert system["content"].startswith("Use only this:\n[1] (rag.md)")
        assert system["content"].endswith("(asked: Where do staff park?)")
        assert citations[0]["source"] == "rag.md"
        assert citations[0]["index"] == 1
        bad = kb.post("/v1/chat/completions", json={**body, "knowledge": {"bases": []}})
        assert bad.status_code == 400
        assert bad.json()["error"]["param"] == "knowledge.bases"
        missing = kb.post("/v1/chat/completions", json={**body, "knowledge": {"bases": ["nope"]}})
        assert missing.status_code == 404
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        traces = kb.get("/api/v1/traces", params={"model": "m-2026"}).json()["items"]
        if traces:
            break
        time.sleep(0.1)
    detail = kb.get(f"/api/v1/traces/{traces[0]['trace_id']}").json()
    root = detail["spans"][0]
    assert root["name"] == "chat rag-stub/m"
    retrieval = root["children"][0]
    assert retrieval["name"] == "retrieval"
    assert retrieval["parent_span_id"] == root["span_id"]
    assert citations[0]["chunk_id"] in retrieval["attributes"]["keel.retrieval.chunks"]


def test_retrieval_quality_is_an_experiment(kb: TestClient) -> None:
    ingest(kb, {"handbook.md": HANDBOOK, "travel.html": TRAVEL})
    queries = [
        {"input": "how many days of paid holiday", "expected": ["handbook.md"]},
        {"input": {"query": "booking flights for a trip"}, "expected": "travel.html"},
        {"input": {"query": ""}, "expected": "x"},
    ]
    kb.post("/api/v1/datasets", json={"name": "kb-queries", "items": queries})
    body = {
        "dataset": "kb-queries",
        "task": {"type": "retrieval", "knowledge": "handbook", "params": {"top_k": 3, "mode": "hybrid"}},
        "evaluators": [{"name": "retrieval", "params": {"k": 3}}],
    }
    created = kb.post("/api/v1/experiments", json=body)
    assert created.status_code == 201, created.text
    deadline = time.monotonic() + 60
    while (found := kb.get(f"/api/v1/experiments/{created.json()['id']}").json())["status"] != "succeeded":
        assert time.monotonic() < deadline, found
        time.sleep(0.2)
    assert found["summary"]["recall_at_k"]["mean"] == 1.0
    assert found["summary"]["mrr"]["mean"] == 1.0
    assert found["failed"] == 1  # the empty query is reported, not scored

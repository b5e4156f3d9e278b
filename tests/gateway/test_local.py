"""The bundled local models through the gateway, offline: real SmolLM2 generation and MiniLM embeddings.

Slow: the first run on a machine converts the GGUF into KEEL_CACHE_DIR (about 20 s); later runs load in
about a second. One app serves the whole module.
"""

import math
import time
from collections.abc import Iterator
from importlib import metadata
from pathlib import Path

import anyio
import openai
import orjson
import pytest
from fastapi.testclient import TestClient

from keel.gateway.providers.local import LocalTransport, ServedAdapter
from keel.local.runtime import installed
from keel.server.app import create_app
from keel.settings import Settings
from tests.conftest import ADMIN_KEY, bearer
from tests.gateway.test_chat import sdk, traces

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(not installed(), reason="the `local` extra is not installed"),
]


@pytest.fixture(scope="module")
def local(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestClient]:
    data = tmp_path_factory.mktemp("local")
    settings = Settings(
        data_dir=data,
        database_url=f"sqlite:///{data / 'keel.db'}",
        admin_key=ADMIN_KEY,
        worker_enabled=False,
        local_preload=True,
        local_threads=1,
    )
    with TestClient(create_app(settings), headers=bearer(ADMIN_KEY)) as client:
        deadline = time.monotonic() + 240
        while client.get("/readyz").status_code != 200 and time.monotonic() < deadline:
            time.sleep(0.5)
        assert client.get("/readyz").json()["checks"]["local"]["ok"] is True
        yield client


def test_local_models_are_listed(local: TestClient) -> None:
    ids = [m.id for m in sdk(local).models.list().data]
    assert ids == ["local/smollm2-135m-instruct", "local/all-minilm-l6-v2"]


def test_local_chat_answers_and_is_traced(local: TestClient) -> None:
    reply = sdk(local).chat.completions.create(
        model="local/smollm2-135m-instruct",
        max_tokens=24,
        messages=[{"role": "user", "content": "What is the capital of France? Answer in one sentence."}],
    )
    assert "Paris" in (reply.choices[0].message.content or "")
    assert reply.usage is not None
    assert 0 < reply.usage.completion_tokens <= 24
    trace = traces(local, 1)[0]
    assert trace["provider"] == "local"
    assert trace["completion_tokens"] == reply.usage.completion_tokens


def test_local_chat_streams_and_stops(local: TestClient) -> None:
    chunks = list(
        sdk(local).chat.completions.create(
            model="local/smollm2-135m-instruct",
            max_tokens=12,
            stream=True,
            stream_options={"include_usage": True},
            messages=[{"role": "user", "content": "Count from one to ten."}],
        )
    )
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert len(text) > 3
    assert chunks[-1].usage is not None
    assert chunks[-1].usage.completion_tokens <= 12
    assert [c.choices[0].finish_reason for c in chunks if c.choices][-1] in ("length", "stop")


def test_local_embeddings_are_normalised_and_meaningful(local: TestClient) -> None:
    result = sdk(local).embeddings.create(
        model="local/all-minilm-l6-v2",
        input=["a cat sits on the mat", "a kitten on a rug", "stock markets fell"],
    )
    vectors = [d.embedding for d in result.data]
    assert len(vectors[0]) == 384
    assert math.isclose(sum(x * x for x in vectors[0]), 1.0, rel_tol=1e-3)

    def cosine(a: list[float], b: list[float]) -> float:
        return sum(x * y for x, y in zip(a, b, strict=True))

    assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2]) + 0.2


def test_unknown_local_model(local: TestClient) -> None:
    with pytest.raises(openai.NotFoundError, match="local chat model"):
        sdk(local).chat.completions.create(model="local/gpt-5", messages=[{"role": "user", "content": "x"}])


def test_local_models_can_be_switched_off(tmp_path: Path) -> None:
    settings = Settings(
        data_dir=tmp_path,
        database_url=f"sqlite:///{tmp_path / 'k.db'}",
        admin_key=ADMIN_KEY,
        worker_enabled=False,
        local_models=False,
    )
    with TestClient(create_app(settings), headers=bearer(ADMIN_KEY)) as client:
        missing = client.post(
            "/v1/chat/completions",
            json={"model": "local/smollm2-135m-instruct", "messages": [{"role": "user", "content": "x"}]},
        )
        assert missing.status_code == 404
        assert client.get("/v1/models").json()["data"] == []


def test_local_refuses_what_it_cannot_do(local: TestClient) -> None:
    with pytest.raises(openai.BadRequestError, match="n must be 1"):
        sdk(local).chat.completions.create(
            model="local/smollm2-135m-instruct", n=2, messages=[{"role": "user", "content": "x"}]
        )
    with pytest.raises(openai.BadRequestError, match="context"):
        sdk(local).chat.completions.create(
            model="local/smollm2-135m-instruct",
            max_tokens=2048,
            messages=[{"role": "user", "content": "word " * 7000}],
        )


def test_readyz_reports_the_local_runtime(local: TestClient) -> None:
    check = local.get("/readyz").json()["checks"]["local"]
    assert check["ok"] is True
    assert check["models"]["smollm2-135m-instruct"] == {"present": True, "loaded": True}
    assert check["models"]["all-minilm-l6-v2"] == {"present": True, "loaded": True}
    assert check["adapters"] == {"available": True, "problem": None}
    assert check["versions"]["peft"] == metadata.version("peft")
    assert check["versions"]["transformers"] == metadata.version("transformers")


@pytest.mark.parametrize("stream", [False, True], ids=["json", "stream"])
def test_an_adapter_that_cannot_load_is_a_503_naming_the_cause(
    local: TestClient, tmp_path: Path, stream: bool
) -> None:
    corrupt = tmp_path / "corrupt"
    corrupt.mkdir()
    (corrupt / "adapter_config.json").write_text("{not json")
    served = {
        name: ServedAdapter("local/smollm2-135m-instruct", folder)
        for name, folder in (("gone", tmp_path / "gone"), ("corrupt", corrupt))
    }
    transport = LocalTransport(local.app.state.runtime.service("local"), served)  # type: ignore[attr-defined]
    for name, cause in (
        ("gone", "the LoRA adapter files of gone are missing"),
        ("corrupt", "failed while loading the LoRA adapter corrupt"),
    ):
        body = orjson.dumps(
            {"model": name, "messages": [{"role": "user", "content": "hi"}], "stream": stream}
        )
        reply = anyio.run(transport.post, "/chat/completions", body, stream)
        assert reply.status_code == 503
        error = orjson.loads(reply.content)["error"]
        assert error["code"] == "local_unavailable"
        assert cause in error["message"]
    still = local.post(
        "/v1/chat/completions",
        json={
            "model": "local/smollm2-135m-instruct",
            "max_tokens": 4,
            "messages": [{"role": "user", "content": "hi"}],
        },
    )
    assert still.status_code == 200


def test_embedding_similarity_evaluator_uses_the_local_model(local: TestClient) -> None:
    items = [
        {"input": "q1", "expected": "The cat sits on the mat."},
        {"input": "q2", "expected": "Paris is in France."},
    ]
    local.post("/api/v1/datasets", json={"name": "sim", "items": items})
    body = {"dataset": "sim", "task": {"type": "client"}, "evaluators": ["embedding_similarity"]}
    experiment = local.post("/api/v1/experiments", json=body).json()
    pending = local.get(f"/api/v1/experiments/{experiment['id']}/pending").json()["items"]
    outputs = {"q1": "A cat is sitting on a mat.", "q2": "Quarterly revenue grew by four percent."}
    results = [{"item_key": p["item_key"], "output": outputs[p["input"]]} for p in pending]
    local.post(f"/api/v1/experiments/{experiment['id']}/results", json={"results": results})
    scored = local.get(f"/api/v1/experiments/{experiment['id']}/results").json()["items"]
    similarity = {r["input"]: r["scores"]["embedding_similarity"] for r in scored}
    assert similarity["q1"] > 0.8
    assert similarity["q2"] < 0.3

import openai
import pytest
from fastapi.testclient import TestClient

from tests.gateway.test_chat import sdk, traces
from tests.stubs.openai_stub import SEEN


def test_embeddings_through_the_sdk_are_traced(gw: TestClient) -> None:
    result = sdk(gw).embeddings.create(model="stub/text-embedding-3-small", input=["hello world", "hi"])
    assert [d.embedding[0] for d in result.data] == [11.0, 2.0]
    assert SEEN[-1]["body"]["model"] == "text-embedding-3-small"
    trace = traces(gw, 1)[0]
    assert trace["name"] == "embeddings stub/text-embedding-3-small"
    assert trace["prompt_tokens"] == 3


@pytest.mark.parametrize("given", [None, "", [], [""], [1, "a"], {"a": 1}])
def test_bad_embedding_input(gw: TestClient, given: object) -> None:
    response = gw.post("/v1/embeddings", json={"model": "stub/e", "input": given})
    assert response.status_code == 400
    assert response.json()["error"]["param"] == "input"


def test_unknown_embedding_model(gw: TestClient) -> None:
    with pytest.raises(openai.NotFoundError):
        sdk(gw).embeddings.create(model="ghost", input="x")

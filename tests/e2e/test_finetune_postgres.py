"""The fine-tuning loop on PostgreSQL: train → register → serve the adapter → evaluation gate → export.

The same locked library set as the SQLite journey in test_finetune.py, on a fresh data dir and a fresh
PostgreSQL database; a file of its own so the two journeys run on different workers.
"""

import io
import json
import tarfile

import pytest

from keel.local.runtime import installed
from tests.e2e.conftest import Server
from tests.e2e.test_finetune import QUICK, SYSTEM, api_for, items, logs, start, wait

pytestmark = [
    pytest.mark.e2e,
    pytest.mark.slow,
    pytest.mark.skipif(not installed(), reason="the `local` extra is not installed"),
]


@pytest.mark.parametrize("own_server", ["postgresql"], indirect=True)
def test_the_loop_on_postgresql(own_server: Server) -> None:
    api = api_for(own_server)
    assert api.post("/api/v1/datasets", json={"name": "tickets", "items": items()}).status_code == 201
    evaluate = {"evaluators": ["exact_match"], "max_tokens": 4}
    run = wait(api, start(api, register_as="pg-tuned", params=QUICK, evaluate=evaluate)["id"])
    assert run["status"] == "succeeded", logs(api, run)
    assert run["model_version"] == "pg-tuned@v1"

    version = api.get("/api/v1/models/pg-tuned/versions/challenger").json()
    [evaluation] = version["evaluations"]
    assert evaluation["metrics"]["exact_match"]["n"] == 2, evaluation

    ask = [{"role": "system", "content": SYSTEM}, {"role": "user", "content": "Where is my parcel?"}]
    served = api.post("/v1/chat/completions", json={"model": "pg-tuned@v1", "messages": ask, "max_tokens": 4})
    assert served.status_code == 200, served.text
    assert served.json()["model"] == "pg-tuned@v1"
    trace = api.get("/api/v1/traces", params={"limit": 1}).json()["items"][0]
    assert trace["status"] == "ok"

    exported = api.post("/api/v1/models/pg-tuned/versions/v1/export", json={"format": "adapter"})
    assert exported.status_code == 200
    with tarfile.open(fileobj=io.BytesIO(exported.content), mode="r:*") as tar:
        config = tar.extractfile("adapter_config.json")
        assert config is not None
        assert json.loads(config.read())["r"] == 8

"""Meaning drift with the bundled MiniLM: support tickets about billing and shipping as the reference; a new
sample of the same kinds does not drift (false-positive rate over repeated controls measured), a window of
account questions does, and the topic that grew is named with example texts. Through the API, a dataset
version is the reference for a window of real gateway traces."""

import json
import random
import time
from collections.abc import Iterator
from datetime import UTC, datetime
from importlib import resources
from typing import Any

import numpy as np
import pytest
from fastapi.testclient import TestClient

from keel.local.embedder import LocalEmbedder
from keel.local.runtime import installed
from keel.monitoring import meaning
from keel.server.app import create_app
from keel.settings import Settings
from tests.conftest import ADMIN_KEY, bearer
from tests.gateway.test_chat import sdk
from tests.stubs.openai_stub import openai_stub

pytestmark = pytest.mark.skipif(not installed(), reason="the `local` extra is not installed")
TICKETS = json.loads(resources.files("keel.loops").joinpath("demo_tickets.json").read_text())["items"]


def of(label: str) -> list[str]:
    return [t["text"] for t in TICKETS if t["label"] == label]


@pytest.fixture(scope="module")
def embed() -> Any:
    model = LocalEmbedder(1)
    return lambda texts: np.asarray(model.embed(texts)[0], dtype=np.float32)


def compare(embed: Any, reference: list[str], current: list[str]) -> Any:
    ids = lambda texts, side: [(f"{side}{n}", t) for n, t in enumerate(texts)]  # noqa: E731
    return meaning.compare(
        "input_meaning", embed(reference), embed(current), ids(reference, "r"), ids(current, "c")
    )


def test_a_new_kind_of_question_drifts_and_its_topic_is_named(embed: Any) -> None:
    billing, shipping, account = of("billing"), of("shipping"), of("account")
    reference = billing[:16] + shipping[:16]
    control = compare(embed, reference, billing[16:] + shipping[16:])
    assert control.drifted is False, control
    shifted = compare(embed, reference, account)
    assert shifted.drifted is True
    assert shifted.p_value is not None
    assert shifted.p_value < 0.01
    assert shifted.effect_size is not None
    assert control.effect_size is not None
    assert shifted.effect_size > control.effect_size
    grown = max(shifted.topics, key=lambda t: t["change"])
    assert grown["current_share"] > grown["reference_share"]
    assert grown["examples"]
    assert all(e["id"].startswith("c") for e in grown["examples"])  # examples from the window it grew in
    assert any(e["text"] in account for e in grown["examples"])


def test_false_positives_over_repeated_controls_stay_rare(embed: Any) -> None:
    pool = of("billing") + of("shipping")
    vectors = dict(zip(pool, embed(pool), strict=True))
    rng = random.Random(3)
    drifted = 0
    for _ in range(20):
        picked = rng.sample(pool, 64)
        reference, current = picked[:32], picked[32:]
        result = meaning.compare(
            "input_meaning",
            np.stack([vectors[t] for t in reference]),
            np.stack([vectors[t] for t in current]),
            [("r", t) for t in reference],
            [("c", t) for t in current],
        )
        drifted += bool(result.drifted)
    assert drifted <= 3  # 20 controls at the 5% level: about 1 expected


@pytest.fixture(scope="module")
def stub_url() -> Iterator[str]:
    with openai_stub() as url:
        yield url


def test_a_dataset_version_is_the_reference_for_production_traces(settings: Settings, stub_url: str) -> None:
    app = create_app(settings.model_copy(update={"worker_enabled": False}))
    with TestClient(app, headers=bearer(ADMIN_KEY)) as gw:
        items = [
            {"input": [{"role": "user", "content": t}], "expected": "ok"}
            for t in of("billing") + of("shipping")
        ]
        assert gw.post("/api/v1/datasets", json={"name": "evaluated-on", "items": items}).status_code == 201
        provider = {"name": "stub", "kind": "openai", "base_url": stub_url}
        assert gw.post("/api/v1/providers", json=provider).is_success
        assert gw.post(
            "/api/v1/routes", json={"name": "r", "targets": [{"provider": "stub", "model": "m"}]}
        ).is_success
        start = datetime.now(UTC).isoformat()
        for text in of("account"):
            sdk(gw).chat.completions.create(model="r", messages=[{"role": "user", "content": text}])
        time.sleep(0.01)
        gw.app.state.runtime.service("tracing.writer").barrier()
        body = {
            "filters": {"route": "r"},
            "reference": {"dataset": "evaluated-on@1"},
            "current": {"from": start, "to": datetime.now(UTC).isoformat()},
        }
        reply = gw.post("/api/v1/monitoring/drift", json=body)
        assert reply.status_code == 200, reply.text
        features = {f["feature"]: f for f in reply.json()["features"]}
        assert set(features) == {"input_tokens", "output_tokens", "input_meaning", "output_meaning"}
        assert features["input_meaning"]["drifted"] is True
        assert features["input_meaning"]["topics"][0]["examples"]
        missing = gw.post("/api/v1/monitoring/drift", json={**body, "reference": {"dataset": "nope@1"}})
        assert missing.status_code == 404

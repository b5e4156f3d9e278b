"""Vector stores are a registry filled through `register_vector_stores`: the built-ins come that way, a
plugin's store is offered by the API, and a store that cannot serve here says why when a base asks for it."""

from typing import Any

from fastapi.testclient import TestClient

from keel.plugins.hookspecs import Register, hookimpl
from keel.plugins.manager import Plugins
from keel.server.app import create_app
from keel.settings import Settings
from tests.conftest import ADMIN_KEY, bearer


class Elsewhere:
    name = "elsewhere"
    description = "A store on a service this machine cannot reach."

    def unavailable(self, session: Any) -> str | None:
        return "elsewhere needs ELSEWHERE_URL set"

    def write(self, session: Any, kb_id: str, rows: list[tuple[str, bytes]], dimensions: int) -> None:
        raise AssertionError("never written: no base can use it")

    def nearest(self, session: Any, kb: Any, query: Any, limit: int) -> list[tuple[str, float]] | None:
        return None


class ElsewherePlugin:
    @hookimpl
    def register_vector_stores(self, register: Register) -> None:
        register("elsewhere", Elsewhere())


def test_the_built_ins_are_registered_through_the_hook() -> None:
    assert list(Plugins(entry_points=False).vector_stores) == ["flat", "pgvector"]


def test_a_plugin_store_is_offered_and_explains_why_it_cannot_serve(settings: Settings) -> None:
    app = create_app(settings, plugins=[ElsewherePlugin()])
    with TestClient(app, headers=bearer(ADMIN_KEY)) as client:
        assert client.get("/api/v1/knowledge/stores").json()["items"] == ["elsewhere", "flat", "pgvector"]
        refused = client.post("/api/v1/knowledge", json={"name": "docs", "store": "elsewhere"})
        assert refused.status_code == 422, refused.text
        assert "elsewhere needs ELSEWHERE_URL set" in refused.text
        unknown = client.post("/api/v1/knowledge", json={"name": "docs", "store": "faiss"})
        assert unknown.status_code == 422
        assert "unknown vector store 'faiss'; known: elsewhere, flat, pgvector" in unknown.text
        assert client.post("/api/v1/knowledge", json={"name": "docs"}).status_code == 201  # flat

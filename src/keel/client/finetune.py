"""`keel.Client().finetunes` (start, follow, metrics, cancel) and `.models` (registry versions, aliases)."""

import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from keel.client.http import Client

FINAL = ("succeeded", "failed", "cancelled")


class FineTunesAPI:
    def __init__(self, client: "Client") -> None:
        self._client = client

    def start(self, dataset: str, *, wait: bool = False, **config: Any) -> dict[str, Any]:
        """Start a fine-tune (fields as in a `keel finetune start` config); `wait=True` waits for its end."""
        run = dict(self._client.request("POST", "/api/v1/finetunes", json={"dataset": dataset, **config}))
        return self.wait(run["id"]) if wait else run

    def get(self, run_id: str) -> dict[str, Any]:
        return dict(self._client.request("GET", f"/api/v1/finetunes/{run_id}"))

    def list_all(self) -> list[dict[str, Any]]:
        return self._client.paginate("/api/v1/finetunes")

    def metrics(self, run_id: str, after_step: int = -1) -> list[dict[str, Any]]:
        path = f"/api/v1/finetunes/{run_id}/metrics"
        return list(self._client.request("GET", path, params={"after_step": after_step})["items"])

    def wait(self, run_id: str, poll_s: float = 1.0) -> dict[str, Any]:
        while (run := self.get(run_id))["status"] not in FINAL:
            time.sleep(poll_s)
        return run

    def cancel(self, run_id: str) -> dict[str, Any]:
        return dict(self._client.request("POST", f"/api/v1/finetunes/{run_id}/cancel"))


class ModelsAPI:
    def __init__(self, client: "Client") -> None:
        self._client = client

    def list_all(self) -> list[dict[str, Any]]:
        return self._client.paginate("/api/v1/models")

    def get(self, ref: str) -> dict[str, Any]:
        """`name@v3`, `name@champion`, `name@latest` → that version with lineage; `name` → the model."""
        name, _, selector = ref.partition("@")
        path = f"/api/v1/models/{name}" + (f"/versions/{selector}" if selector else "")
        return dict(self._client.request("GET", path))

    def versions(self, name: str) -> list[dict[str, Any]]:
        return list(self._client.request("GET", f"/api/v1/models/{name}/versions")["items"])

    def set_alias(self, name: str, alias: str, version: int) -> dict[str, Any]:
        path = f"/api/v1/models/{name}/aliases/{alias}"
        return dict(self._client.request("PUT", path, json={"version": version}))

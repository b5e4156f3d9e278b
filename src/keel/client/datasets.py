"""`keel.Client().datasets`: create datasets, add items, import files, read versions."""

from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from keel.client.http import Client


class DatasetsAPI:
    def __init__(self, client: "Client") -> None:
        self._client = client

    def create(
        self, name: str, items: list[dict[str, Any]] | None = None, description: str = ""
    ) -> dict[str, Any]:
        body = {"name": name, "description": description, "items": items or []}
        return dict(self._client.request("POST", "/api/v1/datasets", json=body))

    def get(self, name: str) -> dict[str, Any]:
        return dict(self._client.request("GET", f"/api/v1/datasets/{name}"))

    def list_all(self) -> list[dict[str, Any]]:
        return self._client.paginate("/api/v1/datasets")

    def select(self, name: str, selector: dict[str, Any]) -> dict[str, Any]:
        """Production → dataset: write the traces `selector` picks as a new version (see SelectIn)."""
        return dict(self._client.request("POST", f"/api/v1/datasets/{name}/select", json=selector))

    def add_items(self, name: str, items: list[dict[str, Any]], message: str = "") -> dict[str, Any]:
        body = {"items": items, "message": message}
        return dict(self._client.request("POST", f"/api/v1/datasets/{name}/items", json=body))

    def from_file(self, name: str, path: str | Path, *, skip_invalid: bool = False) -> dict[str, Any]:
        """Import a JSONL or CSV file (by its extension) into `name`, creating the dataset if needed."""
        path = Path(path)
        fmt = "csv" if path.suffix.lower() == ".csv" else "jsonl"
        params = {"format": fmt, "skip_invalid": str(skip_invalid).lower()}
        return dict(
            self._client.request(
                "POST",
                f"/api/v1/datasets/{name}/import",
                params=params,
                content=path.read_bytes(),
                headers={"Content-Type": "application/octet-stream"},
            )
        )

    def from_traces(self, name: str, trace_ids: list[str], *, split: str | None = None) -> dict[str, Any]:
        body: dict[str, Any] = {"trace_ids": trace_ids}
        if split:
            body["split"] = split
        return dict(self._client.request("POST", f"/api/v1/datasets/{name}/from-traces", json=body))

    def items(self, name: str, version: int | None = None, split: str | None = None) -> list[dict[str, Any]]:
        params = {k: v for k, v in {"version": version, "split": split}.items() if v is not None}
        return self._client.paginate(f"/api/v1/datasets/{name}/items", **params)

    def split(self, name: str, test_fraction: float, seed: int = 0) -> dict[str, Any]:
        body = {"test_fraction": test_fraction, "seed": seed}
        return dict(self._client.request("POST", f"/api/v1/datasets/{name}/split", json=body))

    def versions(self, name: str) -> list[dict[str, Any]]:
        return list(self._client.request("GET", f"/api/v1/datasets/{name}/versions")["items"])

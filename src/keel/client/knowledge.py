"""`keel.Client().knowledge`: create bases, ingest files, folders and URLs (as jobs), search."""

import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from keel.client.http import Client


class KnowledgeAPI:
    def __init__(self, client: "Client") -> None:
        self._client = client

    def create(self, name: str, **options: Any) -> dict[str, Any]:
        return dict(self._client.request("POST", "/api/v1/knowledge", json={"name": name, **options}))

    def list_all(self) -> list[dict[str, Any]]:
        return list(self._client.request("GET", "/api/v1/knowledge")["items"])

    def documents(self, name: str) -> list[dict[str, Any]]:
        return list(self._client.request("GET", f"/api/v1/knowledge/{name}/documents")["items"])

    def upload(self, name: str, path: Path) -> dict[str, Any]:
        return dict(
            self._client.request(
                "POST",
                f"/api/v1/knowledge/{name}/uploads",
                params={"filename": path.name},
                content=path.read_bytes(),
                headers={"Content-Type": "application/octet-stream"},
            )
        )

    def ingest(
        self,
        name: str,
        paths: Sequence[str | Path] | None = None,
        urls: list[str] | None = None,
        wait: bool = True,
    ) -> dict[str, Any]:
        """Upload files (a folder: every file in it) and start one ingestion job; wait for it by default."""
        files: list[Path] = []
        for given in paths or []:
            path = Path(given)
            files += sorted(p for p in path.rglob("*") if p.is_file()) if path.is_dir() else [path]
        uploads = [self.upload(name, path) for path in files]
        job = self._client.request(
            "POST", f"/api/v1/knowledge/{name}/ingest", json={"uploads": uploads, "urls": list(urls or [])}
        )
        if not wait:
            return dict(job)
        while (found := self._client.get_job(job["job_id"]))["status"] in ("queued", "running"):
            time.sleep(0.3)
        return found

    def search(
        self, name: str, query: str, top_k: int = 5, mode: str = "hybrid", **options: Any
    ) -> list[dict[str, Any]]:
        body = {"query": query, "top_k": top_k, "mode": mode, **options}
        return list(self._client.request("POST", f"/api/v1/knowledge/{name}/search", json=body)["items"])

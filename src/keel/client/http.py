"""`keel.Client`: a small synchronous client for the management API, used by the SDK and the CLI.

Errors come back as `KeelAPIError` carrying the server's status, code and precise message, never a raw
HTTP exception, so the CLI can print them as they are.
"""

from typing import Any

import httpx

from keel.client.errors import KeelAPIError as KeelAPIError
from keel.client.settings import ClientSettings


class Client:
    def __init__(
        self,
        url: str | None = None,
        api_key: str | None = None,
        *,
        timeout: float | None = None,
        transport: httpx.BaseTransport | None = None,
    ) -> None:
        settings = ClientSettings()
        self.url = (url or settings.url).rstrip("/")
        key = api_key or (settings.api_key.get_secret_value() if settings.api_key else None)
        self.api_key = key
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        self._http = httpx.Client(
            base_url=self.url, headers=headers, timeout=timeout or settings.timeout, transport=transport
        )
        self.prompts = PromptsAPI(self)
        self.datasets = DatasetsAPI(self)
        self.experiments = ExperimentsAPI(self)
        self.feedback = FeedbackAPI(self)
        self.knowledge = KnowledgeAPI(self)
        self.finetunes = FineTunesAPI(self)
        self.models = ModelsAPI(self)

    def close(self) -> None:
        self._http.close()

    def __enter__(self) -> "Client":
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def request(self, method: str, path: str, **kwargs: Any) -> Any:
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise KeelAPIError(0, "unreachable", f"cannot reach Keel at {self.url}: {exc}") from None
        if response.status_code >= 400:
            raise _error_from(response)
        if response.status_code == 204 or not response.content:
            return None
        return response.json()

    def raw(self, method: str, path: str, **kwargs: Any) -> bytes:
        """The response body as bytes (exports); errors as for `request`."""
        try:
            response = self._http.request(method, path, **kwargs)
        except httpx.TransportError as exc:
            raise KeelAPIError(0, "unreachable", f"cannot reach Keel at {self.url}: {exc}") from None
        if response.status_code >= 400:
            raise _error_from(response)
        return response.content

    def paginate(self, path: str, **params: Any) -> list[dict[str, Any]]:
        items: list[dict[str, Any]] = []
        cursor = None
        while True:
            page = self.request("GET", path, params={**params, **({"cursor": cursor} if cursor else {})})
            items.extend(page["items"])
            cursor = page.get("next_cursor")
            if not cursor:
                return items

    def whoami(self) -> dict[str, Any]:
        return dict(self.request("GET", "/api/v1/whoami"))

    def create_project(self, name: str) -> dict[str, Any]:
        return dict(self.request("POST", "/api/v1/projects", json={"name": name}))

    def list_projects(self) -> list[dict[str, Any]]:
        return self.paginate("/api/v1/projects")

    def create_key(
        self, name: str, role: str = "member", project_id: str | None = None, expires_at: str | None = None
    ) -> dict[str, Any]:
        body = {"name": name, "role": role, "project_id": project_id, "expires_at": expires_at}
        return dict(
            self.request("POST", "/api/v1/keys", json={k: v for k, v in body.items() if v is not None})
        )

    def list_keys(self, project_id: str | None = None) -> list[dict[str, Any]]:
        return self.paginate("/api/v1/keys", **({"project_id": project_id} if project_id else {}))

    def revoke_key(self, key_id: str) -> dict[str, Any]:
        return dict(self.request("DELETE", f"/api/v1/keys/{key_id}"))

    def list_alert_rules(self) -> list[dict[str, Any]]:
        return list(self.request("GET", "/api/v1/alerts/rules")["items"])

    def alert_history(self, rule: str | None = None, state: str | None = None) -> list[dict[str, Any]]:
        params = {k: v for k, v in {"rule": rule, "state": state}.items() if v}
        return list(self.request("GET", "/api/v1/alerts", params=params)["items"])

    def canary(self, route: str) -> dict[str, Any]:
        """The route's canary release: state, live reading of the current step, and its decisions."""
        return dict(self.request("GET", f"/api/v1/routes/{route}/canary"))

    def overrule_canary(self, route: str, action: str, reason: str | None = None) -> dict[str, Any]:
        """`pause`, `resume`, `rollback` or `promote` the route's canary."""
        body = {"reason": reason} if reason else None
        return dict(self.request("POST", f"/api/v1/routes/{route}/canary/{action}", json=body))

    def list_jobs(self, status: str | None = None, kind: str | None = None) -> list[dict[str, Any]]:
        params = {k: v for k, v in {"status": status, "kind": kind}.items() if v}
        return self.paginate("/api/v1/jobs", **params)

    def get_job(self, job_id: str) -> dict[str, Any]:
        return dict(self.request("GET", f"/api/v1/jobs/{job_id}"))

    def submit_job(self, kind: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
        return dict(self.request("POST", "/api/v1/jobs", json={"kind": kind, "params": params or {}}))

    def cancel_job(self, job_id: str) -> dict[str, Any]:
        return dict(self.request("POST", f"/api/v1/jobs/{job_id}/cancel"))

    def job_logs(self, job_id: str) -> list[dict[str, Any]]:
        return self.paginate(f"/api/v1/jobs/{job_id}/logs")


def _error_from(response: httpx.Response) -> KeelAPIError:
    try:
        body = response.json()
    except ValueError:
        return KeelAPIError(response.status_code, "http_error", response.text[:500])
    if isinstance(body, dict) and isinstance(body.get("error"), dict):
        err = body["error"]
        return KeelAPIError(response.status_code, str(err.get("code")), str(err.get("message")))
    if isinstance(body, dict):
        return KeelAPIError(
            response.status_code, str(body.get("code", "error")), str(body.get("detail", body))
        )
    return KeelAPIError(response.status_code, "http_error", str(body)[:500])


from keel.client.datasets import DatasetsAPI  # noqa: E402  (these refer back to Client)
from keel.client.experiments import ExperimentsAPI  # noqa: E402
from keel.client.feedback import FeedbackAPI  # noqa: E402
from keel.client.finetune import FineTunesAPI, ModelsAPI  # noqa: E402
from keel.client.knowledge import KnowledgeAPI  # noqa: E402
from keel.client.prompts import PromptsAPI  # noqa: E402

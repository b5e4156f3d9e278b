"""`keel.feedback(trace_id, name, value)` and `keel.Client().feedback`: scores, labels and comments on traces
and experiment items."""

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from keel.client.http import Client


class FeedbackAPI:
    def __init__(self, client: "Client") -> None:
        self._client = client

    def create(
        self,
        trace_id: str | None = None,
        name: str = "score",
        value: float | bool | None = None,
        *,
        label: str | None = None,
        comment: str | None = None,
        experiment_id: str | None = None,
        item_key: str | None = None,
        source: str = "sdk",
    ) -> dict[str, Any]:
        body = {
            "trace_id": trace_id,
            "experiment_id": experiment_id,
            "item_key": item_key,
            "name": name,
            "value": float(value) if value is not None else None,
            "label": label,
            "comment": comment,
            "source": source,
        }
        return dict(
            self._client.request(
                "POST", "/api/v1/feedback", json={k: v for k, v in body.items() if v is not None}
            )
        )

    def list_all(self, **filters: str) -> list[dict[str, Any]]:
        return self._client.paginate("/api/v1/feedback", **filters)

    def summary(self, group_by: str = "prompt_version", name: str | None = None) -> list[dict[str, Any]]:
        params = {"group_by": group_by, **({"name": name} if name else {})}
        return list(self._client.request("GET", "/api/v1/feedback/summary", params=params)["items"])


def feedback(
    trace_id: str,
    name: str,
    value: float | bool | None = None,
    *,
    label: str | None = None,
    comment: str | None = None,
) -> dict[str, Any]:
    """Record feedback on a trace with a client from KEEL_URL/KEEL_API_KEY (`keel.feedback(...)`)."""
    from keel.client.http import Client

    with Client() as client:
        return client.feedback.create(trace_id, name, value, label=label, comment=comment)

"""The `prompts` section of `keel apply`: a prompt gets a new version only when its content differs from the
latest, and its `labels` are pointed at that version."""

from typing import Any

from keel.cli.apply import Change, Section, diff, writer
from keel.client.http import Client, KeelAPIError

PROMPT_CONTENT = ("messages", "template", "model", "params")


def prompts(client: Client, items: Any) -> list[Change]:
    changes = []
    for item in items or []:
        name = str(item.get("name"))
        try:
            have: dict[str, Any] | None = client.request("GET", f"/api/v1/prompts/{name}")
        except KeelAPIError as exc:
            if exc.status != 404:
                raise
            have = None
        body = {**item, "only_if_changed": True}
        change = diff(
            "prompts",
            name,
            {k: item.get(k) for k in PROMPT_CONTENT if k in item},
            None if have is None else {k: have.get(k) for k in PROMPT_CONTENT},
            writer(client, "POST", "/api/v1/prompts", body),
        )
        missing_labels = sorted(set(item.get("labels") or []) - set(have["labels"] if have else []))
        if have is not None and missing_labels:
            change.action = "~"
            change.fields.append(f"labels ({', '.join(missing_labels)})")
            change.write = writer(client, "POST", "/api/v1/prompts", body)
        changes.append(change)
    return changes


SECTION = Section("prompts", prompts, order=50)

"""The `guardrails` section of `keel apply`: policies by name, written before the routes that apply them."""

from typing import Any

from keel.cli.apply import Change, Section, diff, writer
from keel.client.http import Client


def policies(client: Client, items: Any) -> list[Change]:
    have = {p["name"]: p for p in client.request("GET", "/api/v1/guardrails")["items"]}
    return [
        diff(
            "guardrails",
            str(item.get("name")),
            item,
            have.get(str(item.get("name"))),
            writer(client, "POST", "/api/v1/guardrails", item),
        )
        for item in items or []
    ]


SECTION = Section("guardrails", policies, order=15)  # after providers, before the routes naming them

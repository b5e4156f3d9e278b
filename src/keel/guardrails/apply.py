"""The `guardrails` section of `keel apply`: policies by name, written before the routes that apply them."""

from typing import Any

from keel.cli.apply import Change, Section, named_items
from keel.client.http import Client


def policies(client: Client, items: Any) -> list[Change]:
    return named_items(client, "guardrails", "/api/v1/guardrails", items)


SECTION = Section("guardrails", policies, order=15)  # after providers, before the routes naming them

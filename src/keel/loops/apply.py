"""The `loops` section of `keel apply`: closed loops by name, written after the routes their canaries use."""

from typing import Any

from keel.cli.apply import Change, Section, named_items
from keel.client.http import Client


def loops(client: Client, items: Any) -> list[Change]:
    return named_items(client, "loops", "/api/v1/loops", items)


SECTION = Section("loops", loops, order=60)  # after routes (20) and prompts (50)

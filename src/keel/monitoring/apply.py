"""The `alerts` section of `keel apply`: alert rules by name, written after the routes they watch."""

from typing import Any

from keel.cli.apply import Change, Section, named_items
from keel.client.http import Client


def rules(client: Client, items: Any) -> list[Change]:
    return named_items(client, "alerts", "/api/v1/alerts/rules", items)


SECTION = Section("alerts", rules, order=45)  # after the routes and limits it watches

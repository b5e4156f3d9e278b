"""`keel apply` sections for the gateway: providers, routes, prices and limits (see keel.cli.apply).

Secrets never live in the file: a provider names the environment variable that holds its key (`api_key_env`).
"""

import os
from typing import Any

from keel.cli.apply import ApplyError, Change, Section, diff, same, writer
from keel.client.http import Client


def providers(client: Client, items: Any) -> list[Change]:
    changes: list[Change] = []
    have = {p["name"]: p for p in client.paginate("/api/v1/providers")}
    for item in items or []:
        body = dict(item)
        env = body.pop("api_key_env", None)
        if "api_key" in body:
            raise ApplyError(
                f"provider {body.get('name')!r}: put the key in an environment variable and name "
                "it with api_key_env; keys do not belong in files"
            )
        if env is not None:
            if not os.environ.get(env):
                raise ApplyError(f"provider {body.get('name')!r}: environment variable {env} is empty")
            body["api_key"] = os.environ[env]
        name = str(body.get("name"))
        current = have.get(name)
        comparable = {k: v for k, v in body.items() if k != "api_key"}
        if current is None:
            create = writer(client, "POST", "/api/v1/providers", body)
            change = diff("providers", name, comparable, None, create)
        else:
            patch = {k: v for k, v in body.items() if k not in ("name", "kind")}
            update = writer(client, "PATCH", f"/api/v1/providers/{name}", patch)
            change = diff("providers", name, comparable, current, update)
            if "api_key" in body and change.action == "=":
                change = Change("providers", name, "~", ["api_key (set from environment)"], update)
        changes.append(change)
    return changes


def routes(client: Client, items: Any) -> list[Change]:
    """Routes by name. Once a route's canary is promoted, the candidate is its target: re-applying the same
    file (whose targets are the old baseline) is a no-op, not a change back."""
    have = {r["name"]: r for r in client.request("GET", "/api/v1/routes")["items"]}
    changes = []
    for item in items or []:
        name, current = str(item.get("name")), have.get(str(item.get("name")))
        want = dict(item)
        promoted = current is not None and current.get("canary_state") == "promoted"
        if promoted and item.get("canary") and same(item["canary"], current.get("canary")):  # type: ignore[union-attr]
            want.pop("targets", None)
        changes.append(diff("routes", name, want, current, writer(client, "POST", "/api/v1/routes", item)))
    return changes


def prices(client: Client, items: Any) -> list[Change]:
    have = {p["model"]: p for p in client.request("GET", "/api/v1/prices")["items"]}
    return [
        diff("prices", model, item, have.get(model), writer(client, "PUT", f"/api/v1/prices/{model}", item))
        for model, item in (items or {}).items()
    ]


def limits(client: Client, items: Any) -> list[Change]:
    have = {x["scope"]: x for x in client.request("GET", "/api/v1/limits")["items"]}
    return [
        diff("limits", scope, item, have.get(scope), writer(client, "PUT", f"/api/v1/limits/{scope}", item))
        for scope, item in (items or {}).items()
    ]


SECTIONS = (
    Section("providers", providers, order=10),
    Section("routes", routes, order=20),  # after the providers they name
    Section("prices", prices, order=30),
    Section("limits", limits, order=40),
)

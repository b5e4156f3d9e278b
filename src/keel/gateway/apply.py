"""`keel apply -f keel.yaml`: make the server's gateway configuration match a file.

The store stays the source of truth; the file is a way to write it. Each section is compared item by item
with what the server has (`=` unchanged, `~` changed, `+` new) and only differences are written, so applying
the same file twice changes nothing. Items the file does not mention are left alone. Secrets never live in
the file: a provider names the environment variable that holds its key (`api_key_env`). A prompt gets a new
version only when its content differs from the latest, and its `labels` are pointed at that version.
"""

import functools
import os
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from keel.client.http import Client, KeelAPIError

SECTIONS = ("providers", "routes", "prices", "limits", "prompts")
PROMPT_CONTENT = ("messages", "template", "model", "params")


@dataclass
class Change:
    section: str
    name: str
    action: str  # "=", "~" or "+"
    fields: list[str]
    write: Callable[[], Any] | None


class ApplyError(ValueError):
    pass


def _same(want: Any, have: Any) -> bool:
    if isinstance(want, dict) and isinstance(have, dict):
        return all(_same(v, have.get(k)) for k, v in want.items())
    if isinstance(want, list) and isinstance(have, list):
        return len(want) == len(have) and all(_same(w, h) for w, h in zip(want, have, strict=True))
    if isinstance(want, int | float | Decimal | str) and isinstance(have, int | float | Decimal | str):
        try:
            return Decimal(str(want)) == Decimal(str(have))
        except ArithmeticError:
            return str(want) == str(have)
    return bool(want == have)


def _diff(
    section: str, name: str, want: dict[str, Any], have: dict[str, Any] | None, write: Callable[[], Any]
) -> Change:
    if have is None:
        return Change(section, name, "+", sorted(want), write)
    changed = [k for k, v in want.items() if not _same(v, have.get(k))]
    return Change(section, name, "~" if changed else "=", changed, write if changed else None)


def _writer(client: Client, method: str, path: str, body: dict[str, Any]) -> Callable[[], Any]:
    return functools.partial(client.request, method, path, json=body)


def plan(client: Client, config: dict[str, Any]) -> list[Change]:
    unknown = set(config) - set(SECTIONS)
    if unknown:
        raise ApplyError(f"unknown section(s) {', '.join(sorted(unknown))}; known: {', '.join(SECTIONS)}")
    changes: list[Change] = []
    have = {p["name"]: p for p in client.paginate("/api/v1/providers")}
    for item in config.get("providers") or []:
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
            change = _diff(
                "providers",
                name,
                comparable,
                None,
                _writer(client, "POST", "/api/v1/providers", body),
            )
        else:
            patch = {k: v for k, v in body.items() if k not in ("name", "kind")}
            change = _diff(
                "providers",
                name,
                comparable,
                current,
                _writer(client, "PATCH", f"/api/v1/providers/{name}", patch),
            )
            if "api_key" in body and change.action == "=":
                change = Change(
                    "providers",
                    name,
                    "~",
                    ["api_key (set from environment)"],
                    _writer(client, "PATCH", f"/api/v1/providers/{name}", patch),
                )
        changes.append(change)
    routes = {r["name"]: r for r in client.request("GET", "/api/v1/routes")["items"]}
    for item in config.get("routes") or []:
        changes.append(
            _diff(
                "routes",
                str(item.get("name")),
                item,
                routes.get(str(item.get("name"))),
                _writer(client, "POST", "/api/v1/routes", item),
            )
        )
    prices = {p["model"]: p for p in client.request("GET", "/api/v1/prices")["items"]}
    for model, item in (config.get("prices") or {}).items():
        changes.append(
            _diff(
                "prices",
                model,
                item,
                prices.get(model),
                _writer(client, "PUT", f"/api/v1/prices/{model}", item),
            )
        )
    limits = {x["scope"]: x for x in client.request("GET", "/api/v1/limits")["items"]}
    for scope, item in (config.get("limits") or {}).items():
        changes.append(
            _diff(
                "limits",
                scope,
                item,
                limits.get(scope),
                _writer(client, "PUT", f"/api/v1/limits/{scope}", item),
            )
        )
    changes += _prompt_changes(client, config.get("prompts") or [])
    return changes


def _prompt_changes(client: Client, items: list[dict[str, Any]]) -> list[Change]:
    changes = []
    for item in items:
        name = str(item.get("name"))
        try:
            have: dict[str, Any] | None = client.request("GET", f"/api/v1/prompts/{name}")
        except KeelAPIError as exc:
            if exc.status != 404:
                raise
            have = None
        body = {**item, "only_if_changed": True}
        change = _diff(
            "prompts",
            name,
            {k: item.get(k) for k in PROMPT_CONTENT if k in item},
            None if have is None else {k: have.get(k) for k in PROMPT_CONTENT},
            _writer(client, "POST", "/api/v1/prompts", body),
        )
        missing_labels = sorted(set(item.get("labels") or []) - set(have["labels"] if have else []))
        if have is not None and missing_labels:
            change.action = "~"
            change.fields.append(f"labels ({', '.join(missing_labels)})")
            change.write = _writer(client, "POST", "/api/v1/prompts", body)
        changes.append(change)
    return changes


def apply(changes: list[Change]) -> int:
    """Write every change; providers first, so routes can name them. Returns the number written."""
    written = 0
    for section in SECTIONS:
        for change in changes:
            if change.section == section and change.write is not None:
                change.write()
                written += 1
    return written

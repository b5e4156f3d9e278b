"""`keel apply -f keel.yaml`: make the server's configuration match a file, one section per registry entry.

The store stays the source of truth; the file is a way to write it. Each section (`register_apply_sections`)
compares its items with what the server has (`=` unchanged, `~` changed, `+` new) and only differences are
written, in the sections' order (providers before the routes that name them), so applying the same file
twice changes nothing. Items the file does not mention are left alone.
"""

import functools
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from keel.client.http import Client


class ApplyError(ValueError):
    pass


@dataclass
class Change:
    section: str
    name: str
    action: str  # "=", "~" or "+"
    fields: list[str]
    write: Callable[[], Any] | None


@dataclass(frozen=True)
class Section:
    """One YAML section: `plan(client, value)` returns a Change per item; lower `order` is written first."""

    name: str
    plan: Callable[[Client, Any], list[Change]]
    order: int = 100


def same(want: Any, have: Any) -> bool:
    """Whether the server's value `have` already says what the file's `want` says (numbers by value)."""
    if isinstance(want, dict) and isinstance(have, dict):
        return all(same(v, have.get(k)) for k, v in want.items())
    if isinstance(want, list) and isinstance(have, list):
        return len(want) == len(have) and all(same(w, h) for w, h in zip(want, have, strict=True))
    if isinstance(want, int | float | Decimal | str) and isinstance(have, int | float | Decimal | str):
        try:
            return Decimal(str(want)) == Decimal(str(have))
        except ArithmeticError:
            return str(want) == str(have)
    return bool(want == have)


def diff(
    section: str, name: str, want: dict[str, Any], have: dict[str, Any] | None, write: Callable[[], Any]
) -> Change:
    if have is None:
        return Change(section, name, "+", sorted(want), write)
    changed = [k for k, v in want.items() if not same(v, have.get(k))]
    return Change(section, name, "~" if changed else "=", changed, write if changed else None)


def writer(client: Client, method: str, path: str, body: dict[str, Any]) -> Callable[[], Any]:
    return functools.partial(client.request, method, path, json=body)


def named_items(client: Client, section: str, path: str, items: Any) -> list[Change]:
    """The common section: a list of `{name: ...}` objects, listed at `GET path` and written by `POST path`
    (create or replace by name)."""
    have = {found["name"]: found for found in client.request("GET", path)["items"]}
    return [
        diff(
            section,
            str(item.get("name")),
            item,
            have.get(str(item.get("name"))),
            writer(client, "POST", path, item),
        )
        for item in items or []
    ]


def ordered(sections: Iterable[tuple[str, Section]]) -> list[Section]:
    return sorted((section for _, section in sections), key=lambda s: (s.order, s.name))


def plan(client: Client, config: dict[str, Any], sections: list[Section]) -> list[Change]:
    known = [s.name for s in sections]
    unknown = set(config) - set(known)
    if unknown:
        raise ApplyError(f"unknown section(s) {', '.join(sorted(unknown))}; known: {', '.join(known)}")
    return [change for s in sections if s.name in config for change in s.plan(client, config[s.name])]


def apply(changes: list[Change], sections: list[Section]) -> int:
    """Write every change, section by section in order. Returns the number written."""
    written = 0
    for section in sections:
        for change in changes:
            if change.section == section.name and change.write is not None:
                change.write()
                written += 1
    return written

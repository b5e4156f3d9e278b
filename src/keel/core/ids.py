"""Prefixed ULIDs (`prj_01J…`): sortable by creation time, readable in logs, and typed by their prefix."""

from ulid import ULID


def new_id(prefix: str) -> str:
    return f"{prefix}_{ULID()}"


def has_prefix(value: str, prefix: str) -> bool:
    return value.startswith(f"{prefix}_") and len(value) == len(prefix) + 27

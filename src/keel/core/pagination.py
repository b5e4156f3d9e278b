"""Keyset pagination over prefixed ULIDs: the cursor is the last id seen, opaque to clients.

Offsets drift when rows are inserted while a client pages; ids do not, and an index on the primary key
answers every page in the same time.
"""

import base64
import binascii
from collections.abc import Callable
from dataclasses import dataclass
from typing import Generic, TypeVar

from keel.core.errors import InvalidInput

T = TypeVar("T")
MAX_LIMIT = 200


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    next_cursor: str | None


def encode_cursor(last_id: str) -> str:
    return base64.urlsafe_b64encode(last_id.encode()).decode().rstrip("=")


def decode_cursor(cursor: str | None) -> str | None:
    if not cursor:
        return None
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise InvalidInput(f"cursor {cursor!r} is not a cursor this API returned") from None
    if "_" not in raw:
        raise InvalidInput(f"cursor {cursor!r} is not a cursor this API returned")
    return raw


def check_limit(limit: int) -> int:
    if not 1 <= limit <= MAX_LIMIT:
        raise InvalidInput(f"limit must be between 1 and {MAX_LIMIT}, got {limit}")
    return limit


def page_of(rows: list[T], limit: int, last_id: Callable[[T], str]) -> Page[T]:
    """Build a page from `limit + 1` fetched rows; the extra row only signals that another page exists."""
    items = rows[:limit]
    more = len(rows) > limit and bool(items)
    return Page(items=items, next_cursor=encode_cursor(last_id(items[-1])) if more else None)

"""Stored span input/output is JSON text when it came from a structured value, plain text otherwise."""

from typing import Any

import orjson


def parse_json_or_text(text: str | None) -> Any:
    """The decoded JSON value, or the text itself when it is not JSON (None stays None)."""
    if text is None:
        return None
    try:
        return orjson.loads(text)
    except orjson.JSONDecodeError:
        return text

"""Map span attributes onto Keel's first-class LLM fields.

One table per field lists the attribute names that carry it, most specific first: OpenTelemetry GenAI
(`gen_ai.*`, current and older names), OpenInference (`llm.*`, `input.value`, …), OpenLLMetry
(`gen_ai.prompt.N.*`, `llm.usage.*`) and Keel's own `keel.*`. Adding a convention means adding names to these
tables, never a branch.
"""

import json
import re
from decimal import Decimal, InvalidOperation
from typing import Any

FIELD_SOURCES: dict[str, tuple[str, ...]] = {
    "model": (
        "gen_ai.response.model",
        "gen_ai.request.model",
        "llm.model_name",
        "llm.response.model",
        "llm.request.model",
    ),
    "provider": ("gen_ai.provider.name", "gen_ai.system", "llm.provider", "llm.system"),
    "operation": ("gen_ai.operation.name",),
    "user_id": ("keel.user", "user.id", "enduser.id", "gen_ai.user.id"),
    "session_id": ("keel.session", "session.id", "gen_ai.conversation.id"),
    "prompt_version": ("keel.prompt.version", "llm.prompt_template.version", "gen_ai.prompt.version"),
    "route": ("keel.route",),
    "variant": ("keel.variant",),
}
INT_SOURCES: dict[str, tuple[str, ...]] = {
    "prompt_tokens": (
        "gen_ai.usage.input_tokens",
        "gen_ai.usage.prompt_tokens",
        "llm.token_count.prompt",
        "llm.usage.prompt_tokens",
    ),
    "completion_tokens": (
        "gen_ai.usage.output_tokens",
        "gen_ai.usage.completion_tokens",
        "llm.token_count.completion",
        "llm.usage.completion_tokens",
    ),
    "total_tokens": ("gen_ai.usage.total_tokens", "llm.token_count.total", "llm.usage.total_tokens"),
    "cached_tokens": (
        "gen_ai.usage.cache_read.input_tokens",
        "gen_ai.usage.cache_read_input_tokens",
        "llm.token_count.prompt_details.cache_read",
        "gen_ai.usage.cached_tokens",
    ),
    "reasoning_tokens": (
        "gen_ai.usage.reasoning.output_tokens",
        "gen_ai.usage.reasoning_tokens",
        "llm.token_count.completion_details.reasoning",
    ),
}
COST_SOURCES = ("keel.cost.usd", "gen_ai.usage.cost", "llm.cost.total")
TTFT_SOURCES = (
    ("keel.ttft_ms", 1.0),
    ("gen_ai.response.time_to_first_chunk", 1000.0),
    ("gen_ai.server.time_to_first_token", 1000.0),
)
TAG_SOURCES = ("keel.tags", "tag.tags", "langfuse.trace.tags")
SPAN_TYPE_SOURCES = ("openinference.span.kind", "traceloop.span.kind", "keel.span.type")
OPERATION_TYPES = {
    "chat": "llm",
    "text_completion": "llm",
    "generate_content": "llm",
    "completion": "llm",
    "embeddings": "embedding",
    "execute_tool": "tool",
    "invoke_agent": "agent",
    "create_agent": "agent",
}
INPUT_SOURCES = ("gen_ai.input.messages", "input.value", "gen_ai.prompt", "traceloop.entity.input")
OUTPUT_SOURCES = ("gen_ai.output.messages", "output.value", "gen_ai.completion", "traceloop.entity.output")
INDEXED_INPUT_PREFIXES = ("llm.input_messages.", "gen_ai.prompt.")
INDEXED_OUTPUT_PREFIXES = ("llm.output_messages.", "gen_ai.completion.")
INDEXED_PREFIXES = INDEXED_INPUT_PREFIXES + INDEXED_OUTPUT_PREFIXES
CONTENT_KEYS = frozenset({*INPUT_SOURCES, *OUTPUT_SOURCES, "gen_ai.system_instructions"})
_INDEXED = re.compile(r"^(\d+)\.(?:message\.)?(.+)$")
_GROUPS: dict[str, tuple[str, ...]] = {
    **FIELD_SOURCES,
    **INT_SOURCES,
    "cost": COST_SOURCES,
    "ttft": tuple(k for k, _ in TTFT_SOURCES),
    "tags": TAG_SOURCES,
    "span_type": SPAN_TYPE_SOURCES,
    "input": INPUT_SOURCES,
    "output": OUTPUT_SOURCES,
}
_RANKS: dict[str, list[tuple[str, int]]] = {}
for _group, _keys in _GROUPS.items():
    for _rank, _key in enumerate(_keys):
        _RANKS.setdefault(_key, []).append((_group, _rank))


def _present(attrs: dict[str, Any]) -> dict[str, tuple[str, ...]]:
    """For each field, the attribute names this span actually carries, best first: one pass over the span's
    attributes instead of probing every known name."""
    found: dict[str, list[tuple[int, str]]] = {}
    for key in attrs:
        for group, rank in _RANKS.get(key, ()):
            found.setdefault(group, []).append((rank, key))
    return {group: tuple(key for _, key in sorted(pairs)) for group, pairs in found.items()}


def llm_fields(attrs: dict[str, Any], max_bytes: int) -> dict[str, Any]:
    """First-class columns for one span's attributes."""
    present = _present(attrs)
    fields: dict[str, Any] = {name: _first_str(attrs, present.get(name, ())) for name in FIELD_SOURCES}
    fields.update({name: _first_int(attrs, present.get(name, ())) for name in INT_SOURCES})
    if fields["total_tokens"] is None and (fields["prompt_tokens"] or fields["completion_tokens"]):
        fields["total_tokens"] = (fields["prompt_tokens"] or 0) + (fields["completion_tokens"] or 0)
    fields["cost_micros"] = _cost_micros(attrs, present.get("cost", ()))
    fields["ttft_ms"] = next(
        (
            float(attrs[k]) * scale
            for k, scale in TTFT_SOURCES
            if k in present.get("ttft", ()) and _is_number(attrs[k])
        ),
        None,
    )
    fields["tags"] = _tags(attrs, present.get("tags", ()))
    span_type = _first_str(attrs, present.get("span_type", ()))
    fields["span_type"] = span_type or OPERATION_TYPES.get(fields["operation"] or "", "") or None
    if fields["span_type"]:
        fields["span_type"] = fields["span_type"].lower()
    indexed = any(key.startswith(INDEXED_PREFIXES) for key in attrs)
    fields["input"] = clip(
        _content(
            attrs,
            present.get("input", ()),
            INDEXED_INPUT_PREFIXES if indexed else (),
            "gen_ai.system_instructions",
        ),
        max_bytes,
    )
    fields["output"] = clip(
        _content(attrs, present.get("output", ()), INDEXED_OUTPUT_PREFIXES if indexed else ()), max_bytes
    )
    return fields


def is_content_key(key: str) -> bool:
    return key in CONTENT_KEYS or key.startswith(INDEXED_PREFIXES)


def clip(value: str | None, max_bytes: int) -> str | None:
    if value is None:
        return None
    encoded = value.encode()
    if len(encoded) <= max_bytes:
        return value
    kept = encoded[:max_bytes].decode(errors="ignore")
    return f"{kept}…[truncated {len(encoded) - len(kept.encode())} bytes]"


def _first_str(attrs: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = attrs.get(key)
        if value is not None and value != "":
            return str(value)[:200]
    return None


def _is_number(value: Any) -> bool:
    return isinstance(value, int | float) and not isinstance(value, bool)


def _first_int(attrs: dict[str, Any], keys: tuple[str, ...]) -> int | None:
    for key in keys:
        value = attrs.get(key)
        if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
            return int(value)
        if isinstance(value, str) and value.isdigit():
            return int(value)
    return None


def _cost_micros(attrs: dict[str, Any], keys: tuple[str, ...]) -> int | None:
    for key in keys:
        value = attrs.get(key)
        if value is None or isinstance(value, bool):
            continue
        try:
            micros = Decimal(str(value)) * 1_000_000
        except InvalidOperation:
            continue
        if micros.is_finite() and micros >= 0:
            return int(micros.to_integral_value())
    return None


def _tags(attrs: dict[str, Any], keys: tuple[str, ...]) -> str | None:
    for key in keys:
        value = attrs.get(key)
        if isinstance(value, str):
            value = [part.strip() for part in value.split(",")]
        if isinstance(value, list | tuple):
            tags = sorted({str(t).replace("|", "/")[:100] for t in value if str(t).strip()})
            if tags:
                return "|" + "|".join(tags) + "|"
    return None


def _content(
    attrs: dict[str, Any],
    keys: tuple[str, ...],
    prefixes: tuple[str, ...],
    system_key: str | None = None,
) -> str | None:
    for key in keys:
        value = attrs.get(key)
        if value is not None and value != "":
            if system_key and attrs.get(system_key) and key == "gen_ai.input.messages":
                return _as_text({"system": _maybe_json(attrs[system_key]), "messages": _maybe_json(value)})
            return _as_text(value)
    for prefix in prefixes:
        messages = _indexed(attrs, prefix)
        if messages:
            return _as_text(messages)
    return None


def _indexed(attrs: dict[str, Any], prefix: str) -> list[dict[str, Any]]:
    """Rebuild `prefix.0.message.role = "user"`-style flattened messages into a list of dicts."""
    found: dict[int, dict[str, Any]] = {}
    for key, value in attrs.items():
        if key.startswith(prefix) and (match := _INDEXED.match(key[len(prefix) :])):
            found.setdefault(int(match.group(1)), {})[match.group(2)] = value
    return [found[index] for index in sorted(found)]


def _maybe_json(value: Any) -> Any:
    if isinstance(value, str) and value[:1] in "[{":
        try:
            return json.loads(value)
        except ValueError:
            return value
    return value


def _as_text(value: Any) -> str:
    return value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, default=str)

"""Anthropic's Messages API behind the OpenAI shape: requests, responses and streams translated both ways.

System and developer messages become `system`; tool calls become `tool_use` blocks and tool results
`tool_result` blocks; OpenAI function tools become Anthropic tools. Streams are rebuilt chunk by chunk
(text deltas, tool-call argument deltas, finish reason, usage) so OpenAI clients see a normal stream.
"""

import time
from collections.abc import Iterable
from typing import Any

import orjson

from keel.core.errors import InvalidInput
from keel.gateway.providers.base import Adapter, ProviderKind, StreamTranslator

VERSION = "2023-06-01"
DEFAULT_MAX_TOKENS = 1024
FINISH = {"end_turn": "stop", "stop_sequence": "stop", "max_tokens": "length", "tool_use": "tool_calls"}


def _text(content: Any) -> str:
    if isinstance(content, str):
        return content
    return "".join(part.get("text", "") for part in content or [] if isinstance(part, dict))


def _blocks(content: Any) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    blocks: list[dict[str, Any]] = []
    for part in content or []:
        if part.get("type") == "text":
            blocks.append({"type": "text", "text": part.get("text", "")})
        elif part.get("type") == "image_url":
            url = str((part.get("image_url") or {}).get("url", ""))
            if url.startswith("data:") and ";base64," in url:
                media, data = url[5:].split(";base64,", 1)
                blocks.append(
                    {"type": "image", "source": {"type": "base64", "media_type": media, "data": data}}
                )
            else:
                blocks.append({"type": "image", "source": {"type": "url", "url": url}})
    return blocks


def _messages(messages: list[dict[str, Any]]) -> tuple[str | None, list[dict[str, Any]]]:
    system = [_text(m.get("content")) for m in messages if m["role"] in ("system", "developer")]
    out: list[dict[str, Any]] = []
    for message in messages:
        role = message["role"]
        if role in ("system", "developer"):
            continue
        if role in ("tool", "function"):
            block = {
                "type": "tool_result",
                "tool_use_id": message.get("tool_call_id", ""),
                "content": _text(message.get("content")),
            }
            out.append({"role": "user", "content": [block]})
            continue
        blocks = _blocks(message.get("content"))
        for call in message.get("tool_calls") or []:
            function = call.get("function") or {}
            try:
                arguments = orjson.loads(function.get("arguments") or "{}")
            except orjson.JSONDecodeError:
                raise InvalidInput("tool_calls[].function.arguments must be a JSON object string") from None
            blocks.append(
                {"type": "tool_use", "id": call.get("id"), "name": function.get("name"), "input": arguments}
            )
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)  # Anthropic wants alternating roles
        else:
            out.append({"role": role, "content": blocks})
    return ("\n\n".join(system) or None), out


def _tools(body: dict[str, Any]) -> dict[str, Any]:
    tools = [
        {
            "name": t["function"]["name"],
            "description": t["function"].get("description", ""),
            "input_schema": t["function"].get("parameters") or {"type": "object", "properties": {}},
        }
        for t in body.get("tools") or []
        if t.get("type") == "function"
    ]
    if not tools:
        return {}
    choice = body.get("tool_choice")
    mapped: dict[str, Any] | None = None
    if choice == "required":
        mapped = {"type": "any"}
    elif choice == "auto":
        mapped = {"type": "auto"}
    elif isinstance(choice, dict) and choice.get("function"):
        mapped = {"type": "tool", "name": choice["function"]["name"]}
    return {"tools": tools, **({"tool_choice": mapped} if mapped else {})}


def _usage(usage: dict[str, Any]) -> dict[str, Any]:
    cached = int(usage.get("cache_read_input_tokens") or 0)
    prompt = int(usage.get("input_tokens") or 0) + cached + int(usage.get("cache_creation_input_tokens") or 0)
    completion = int(usage.get("output_tokens") or 0)
    return {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
        "prompt_tokens_details": {"cached_tokens": cached},
    }


class AnthropicAdapter(Adapter):
    passthrough = False

    def path(self, operation: str) -> str:
        if operation != "chat":
            raise InvalidInput("Anthropic providers serve chat completions only", param="model")
        return "/v1/messages"

    def auth_headers(self, api_key: str) -> dict[str, str]:
        return {"x-api-key": api_key, "anthropic-version": VERSION}

    def encode(self, body: dict[str, Any], model: str, operation: str) -> bytes:
        if (body.get("n") or 1) != 1:
            raise InvalidInput("n > 1 is not supported by Anthropic providers", param="n")
        system, messages = _messages(body["messages"])
        out: dict[str, Any] = {
            "model": model,
            "messages": messages,
            "max_tokens": body.get("max_completion_tokens") or body.get("max_tokens") or DEFAULT_MAX_TOKENS,
        }
        if system:
            out["system"] = system
        for key in ("temperature", "top_p", "stream"):
            if body.get(key) is not None:
                out[key] = body[key]
        if body.get("stop"):
            out["stop_sequences"] = [body["stop"]] if isinstance(body["stop"], str) else body["stop"]
        if isinstance(body.get("user"), str):
            out["metadata"] = {"user_id": body["user"]}
        out.update(_tools(body))
        return orjson.dumps(out)

    def decode(self, content: bytes, operation: str) -> bytes:
        reply = orjson.loads(content)
        text = "".join(b.get("text", "") for b in reply.get("content", []) if b.get("type") == "text")
        calls = [
            {
                "id": b["id"],
                "type": "function",
                "function": {"name": b["name"], "arguments": orjson.dumps(b.get("input", {})).decode()},
            }
            for b in reply.get("content", [])
            if b.get("type") == "tool_use"
        ]
        message: dict[str, Any] = {"role": "assistant", "content": text or None}
        if calls:
            message["tool_calls"] = calls
        return orjson.dumps(
            {
                "id": reply.get("id"),
                "object": "chat.completion",
                "created": int(time.time()),
                "model": reply.get("model"),
                "usage": _usage(reply.get("usage") or {}),
                "choices": [
                    {
                        "index": 0,
                        "message": message,
                        "finish_reason": FINISH.get(reply.get("stop_reason") or "", "stop"),
                    }
                ],
            }
        )

    def stream(self) -> StreamTranslator:
        return AnthropicStream()


class AnthropicStream(StreamTranslator):
    def __init__(self) -> None:
        self.base: dict[str, Any] = {"object": "chat.completion.chunk", "created": int(time.time())}
        self.usage: dict[str, Any] = {}
        self.tools: dict[int, int] = {}

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> str:
        choice = {"index": 0, "delta": delta, "finish_reason": finish}
        return "data: " + orjson.dumps({**self.base, "choices": [choice]}).decode() + "\n"

    def feed(self, line: str) -> Iterable[str]:
        if not line.startswith("data:"):
            return ()
        event = orjson.loads(line[5:].strip())
        kind = event.get("type")
        if kind == "message_start":
            message = event.get("message") or {}
            self.base.update(id=message.get("id"), model=message.get("model"))
            self.usage.update(message.get("usage") or {})
            return (self._chunk({"role": "assistant", "content": ""}),)
        if kind == "content_block_start" and (event.get("content_block") or {}).get("type") == "tool_use":
            block = event["content_block"]
            index = self.tools.setdefault(event.get("index", 0), len(self.tools))
            call = {
                "index": index,
                "id": block.get("id"),
                "type": "function",
                "function": {"name": block.get("name"), "arguments": ""},
            }
            return (self._chunk({"tool_calls": [call]}),)
        if kind == "content_block_delta":
            delta = event.get("delta") or {}
            if delta.get("type") == "text_delta":
                return (self._chunk({"content": delta.get("text", "")}),)
            if delta.get("type") == "input_json_delta":
                index = self.tools.get(event.get("index", 0), 0)
                call = {"index": index, "function": {"arguments": delta.get("partial_json", "")}}
                return (self._chunk({"tool_calls": [call]}),)
        if kind == "message_delta":
            self.usage.update(event.get("usage") or {})
            finish = FINISH.get((event.get("delta") or {}).get("stop_reason") or "", "stop")
            usage_chunk = {**self.base, "choices": [], "usage": _usage(self.usage)}
            return (self._chunk({}, finish), "data: " + orjson.dumps(usage_chunk).decode() + "\n")
        if kind == "message_stop":
            return ("data: [DONE]\n",)
        if kind == "error":
            raise ValueError(f"Anthropic stream error: {(event.get('error') or {}).get('message')}")
        return ()


KIND = ProviderKind(
    name="anthropic",
    description="Anthropic Messages API (translated to and from OpenAI's shape)",
    default_base_url="https://api.anthropic.com",
    needs_base_url=False,
    needs_api_key=True,
    adapter=AnthropicAdapter(),
)

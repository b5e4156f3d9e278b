"""A local Anthropic Messages API for tests: echoes the last user text, calls the first tool when tools are
given, streams the Anthropic event sequence, and answers Anthropic-style errors."""

import json
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route

from tests.stubs.openai_stub import serve

SEEN: list[dict[str, Any]] = []


def _last_text(body: dict[str, Any]) -> str:
    for message in reversed(body["messages"]):
        for block in message["content"]:
            if block.get("type") == "text":
                return str(block["text"])
    return ""


async def messages(request: Request) -> Response:
    body = await request.json()
    SEEN.append({"body": body, "headers": dict(request.headers)})
    if request.headers.get("x-api-key") != "sk-ant-test" or not request.headers.get("anthropic-version"):
        return JSONResponse(
            {"type": "error", "error": {"type": "authentication_error", "message": "invalid x-api-key"}}, 401
        )
    if body["model"] == "overloaded":
        return JSONResponse({"type": "error", "error": {"type": "overloaded_error", "message": "busy"}}, 529)
    usage = {"input_tokens": 9, "output_tokens": 4, "cache_read_input_tokens": 2}
    if body.get("tools"):
        tool = body["tools"][0]["name"]
        content: list[dict[str, Any]] = [
            {"type": "tool_use", "id": "toolu_1", "name": tool, "input": {"city": "Paris"}}
        ]
        stop = "tool_use"
    else:
        content, stop = [{"type": "text", "text": f"echo: {_last_text(body)}"}], "end_turn"
    message = {
        "id": "msg_1",
        "type": "message",
        "role": "assistant",
        "model": body["model"],
        "content": content,
        "stop_reason": stop,
        "usage": usage,
    }
    if not body.get("stream"):
        return JSONResponse(message)

    def events() -> Iterator[str]:
        def event(name: str, data: dict[str, Any]) -> str:
            return f"event: {name}\ndata: {json.dumps({'type': name, **data})}\n\n"

        start = {
            **message,
            "content": [],
            "stop_reason": None,
            "usage": {"input_tokens": 9, "output_tokens": 0},
        }
        yield event("message_start", {"message": start})
        yield event("ping", {})
        if stop == "tool_use":
            yield event("content_block_start", {"index": 0, "content_block": {**content[0], "input": {}}})
            for part in ('{"city": ', '"Paris"}'):
                yield event(
                    "content_block_delta",
                    {"index": 0, "delta": {"type": "input_json_delta", "partial_json": part}},
                )
        else:
            yield event("content_block_start", {"index": 0, "content_block": {"type": "text", "text": ""}})
            for word in content[0]["text"].split(" "):
                yield event(
                    "content_block_delta", {"index": 0, "delta": {"type": "text_delta", "text": word + " "}}
                )
        yield event("content_block_stop", {"index": 0})
        yield event("message_delta", {"delta": {"stop_reason": stop}, "usage": {"output_tokens": 4}})
        yield event("message_stop", {})

    return StreamingResponse(events(), media_type="text/event-stream")


app = Starlette(routes=[Route("/v1/messages", messages, methods=["POST"])])


@contextmanager
def anthropic_stub() -> Iterator[str]:
    with serve(app) as base:
        yield base

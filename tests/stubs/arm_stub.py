"""An OpenAI-compatible upstream whose behaviour a test sets: a fixed delay, and every call whose number
falls in the first `errors` of each ten answering 500. Two of them are a canary's baseline and candidate."""

import asyncio
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from tests.stubs.openai_stub import serve


@dataclass
class Behaviour:
    delay_s: float = 0.01
    errors_per_10: int = 0
    calls: int = 0


def arm_app(behaviour: Behaviour) -> Starlette:
    async def chat(request: Request) -> Response:
        body: dict[str, Any] = await request.json()
        number = behaviour.calls
        behaviour.calls += 1
        await asyncio.sleep(behaviour.delay_s)
        if number % 10 < behaviour.errors_per_10:
            return JSONResponse({"error": {"message": "candidate broke", "type": "server_error"}}, 500)
        return JSONResponse(
            {
                "id": "chatcmpl-arm",
                "object": "chat.completion",
                "created": int(time.time()),
                "model": body["model"],
                "usage": {"prompt_tokens": 5, "completion_tokens": 2, "total_tokens": 7},
                "choices": [
                    {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": "ok"}}
                ],
            }
        )

    return Starlette(routes=[Route("/v1/chat/completions", chat, methods=["POST"])])


@contextmanager
def arm_stub(behaviour: Behaviour) -> Iterator[str]:
    with serve(arm_app(behaviour)) as base:
        yield base + "/v1"

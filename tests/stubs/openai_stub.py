"""A local OpenAI-compatible server for tests: the hosted API is outside our walls, so it is faked here.

Answers `POST /v1/chat/completions` (JSON or SSE stream with a usage chunk) by echoing the last user message,
with deterministic token counts; `"model": "fail"` answers 500 like an upstream outage, `"busy"` 503 with a
reason, a model named in `DOWN` answers 500 until a test takes it out again, and `"obedient"` answers in
JSON once the conversation holds an earlier answer of its own (a model following a correction).
"""

import asyncio
import json
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route


def _reply(body: dict[str, Any]) -> str:
    last = next((m["content"] for m in reversed(body.get("messages", [])) if m.get("role") == "user"), "")
    return f"echo: {last}"


SEEN: list[dict[str, Any]] = []
DOWN: set[str] = set()


async def chat(request: Request) -> Response:
    body = await request.json()
    SEEN.append({"body": body, "authorization": request.headers.get("authorization")})
    model = body.get("model")
    if model == "fail" or model in DOWN:
        return JSONResponse({"error": {"message": "upstream exploded", "type": "server_error"}}, 500)
    if model == "busy":
        return JSONResponse({"error": {"message": "no capacity for this model", "type": "server_error"}}, 503)
    if model == "bad-request":
        return JSONResponse(
            {
                "error": {
                    "message": "temperature too high",
                    "type": "invalid_request_error",
                    "param": "temperature",
                    "code": None,
                }
            },
            400,
        )
    if model == "garbage":
        return Response("<html>oops</html>", 200, media_type="text/html")
    if model == "slow":
        await asyncio.sleep(2)
    text = _reply(body)
    if model == "obedient" and any(m.get("role") == "assistant" for m in body.get("messages", [])):
        text = json.dumps({"answer": text})  # a model that, corrected once, answers in JSON
    usage: dict[str, Any] | None = {
        "prompt_tokens": 11,
        "completion_tokens": len(text.split()),
        "total_tokens": 11 + len(text.split()),
        "prompt_tokens_details": {"cached_tokens": 4},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }
    if model == "no-usage":  # servers that report no token counts (older llama.cpp/Ollama builds)
        usage = None
    base = {"id": "chatcmpl-stub", "created": int(time.time()), "model": body["model"] + "-2026"}
    if not body.get("stream"):
        return JSONResponse(
            {
                **base,
                "object": "chat.completion",
                **({"usage": usage} if usage else {}),
                "choices": [
                    {"index": 0, "finish_reason": "stop", "message": {"role": "assistant", "content": text}}
                ],
            }
        )

    def events() -> Iterator[str]:
        chunk = {**base, "object": "chat.completion.chunk"}
        for word in text.split(" "):
            delta = {"index": 0, "delta": {"content": word + " "}, "finish_reason": None}
            yield f"data: {json.dumps({**chunk, 'choices': [delta]})}\n\n"
            if model == "cut":
                raise ConnectionResetError("stub cut the stream")
        stop = {"index": 0, "delta": {}, "finish_reason": "stop"}
        yield f"data: {json.dumps({**chunk, 'choices': [stop]})}\n\n"
        if usage:
            yield f"data: {json.dumps({**chunk, 'choices': [], 'usage': usage})}\n\n"
        yield "data: [DONE]\n\n"

    return StreamingResponse(events(), media_type="text/event-stream")


async def embeddings(request: Request) -> Response:
    body = await request.json()
    SEEN.append({"body": body, "authorization": request.headers.get("authorization")})
    items = body["input"] if isinstance(body["input"], list) else [body["input"]]
    data = [
        {"object": "embedding", "index": i, "embedding": [float(len(str(t))), 0.5, -0.5]}
        for i, t in enumerate(items)
    ]
    tokens = sum(len(str(t).split()) for t in items)
    return JSONResponse(
        {
            "object": "list",
            "data": data,
            "model": body["model"],
            "usage": {"prompt_tokens": tokens, "total_tokens": tokens},
        }
    )


app = Starlette(
    routes=[
        Route("/v1/chat/completions", chat, methods=["POST"]),
        Route("/v1/embeddings", embeddings, methods=["POST"]),
    ]
)


@contextmanager
def openai_stub() -> Iterator[str]:
    """Serve the stub on a free port; yields its base URL (ending in /v1)."""
    with serve(app) as base:
        yield base + "/v1"


@contextmanager
def serve(asgi: Any) -> Iterator[str]:
    """Serve an ASGI app on a free port in a thread; yields http://127.0.0.1:PORT."""
    config = uvicorn.Config(asgi, host="127.0.0.1", port=0, log_level="warning", lifespan="off")
    server = uvicorn.Server(config)
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(5)


if __name__ == "__main__":  # `python -m tests.stubs.openai_stub PORT`: a separate process for benchmarks
    import sys

    uvicorn.run(app, host="127.0.0.1", port=int(sys.argv[1]), log_level="warning", access_log=False)

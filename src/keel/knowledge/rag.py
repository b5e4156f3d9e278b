"""Retrieval-augmented answers through the gateway: `{"knowledge": {"bases": [...], "top_k": 5}}` on a chat
completion retrieves chunks for the last user message, puts them before the conversation as numbered
context, and returns citations. The retrieval is its own span (chunk ids and scores) under the call's span.
"""

import time
from dataclasses import dataclass, field
from typing import Any

import orjson

from keel.core.auth import Principal
from keel.core.errors import InvalidInput
from keel.knowledge import service
from keel.prompts import templates

INSTRUCTIONS = (
    "Answer the question using the numbered context below. Cite the passages you use as [1], [2], ... "
    "If the context does not contain the answer, say that you do not know."
)


@dataclass
class Retrieval:
    bases: list[str]
    hits: list[dict[str, Any]] = field(default_factory=list)
    started_ns: int = 0
    ended_ns: int = 0

    def citations(self) -> list[dict[str, Any]]:
        return [
            {
                "index": n,
                "source": h["source"],
                "document_id": h["document_id"],
                "chunk_id": h["chunk_id"],
                "score": h["score"],
            }
            for n, h in enumerate(self.hits, 1)
        ]

    def span_attributes(self) -> dict[str, Any]:
        return {
            "openinference.span.kind": "RETRIEVER",
            "keel.knowledge.bases": self.bases,
            "keel.retrieval.chunks": orjson.dumps(
                [{"chunk_id": h["chunk_id"], "score": h["score"], "source": h["source"]} for h in self.hits]
            ).decode(),
        }


def _question(messages: list[dict[str, Any]]) -> str:
    for message in reversed(messages):
        if message.get("role") == "user":
            content = message.get("content")
            if isinstance(content, str):
                return content
            if isinstance(content, list):
                return " ".join(p.get("text", "") for p in content if isinstance(p, dict))
    raise InvalidInput("retrieval needs a user message to search for", param="messages")


def _options(value: Any) -> tuple[list[str], int, str]:
    if not isinstance(value, dict):
        raise InvalidInput(
            '`knowledge` must be an object like {"bases": ["handbook"], "top_k": 5}', param="knowledge"
        )
    bases = value.get("bases")
    if not isinstance(bases, list) or not bases or not all(isinstance(b, str) and b for b in bases):
        raise InvalidInput(
            "`knowledge.bases` must be a non-empty list of knowledge base names", param="knowledge.bases"
        )
    top_k = value.get("top_k", 5)
    if not isinstance(top_k, int) or isinstance(top_k, bool) or not 1 <= top_k <= 50:
        raise InvalidInput("`knowledge.top_k` must be an integer from 1 to 50", param="knowledge.top_k")
    prompt = value.get("prompt")
    if prompt is not None and (not isinstance(prompt, str) or not prompt):
        raise InvalidInput(
            "`knowledge.prompt` must be a prompt reference like rag@production", param="knowledge.prompt"
        )
    mode = value.get("mode", "hybrid")
    if mode not in ("vector", "keyword", "hybrid"):
        raise InvalidInput("`knowledge.mode` must be vector, keyword or hybrid", param="knowledge.mode")
    return bases, top_k, mode


def retrieve(
    knowledge: Any, principal: Principal, options: Any, body: dict[str, Any], prompt: Any = None
) -> Retrieval:
    """Search every named base (runs in a worker thread), keep the best `top_k`, add the context message.

    `prompt` (a resolved registry prompt, from `knowledge.prompt`) replaces the default instructions: it is
    rendered with `context` and `question`, a text template as one system message, a chat prompt as its
    messages."""
    bases, top_k, mode = _options(options)
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise InvalidInput("`messages` must be a non-empty array", param="messages")
    question = _question(messages)
    retrieval = Retrieval(bases, started_ns=time.time_ns())
    hits: list[dict[str, Any]] = []
    with knowledge.runtime.sessions() as session:
        found = [service.get(session, principal, name) for name in bases]
    for kb in found:
        hits += knowledge.search(principal, kb, question, top_k, mode, {}, None)
    retrieval.hits = sorted(hits, key=lambda h: -h["score"])[:top_k]
    retrieval.ended_ns = time.time_ns()
    context = "\n\n".join(f"[{n}] ({h['source']}) {h['text']}" for n, h in enumerate(retrieval.hits, 1))
    context = context or "(no passages found)"
    added = [{"role": "system", "content": f"{INSTRUCTIONS}\n\n{context}"}]
    if prompt is not None:
        values = {"context": context, "question": question}
        rendered, text = templates.render(prompt.messages, prompt.template, prompt.variables, values)
        added = rendered if rendered is not None else [{"role": "system", "content": text or ""}]
    first_other = next((i for i, m in enumerate(messages) if m.get("role") not in ("system", "developer")), 0)
    body["messages"] = [*messages[:first_other], *added, *messages[first_other:]]
    return retrieval

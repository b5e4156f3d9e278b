"""Dataset items as training examples: a chat (the prompt) and the answer the model should learn to give.

Accepted inputs are what traces and imports produce: a list of `{role, content}` messages,
`{"messages": [...]}` or a plain string (one user turn); the expected answer is text or an assistant
message. Anything else is refused with the item's key, so a job never trains on what it half understood.
"""

from dataclasses import dataclass
from typing import Any

ROLES = frozenset({"system", "user", "assistant", "developer", "tool"})
MAX_REPORTED = 5


@dataclass(frozen=True)
class Example:
    key: str
    messages: list[dict[str, str]]
    answer: str

    def as_json(self) -> dict[str, Any]:
        return {"key": self.key, "messages": self.messages, "answer": self.answer}


class BadExamples(ValueError):
    """Some items cannot be trained on; the message lists the first few with the reason."""


def _messages(value: Any) -> list[dict[str, str]]:
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("input is empty")
        return [{"role": "user", "content": value}]
    if isinstance(value, dict) and "messages" in value:
        value = value["messages"]
    if not isinstance(value, list) or not value:
        raise ValueError(
            'input must be a chat (a list of {"role", "content"} messages), {"messages": [...]} or a string; '
            f"got {type(value).__name__}"
        )
    messages = []
    for number, message in enumerate(value):
        if not isinstance(message, dict) or message.get("role") not in ROLES:
            raise ValueError(f"message {number} has no valid role (one of {', '.join(sorted(ROLES))})")
        content = message.get("content")
        if isinstance(content, list):
            content = "".join(p.get("text", "") for p in content if isinstance(p, dict))
        if not isinstance(content, str):
            raise ValueError(f"message {number} has no text content")
        role = "system" if message["role"] == "developer" else message["role"]
        messages.append({"role": role, "content": content})
    return messages


def _answer(value: Any) -> str:
    if isinstance(value, list) and value and isinstance(value[-1], dict):
        value = value[-1]
    if isinstance(value, dict):
        value = value.get("content", value.get("answer"))
    if not isinstance(value, str) or not value.strip():
        raise ValueError("expected must be the answer to learn (text or an assistant message)")
    return value


def to_example(key: str, input_value: Any, expected: Any) -> Example:
    return Example(key, _messages(input_value), _answer(expected))


def to_examples(items: list[tuple[str, Any, Any]]) -> list[Example]:
    """`(key, input, expected)` rows → examples, or `BadExamples` naming the bad items (first few shown)."""
    good, bad = [], []
    for key, input_value, expected in items:
        try:
            good.append(to_example(key, input_value, expected))
        except ValueError as exc:
            bad.append(f"item {key}: {exc}")
    if bad:
        shown = "; ".join(bad[:MAX_REPORTED])
        more = f" (and {len(bad) - MAX_REPORTED} more)" if len(bad) > MAX_REPORTED else ""
        raise BadExamples(f"{len(bad)} of {len(items)} items cannot be trained on: {shown}{more}")
    return good

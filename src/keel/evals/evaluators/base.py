"""What an evaluator is: a name, the fields it needs, and a function from samples to metric values.

Evaluators score a batch at once (`score(samples, params, ctx)`), so ones with expensive setup (ROUGE's
scorer, an embedding model) pay it once per batch. A sample an evaluator cannot score raises nothing: its
entry is a `Failed(reason)`, reported per item and counted, never scored 0.
"""

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, Protocol

Metrics = dict[str, float]


@dataclass(frozen=True)
class Sample:
    input: Any
    output: Any
    expected: Any = None
    metadata: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Failed:
    reason: str


@dataclass(frozen=True)
class Judged:
    """Metrics with an explanation (LLM-as-judge reasoning)."""

    metrics: Metrics
    reason: str


Result = Metrics | Judged | Failed


class EvalContext(Protocol):
    """What evaluators that call models get: embeddings and chat completions through the gateway."""

    def embed(self, texts: list[str], model: str) -> list[list[float]]: ...

    def chat(self, body: dict[str, Any]) -> str: ...

    def prompt(self, ref: str) -> Any: ...


Scorer = Callable[[Sequence[Sample], dict[str, Any], EvalContext | None], list[Result]]


@dataclass(frozen=True)
class Evaluator:
    name: str
    description: str
    metrics: tuple[str, ...]
    needs_expected: bool
    score: Scorer
    params: dict[str, str] = field(default_factory=dict)  # parameter → what it means


def text(value: Any) -> str:
    """A model output or reference as text: strings as they are, chat messages by their content."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and isinstance(value.get("content"), str):
        return str(value["content"])
    if isinstance(value, list) and value and all(isinstance(m, dict) for m in value):
        return str(value[-1].get("content", ""))
    return str(value)


def each(samples: Sequence[Sample], needs_expected: bool, one: Callable[[Sample], Result]) -> list[Result]:
    """Apply `one` per sample, turning missing references and errors into per-item failures."""
    results: list[Result] = []
    for sample in samples:
        if needs_expected and (sample.expected is None or sample.expected == ""):
            results.append(Failed("the item has no `expected` value to compare with"))
            continue
        try:
            results.append(one(sample))
        except (ValueError, TypeError, KeyError) as exc:
            results.append(Failed(str(exc) or type(exc).__name__))
    return results

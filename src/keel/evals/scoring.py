"""Run an experiment's evaluators over a batch of outputs: per item, metric values, failures and reasons.

An item whose task failed gets no scores (its error is the result). An evaluator that fails for an item
records why under each of its metrics, and one that fails for the whole batch (bad params) records that
for every item: nothing is silently scored 0, and the summary counts these failures.
"""

from dataclasses import dataclass, field
from typing import Any

from keel.evals.evaluators.base import EvalContext, Evaluator, Failed, Judged, Sample
from keel.plugins.registry import Registry


@dataclass
class Scored:
    scores: dict[str, float] = field(default_factory=dict)
    errors: dict[str, str] = field(default_factory=dict)
    reasons: dict[str, str] = field(default_factory=dict)


def score(
    specs: list[dict[str, Any]],
    registry: Registry[Evaluator],
    samples: list[Sample | None],
    ctx: EvalContext | None,
) -> list[Scored]:
    """`samples[i]` is None when item i's task failed; it is skipped by every evaluator."""
    scored = [Scored() for _ in samples]
    live = [i for i, s in enumerate(samples) if s is not None]
    batch = [s for s in samples if s is not None]
    for spec in specs:
        evaluator = registry.get(spec["name"])
        params = spec.get("params") or {}
        try:
            results = evaluator.score(batch, params, ctx) if batch else []
        except (ValueError, TypeError, KeyError) as exc:
            for index in live:
                for metric in evaluator.metrics:
                    scored[index].errors[metric] = f"{evaluator.name}: {exc}"
            continue
        for index, result in zip(live, results, strict=True):
            target = scored[index]
            if isinstance(result, Failed):
                for metric in evaluator.metrics:
                    target.errors[metric] = result.reason
            elif isinstance(result, Judged):
                target.scores.update(result.metrics)
                for metric in result.metrics:
                    target.reasons[metric] = result.reason
            else:
                target.scores.update(result)
    return scored


def check_specs(specs: list[dict[str, Any]], registry: Registry[Evaluator]) -> None:
    from keel.core.errors import InvalidInput, NotFound

    for spec in specs:
        try:
            registry.get(spec["name"])
        except NotFound as exc:
            raise InvalidInput(exc.detail, param="evaluators") from None
